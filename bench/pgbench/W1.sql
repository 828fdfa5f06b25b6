-- W1: a 2,000-row page of orders (5 columns, status = 'Open', ordered by key).
-- Hand-written mirror of odatagw's SQL; run.sh replaces it with the SQL captured
-- from the gateway's debug log when the gateway runs (see README).
SELECT "order_id", "customer_id", "order_date", "status", "total" FROM "erp"."orders" WHERE "status" = 'Open' ORDER BY "order_id" LIMIT 2001;
