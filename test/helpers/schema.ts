// A small shop with enough generated rows for realistic plans. Deterministic (no random()).
export const SHOP_SCHEMA = `
CREATE TABLE customers (
  id          bigint PRIMARY KEY,
  email       varchar(255) NOT NULL,
  name        text NOT NULL,
  country     text NOT NULL,
  status      text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX customers_email_idx ON customers (email);
CREATE INDEX customers_created_at_idx ON customers (created_at);

CREATE TABLE products (
  id     bigint PRIMARY KEY,
  sku    text NOT NULL UNIQUE,
  title  text NOT NULL,
  price  numeric(10,2) NOT NULL
);

CREATE TABLE orders (
  id           bigint PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES customers (id),
  status       text NOT NULL,
  total        numeric(12,2) NOT NULL,
  created_at   timestamptz NOT NULL,
  note         text
);

CREATE TABLE order_items (
  order_id    bigint NOT NULL REFERENCES orders (id),
  product_id  bigint NOT NULL REFERENCES products (id),
  quantity    int NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE countries (
  code  text PRIMARY KEY,
  name  text NOT NULL
);

INSERT INTO countries VALUES ('DE','Germany'),('FR','France'),('US','United States'),('JP','Japan'),('BR','Brazil');

INSERT INTO customers
SELECT g,
       'user' || g || '@example.com',
       'Customer ' || g,
       (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5],
       CASE WHEN g % 100 = 0 THEN 'blocked' WHEN g % 10 = 0 THEN 'inactive' ELSE 'active' END,
       timestamptz '2020-01-01' + (g * interval '37 minutes')
FROM generate_series(1, 50000) g;

INSERT INTO products
SELECT g, 'SKU-' || g, 'Product ' || g, (g % 500) + 0.99
FROM generate_series(1, 2000) g;

INSERT INTO orders
SELECT g,
       1 + (g * 7919) % 50000,
       CASE WHEN g % 50 = 0 THEN 'refunded' WHEN g % 5 = 0 THEN 'pending' ELSE 'shipped' END,
       (g % 1000) + 0.5,
       timestamptz '2021-01-01' + (g * interval '11 minutes'),
       NULL
FROM generate_series(1, 120000) g;

INSERT INTO order_items
SELECT o, 1 + (o * 31 + k) % 2000, 1 + k
FROM generate_series(1, 120000) o, generate_series(0, 1) k;

-- Support tickets: a nullable foreign key without an index, a skewed state ('closed' 90 %, 'escalated' 2 %),
-- a char(n) code (compared with text, it is cast) and free text.
CREATE TABLE tickets (
  id           bigint PRIMARY KEY,
  customer_id  bigint REFERENCES customers (id),
  state        text NOT NULL,
  priority     int NOT NULL,
  ref_code     char(10) NOT NULL,
  subject      text NOT NULL,
  opened_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX tickets_ref_code_idx ON tickets (ref_code);
CREATE INDEX tickets_opened_at_idx ON tickets (opened_at);
INSERT INTO tickets
SELECT g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + (g * 13) % 50000 END,
       CASE WHEN g % 50 = 0 THEN 'escalated' WHEN g % 10 = 0 THEN 'open' ELSE 'closed' END,
       1 + g % 4,
       lpad(g::text, 10, '0'),
       'Ticket ' || g || CASE WHEN g % 3 = 0 THEN ' refund request' ELSE ' delivery question' END,
       timestamptz '2022-01-01' + (g * interval '13 minutes')
FROM generate_series(1, 60000) g;
-- A partitioned table: indexes on it are created ON ONLY the parent, then per partition.
CREATE TABLE events (
  id           bigint NOT NULL,
  customer_id  bigint NOT NULL,
  kind         text NOT NULL,
  created_at   timestamptz NOT NULL
) PARTITION BY RANGE (created_at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO events
SELECT g, 1 + (g * 17) % 50000, (ARRAY['view', 'click', 'buy'])[1 + g % 3], timestamptz '2023-01-01' + (g * interval '10 minutes')
FROM generate_series(1, 100000) g;

ANALYZE;
`;
