-- W3: one page deep in a keyset walk of orders (the gateway's $skiptoken becomes
-- a keyset predicate on the key). The position is random in the walked range.
\set k random(852000, 950000)
SELECT "order_id", "customer_id", "order_date", "status", "total" FROM "erp"."orders" WHERE "order_id" > :k ORDER BY "order_id" LIMIT 2001;
