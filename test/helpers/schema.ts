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

ANALYZE;
`;
