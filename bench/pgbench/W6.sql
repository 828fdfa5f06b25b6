-- W6: the Salesforce list view: $select 4 columns, $count=true, $top=26 (page + count).
SELECT "order_id", "customer_id", "status", "total" FROM "erp"."orders" ORDER BY "order_id" LIMIT 26;
SELECT count(*) FROM "erp"."orders";
