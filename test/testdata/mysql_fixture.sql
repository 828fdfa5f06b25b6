-- End-to-end fixture for MariaDB 10.7+ (uuid, utf8mb4_nopad_bin; the
-- session has ANSI_QUOTES). The database's default collation is
-- utf8mb4_general_ci (case-insensitive, pad space): the gateway must still
-- compare and order exactly.
CREATE TABLE "Customers" (
  "CustomerID"  varchar(10) PRIMARY KEY COMMENT 'ERP customer number',
  "Name"        varchar(100) NOT NULL,
  "City"        varchar(60),
  "CreditLimit" decimal(18,2),
  "Active"      boolean NOT NULL DEFAULT true,
  "CreatedAt"   timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) COMMENT 'Customers of the ERP';

CREATE TABLE "Orders" (
  "OrderID"    bigint AUTO_INCREMENT PRIMARY KEY,
  "CustomerID" varchar(10) NOT NULL,
  "OrderDate"  date NOT NULL,
  "Total"      decimal(18,2) NOT NULL CHECK ("Total" >= 0),
  "Status"     varchar(20) NOT NULL DEFAULT 'Open',
  CONSTRAINT "orders_customer" FOREIGN KEY ("CustomerID") REFERENCES "Customers" ("CustomerID")
) AUTO_INCREMENT = 20000;

CREATE TABLE "order_lines" (
  "order_id" bigint NOT NULL,
  "line_no"  smallint NOT NULL,
  "sku"      char(8) NOT NULL,
  "quantity" int NOT NULL,
  PRIMARY KEY ("order_id", "line_no"),
  CONSTRAINT "lines_order" FOREIGN KEY ("order_id") REFERENCES "Orders" ("OrderID") ON DELETE CASCADE
);

CREATE TABLE "line_notes" (
  "note_id"  int PRIMARY KEY,
  "order_id" bigint,
  "line_no"  smallint,
  "note"     varchar(200) NOT NULL,
  CONSTRAINT "note_line" FOREIGN KEY ("order_id", "line_no") REFERENCES "order_lines" ("order_id", "line_no") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "all_types" (
  "id"          int PRIMARY KEY,
  "c_bool"      tinyint(1),
  "c_tinyint"   tinyint,
  "c_utiny"     tinyint unsigned,
  "c_smallint"  smallint,
  "c_usmall"    smallint unsigned,
  "c_medium"    mediumint,
  "c_int"       int,
  "c_uint"      int unsigned,
  "c_zerofill"  int(6) unsigned zerofill,
  "c_bigint"    bigint,
  "c_ubig"      bigint unsigned,
  "c_decimal"   decimal(12,3),
  "c_float"     float,
  "c_double"    double,
  "c_char"      char(5),
  "c_varchar"   varchar(20),
  "c_latin1"    varchar(20) CHARACTER SET latin1,
  "c_text"      text,
  "c_json"      json,
  "c_enum"      enum('happy','sad'),
  "c_set"       set('a','b','c'),
  "c_date"      date,
  "c_datetime"  datetime(6),
  "c_timestamp" timestamp(6) NULL DEFAULT NULL,
  "c_time"      time(6),
  "c_year"      year,
  "c_binary"    binary(3),
  "c_varbinary" varbinary(10),
  "c_blob"      blob,
  "c_bit"       bit(4),
  "c_uuid"      uuid
);

-- Case variants and trailing spaces need a binary no-pad key collation to
-- be distinct keys at all; "label" holds the same texts under the
-- database's case-insensitive default.
CREATE TABLE "codes" (
  "code"  varchar(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY,
  "label" varchar(20) NOT NULL,
  "n"     int NOT NULL
);

CREATE VIEW "open_orders" AS
  SELECT "OrderID", "CustomerID", "Total" FROM "Orders" WHERE "Status" = 'Open';

INSERT INTO "Customers" VALUES
  ('ALFKI',   'Alfreds Futterkiste',  'Berlin',   12000.00, true,  '2019-03-01 10:15:30.123456'),
  ('ANATR',   'Ana Trujillo',         'México D.F.', 500.50, true, '2020-07-15 00:00:00'),
  ('O''BRIEN','O''Brien & Sons',      'Dublin',   NULL,     false, '2024-01-15 23:59:59.999999'),
  ('BERGS',   'Berglunds snabbköp',   NULL,       0.00,     true,  '2023-12-31 12:00:00'),
  ('UNI',     'Zürich Ümlaut 日本 😀', 'Zürich',  NULL,     true,  '2021-01-01 00:00:00');

INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES
  (10248, 'ALFKI',    '2024-01-15', 100.50, 'Open'),
  (10249, 'ALFKI',    '2024-01-16', 250.00, 'Shipped'),
  (10250, 'ANATR',    '2024-02-29', 99.99,  'Open');
ALTER TABLE "Orders" AUTO_INCREMENT = 20000;

INSERT INTO "order_lines" VALUES (10248, 1, 'SKU-0001', 2), (10248, 2, 'SKU-2', 1), (10249, 1, 'SKU-0003', 10);
INSERT INTO "line_notes" VALUES (1, 10248, 1, 'gift wrap'), (2, 10248, 1, 'deliver before noon'), (3, 10249, 1, 'fragile'), (4, NULL, NULL, 'unassigned');

INSERT INTO "all_types" VALUES
  (1, 1, -128, 255, -32768, 65535, -8388608, -2147483648, 4294967295, 42, -9223372036854775808,
   18446744073709551615, 123456789.123, 1.5, 2.718281828459045, 'ab', 'varchar', 'café', 'plain 😀',
   '{"a": 1}', 'happy', 'a,c', '2024-02-29', '2024-01-15 10:30:00.5', '2024-01-15 10:30:00.123456',
   '23:59:59.999999', 2024, 'ab', X'00FF10', X'DEADBEEF', b'1010', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
  (2, 0, 127, 0, 32767, 0, 8388607, 2147483647, 0, 0, 9223372036854775807,
   0, -0.001, -0.5, -1e300, '', '', '', 'quote '' and "dq" \ back',
   '[]', 'sad', '', '1000-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:01',
   '00:00:00', 1901, '', X'', X'', b'0', '00000000-0000-0000-0000-000000000000'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Keys that a case-insensitive, pad-space collation would confuse.
INSERT INTO "codes" VALUES
  ('abc', 'abc', 1), ('ABC', 'ABC', 2), ('Abc', 'Abc', 3), ('abc ', 'abc ', 4), ('abc  ', 'abc  ', 5), ('ab', 'ab', 6),
  ('😀', '😀', 7), ('é', 'é', 8), ('e', 'e', 9), ('E', 'E', 10), ('z', 'z', 11), ('Z', 'Z', 12), (' abc', ' abc', 13),
  ('ab_c', 'ab_c', 14), ('ab%c', 'ab%c', 15);
