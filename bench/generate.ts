// Generated inputs: the bench database's schema and data, and SQL and TypeScript files of any size over it.
// Everything is a function of a seed, so a run can be repeated exactly and two sizes share one mix.

/** mulberry32: small, fast, good enough to pick templates and literals. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TableSpec {
  name: string;
  rows: number;
  /** Parent table and the column pointing at it. */
  parent?: { table: string; column: string; indexed: boolean };
  emailIndex: boolean;
  createdAtIndex: boolean;
}

/**
 * 28 tables, about a million rows at scale 1. Some foreign keys and emails are deliberately left without an
 * index, as in real schemas, so that the plan rules have something to find.
 */
export function tables(scale: number): TableSpec[] {
  const t = (name: string, rows: number, emailIndex: boolean, createdAtIndex: boolean, parent?: TableSpec['parent']): TableSpec => ({
    name,
    rows: Math.max(10, Math.round(rows * scale)),
    emailIndex,
    createdAtIndex,
    ...(parent ? { parent } : {}),
  });
  return [
    t('accounts', 5_000, true, false),
    t('users', 100_000, true, true, { table: 'accounts', column: 'account_id', indexed: true }),
    t('teams', 2_000, false, false, { table: 'accounts', column: 'account_id', indexed: false }),
    t('projects', 10_000, false, true, { table: 'teams', column: 'team_id', indexed: true }),
    t('tasks', 150_000, false, true, { table: 'projects', column: 'project_id', indexed: false }),
    t('comments', 100_000, false, false, { table: 'tasks', column: 'task_id', indexed: true }),
    t('categories', 300, false, false),
    t('products', 20_000, false, false, { table: 'categories', column: 'category_id', indexed: true }),
    t('orders', 180_000, true, true, { table: 'users', column: 'user_id', indexed: true }),
    t('order_items', 150_000, false, false, { table: 'orders', column: 'order_id', indexed: false }),
    t('invoices', 60_000, false, true, { table: 'orders', column: 'order_id', indexed: true }),
    t('payments', 60_000, true, true, { table: 'invoices', column: 'invoice_id', indexed: false }),
    t('refunds', 3_000, false, false, { table: 'payments', column: 'payment_id', indexed: false }),
    t('shipments', 40_000, false, true, { table: 'orders', column: 'order_id', indexed: true }),
    t('addresses', 50_000, false, false, { table: 'users', column: 'user_id', indexed: true }),
    t('sessions', 30_000, false, true, { table: 'users', column: 'user_id', indexed: false }),
    t('events', 20_000, false, true, { table: 'accounts', column: 'account_id', indexed: true }),
    t('audit_log', 15_000, false, true, { table: 'users', column: 'user_id', indexed: false }),
    t('notifications', 10_000, true, false, { table: 'users', column: 'user_id', indexed: true }),
    t('plans', 50, false, false),
    t('subscriptions', 8_000, true, true, { table: 'plans', column: 'plan_id', indexed: false }),
    t('coupons', 1_000, false, false),
    t('reviews', 12_000, false, true, { table: 'products', column: 'product_id', indexed: true }),
    t('tags', 500, false, false),
    t('tickets', 9_000, true, true, { table: 'users', column: 'user_id', indexed: true }),
    t('messages', 7_000, false, true, { table: 'tickets', column: 'ticket_id', indexed: false }),
    t('files', 4_000, false, false, { table: 'projects', column: 'project_id', indexed: true }),
    t('webhooks', 600, true, false, { table: 'accounts', column: 'account_id', indexed: false }),
  ];
}

/** The statements that create and fill the schema (run once per bench database). */
export function schemaSql(specs: TableSpec[]): string[] {
  const out: string[] = [];
  for (const s of specs) {
    const fk = s.parent ? `, ${s.parent.column} bigint NOT NULL` : '';
    out.push(
      `CREATE TABLE ${s.name} (id bigint PRIMARY KEY${fk}, email text NOT NULL, name text NOT NULL, status text NOT NULL, ` +
        `amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, note text)`,
    );
    const parentRows = s.parent ? specs.find((p) => p.name === s.parent!.table)!.rows : 0;
    const fkValue = s.parent ? `, 1 + (i * 7919) % ${parentRows}` : '';
    // Skewed status (1 % failed, 9 % new) and a nullable note: the shapes the partial-index and NOT IN rules look for.
    out.push(
      `INSERT INTO ${s.name} SELECT i${fkValue}, '${s.name}' || i || '@example.com', 'name ' || (i * 31 % 1000), ` +
        `CASE WHEN i % 100 = 0 THEN 'failed' WHEN i % 10 = 0 THEN 'new' ELSE 'done' END, (i * 37 % 100000) / 100.0, ` +
        `timestamptz '2024-01-01' + i * interval '1 minute', CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i END ` +
        `FROM generate_series(1, ${s.rows}) AS i`,
    );
  }
  for (const s of specs) {
    if (s.parent) {
      out.push(`ALTER TABLE ${s.name} ADD FOREIGN KEY (${s.parent.column}) REFERENCES ${s.parent.table} (id)`);
      if (s.parent.indexed) out.push(`CREATE INDEX ON ${s.name} (${s.parent.column})`);
    }
    if (s.emailIndex) out.push(`CREATE UNIQUE INDEX ON ${s.name} (email)`);
    if (s.createdAtIndex) out.push(`CREATE INDEX ON ${s.name} (created_at)`);
  }
  return out;
}

type Pick = <T>(xs: readonly T[]) => T;

/** One statement, on one line, valid against the schema (the floor EXPLAINs every one of them). */
function statement(specs: TableSpec[], r: () => number): string {
  const pick: Pick = (xs) => xs[Math.floor(r() * xs.length)]!;
  const n = (max: number): number => 1 + Math.floor(r() * max);
  const t = pick(specs);
  const email = `'${t.name}${n(t.rows)}@example.com'`;
  const day = `'2024-${String(n(12)).padStart(2, '0')}-${String(n(28)).padStart(2, '0')}'`;
  const children = specs.filter((c) => c.parent);
  const c = pick(children);
  const p = c.parent!;
  const other = pick(specs);
  switch (Math.floor(r() * 16)) {
    case 0:
      return `SELECT id, name, status FROM ${t.name} WHERE id = ${n(t.rows)};`;
    case 1:
      return `SELECT id, name FROM ${t.name} WHERE email = ${email};`;
    case 2:
      return `SELECT id, name FROM ${t.name} WHERE lower(email) = ${email};`;
    case 3:
      return `SELECT id, amount FROM ${t.name} WHERE status = 'failed' AND amount > ${n(900)};`;
    case 4:
      return `SELECT c.id, p.name FROM ${c.name} c JOIN ${p.table} p ON p.id = c.${p.column} WHERE c.created_at > ${day} AND p.status = 'new' LIMIT 50;`;
    case 5:
      return `SELECT id, created_at FROM ${t.name} ORDER BY created_at DESC LIMIT ${n(50)};`;
    case 6:
      return `SELECT count(*) FROM ${t.name} WHERE status = 'new';`;
    case 7:
      return `SELECT id FROM ${t.name} WHERE name LIKE '%${n(999)}%';`;
    case 8:
      return `SELECT id, name FROM ${t.name} ORDER BY id LIMIT 20 OFFSET ${n(5000)};`;
    case 9:
      return `UPDATE ${t.name} SET status = 'done' WHERE id = ${n(t.rows)};`;
    case 10:
      return `DELETE FROM ${t.name} WHERE created_at < ${day} AND status = 'failed';`;
    case 11: {
      const fk = t.parent ? `, ${t.parent.column}` : '';
      const fkValue = t.parent ? `, ${n(10)}` : '';
      return `INSERT INTO ${t.name} (id${fk}, email, name, status, amount, created_at) VALUES (${t.rows + n(1000)}${fkValue}, ${email}, 'bench', 'new', ${n(500)}.50, now());`;
    }
    case 12:
      return `WITH recent AS (SELECT ${p.column} AS parent_id, sum(amount) AS total FROM ${c.name} WHERE created_at > ${day} GROUP BY ${p.column}) SELECT p.id, r.total FROM recent r JOIN ${p.table} p ON p.id = r.parent_id ORDER BY r.total DESC LIMIT 10;`;
    case 13:
      return `SELECT id FROM ${t.name} WHERE email = ${email} OR name = 'name ${n(999)}';`;
    case 14:
      return `SELECT id, note FROM ${t.name} WHERE note NOT IN (SELECT note FROM ${other.name} WHERE status = 'failed');`;
    default:
      return `SELECT status, count(*), avg(amount) FROM ${t.name} WHERE created_at BETWEEN ${day} AND ${day} GROUP BY status;`;
  }
}

export function statements(specs: TableSpec[], count: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => statement(specs, r));
}

/** A .sql file: one statement per line, so a one-line edit is a one-statement edit. */
export function sqlFile(stmts: string[]): string {
  return `-- generated by bench/generate.ts\n${stmts.join('\n')}\n`;
}

/**
 * A TypeScript module of `lines` lines holding `strings` SQL strings: sql`` tags with interpolations, and
 * db.query(text, params) calls, a tenth of them inside a loop (the N+1 shape).
 */
export function tsFile(specs: TableSpec[], lines: number, strings: number, seed: number): string {
  const r = rng(seed);
  const out = [
    '// generated by bench/generate.ts',
    "import { sql } from './db';",
    'interface Db { query(text: string, params?: unknown[]): Promise<unknown> }',
    '',
  ];
  for (let i = 0; i < strings; i++) {
    const s = statement(specs, r).replace(/;$/, '');
    // A number literal becomes a parameter in half of them, as application code would write it.
    const param = /= (\d+)(?=\D*$)/.exec(s);
    if (i % 10 === 9) {
      out.push(`export async function q${i}(db: Db, ids: number[]) {`, `  for (const id of ids) await db.query(${quote(param ? s.replace(param[0], '= $1') : s)}, [id]);`, '}');
    } else if (i % 2 === 0) {
      out.push(`export async function q${i}(id: number) {`, `  return sql\`${param ? s.replace(param[0], '= ${id}') : s}\`;`, '}');
    } else {
      out.push(`export async function q${i}(db: Db, id: number) {`, `  return db.query(${quote(param ? s.replace(param[0], '= $1') : s)}, [id]);`, '}');
    }
    if (out.length < lines - 3 * (strings - i - 1)) out.push('');
  }
  while (out.length < lines) out.push(`// padding ${out.length}`);
  return out.join('\n') + '\n';
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
