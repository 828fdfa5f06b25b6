-- W5: $search=Tokyo on customers, $top=25: case-insensitive substring over the text columns.
SELECT "customer_id", "name", "city", "country", "email", "created_at", "credit_limit", "active" FROM "erp"."customers" WHERE ("customer_id" ILIKE '%Tokyo%' OR "name" ILIKE '%Tokyo%' OR "city" ILIKE '%Tokyo%' OR "country" ILIKE '%Tokyo%' OR "email" ILIKE '%Tokyo%') ORDER BY "customer_id" LIMIT 25;
