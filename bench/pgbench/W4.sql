-- W4: $count with a filter.
SELECT count(*) FROM "erp"."orders" WHERE "status" = 'Open';
