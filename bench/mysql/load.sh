#!/usr/bin/env bash
# bench/mysql/load.sh: a row-for-row copy of the shared ERP data set from the
# PostgreSQL bench database into MySQL/MariaDB (COPY ... TO STDOUT piped into
# LOAD DATA LOCAL INFILE). Idempotent: skipped when the row counts match.
#
#   ODATAGW_BENCH_DSN   PostgreSQL source, loaded by bench/run.sh
#                       [postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable]
#   BENCH_MY_HOST [127.0.0.1]  BENCH_MY_PORT [3306]  BENCH_MY_USER [root]  BENCH_MY_DB [odatagw_bench]
#   MYSQL_PWD           the MySQL password, if any (read by the client)
set -euo pipefail
PG="${ODATAGW_BENCH_DSN:-postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable}"
HOST="${BENCH_MY_HOST:-127.0.0.1}" PORT="${BENCH_MY_PORT:-3306}" USER_="${BENCH_MY_USER:-root}" DB="${BENCH_MY_DB:-odatagw_bench}"
client="$(command -v mariadb || command -v mysql)"
my() { "$client" -h "$HOST" -P "$PORT" -u "$USER_" --local-infile=1 --default-character-set=utf8mb4 "$@"; }

pg_count() { psql "$PG" -Atc "SELECT count(*) FROM erp.$1"; }
my_count() { my -N -e "SELECT count(*) FROM \`$DB\`.\`$1\`" 2>/dev/null || echo -1; }

same=1
for t in customers products orders order_lines; do
  [ "$(pg_count "$t")" = "$(my_count "$t")" ] || same=0
done
if [ "$same" = 1 ]; then
  echo "mysql-load: $DB already holds the data set"
  exit 0
fi

# The same shape as ../shared/bench/erp_seed.sql. Keys are binary no-pad so
# that exact key lookups and keyset pages use the index; text columns the
# gateway filters on keep the server's default (case-insensitive) collation.
my -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4;"
my "$DB" <<'SQL'
CREATE TABLE customers (
  customer_id  varchar(16) COLLATE utf8mb4_nopad_bin PRIMARY KEY,
  name         varchar(255) NOT NULL,
  city         varchar(255),
  country      char(2) NOT NULL,
  email        varchar(255),
  created_at   timestamp(6) NOT NULL,
  credit_limit decimal(12,2) NOT NULL DEFAULT 0,
  active       boolean NOT NULL DEFAULT true
);
CREATE TABLE products (
  product_id   int PRIMARY KEY,
  sku          varchar(64) COLLATE utf8mb4_nopad_bin NOT NULL UNIQUE,
  name         varchar(255) NOT NULL,
  category     varchar(64) NOT NULL,
  unit_price   decimal(10,2) NOT NULL,
  discontinued boolean NOT NULL DEFAULT false
);
CREATE TABLE orders (
  order_id     bigint PRIMARY KEY,
  customer_id  varchar(16) COLLATE utf8mb4_nopad_bin NOT NULL,
  order_date   date NOT NULL,
  status       varchar(32) NOT NULL,
  total        decimal(14,2) NOT NULL,
  shipped_at   timestamp(6) NULL,
  notes        text
);
CREATE TABLE order_lines (
  order_id     bigint NOT NULL,
  line_no      smallint NOT NULL,
  product_id   int NOT NULL,
  quantity     int NOT NULL,
  unit_price   decimal(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
SQL

ts() { echo "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"; }
load() { # table select-list
  local start=$SECONDS
  psql "$PG" -Atc "COPY (SELECT $2 FROM erp.$1 ORDER BY 1) TO STDOUT" |
    my "$DB" -e "SET time_zone = '+00:00'; SET unique_checks = 0; SET foreign_key_checks = 0;
      LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE \`$1\` CHARACTER SET utf8mb4"
  echo "mysql-load: $1 $(my_count "$1") rows in $((SECONDS - start)) s"
}
load customers "customer_id, name, city, country, email, $(ts created_at), credit_limit, active::int"
load products "product_id, sku, name, category, unit_price, discontinued::int"
load orders "order_id, customer_id, order_date, status, total, $(ts shipped_at), notes"
load order_lines "order_id, line_no, product_id, quantity, unit_price"

# Indexes and foreign keys after the load, as the seed does.
my "$DB" -e "
ALTER TABLE orders ADD INDEX (customer_id), ADD INDEX (order_date),
  ADD FOREIGN KEY (customer_id) REFERENCES customers (customer_id);
ALTER TABLE order_lines ADD FOREIGN KEY (order_id) REFERENCES orders (order_id),
  ADD FOREIGN KEY (product_id) REFERENCES products (product_id);
ANALYZE TABLE customers, products, orders, order_lines;" >/dev/null
for t in customers products orders order_lines; do
  [ "$(pg_count "$t")" = "$(my_count "$t")" ] || { echo "mysql-load: $t differs" >&2; exit 1; }
done
echo "mysql-load: done"
