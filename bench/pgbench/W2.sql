-- W2: key lookup of one customer (all columns).
SELECT "customer_id", "name", "city", "country", "email", "created_at", "credit_limit", "active" FROM "erp"."customers" WHERE "customer_id" = 'C0012345';
