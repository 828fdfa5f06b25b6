-- W6e: the list view on a set with count: estimated (orders: ~1M rows, above
-- count_exact_below): the planner's estimate instead of count(*), then the page.
EXPLAIN (FORMAT JSON) SELECT 1 FROM "erp"."orders";
SELECT "order_id", "customer_id", "status", "total" FROM "erp"."orders" ORDER BY "order_id" LIMIT 26;
