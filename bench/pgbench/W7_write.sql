-- W7 write: PATCH orders(:id) {"status": <the status the seed gave it>}, so the
-- data set does not drift between runs. run.sh mixes it 1:9 with W6.sql.
\set id random(1, 1000000)
UPDATE "erp"."orders" SET "status" = (ARRAY['Draft','Open','Shipped','Invoiced','Cancelled'])[1 + :id % 5] WHERE "order_id" = :id RETURNING "order_id", "customer_id", "order_date", "status", "total", "shipped_at", "notes";
