// PgPlanner against the real PostgreSQL: plans, errors, generic plans, catalog lookups, what-ifs, and
// proof that none of it changes the database.
import * as assert from 'assert';
import { Client } from 'pg';
import { planNodes, type PlanNode } from '../../server/src/core/plan';
import type { CallContext, ExplainResult, IndexCandidate, WhatIfResult } from '../../server/src/core/ports';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';
import { settingsFor, viaPort, waitFor } from './support';

function assertPlan(r: ExplainResult): Extract<ExplainResult, { kind: 'plan' }> {
  assert.strictEqual(r.kind, 'plan', JSON.stringify(r));
  return r as Extract<ExplainResult, { kind: 'plan' }>;
}

function assertProven(r: WhatIfResult): Extract<WhatIfResult, { kind: 'proven' }> {
  assert.strictEqual(r.kind, 'proven', JSON.stringify(r));
  return r as Extract<WhatIfResult, { kind: 'proven' }>;
}

function findNode(plan: PlanNode, pred: (n: PlanNode) => boolean): PlanNode | undefined {
  return planNodes(plan).find(pred);
}

describe('db: PgPlanner on PostgreSQL', function () {
  this.timeout(20_000);
  let db: TestDatabase;
  let planner: PgPlanner;
  let ctx: CallContext;

  const exists = async (regclass: string): Promise<boolean> =>
    (await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [regclass]))[0].ok;

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('planner');
    ctx = { settings: settingsFor(db.url) };
    planner = new PgPlanner(resolveConnection(ctx.settings, {}));
  });

  after(async () => {
    await planner?.dispose();
    await db?.drop();
  });

  describe('explain', () => {
    it('plans a SELECT with relation name, alias and schema', async () => {
      const r = assertPlan(await planner.explain({ sql: "SELECT c.name FROM customers c WHERE c.country = 'DE'", paramCount: 0 }, ctx));
      const scan = findNode(r.plan, (n) => n['Relation Name'] === 'customers');
      assert.ok(scan, 'a node scans customers');
      assert.strictEqual(scan['Alias'], 'c');
      assert.strictEqual(scan['Schema'], 'public');
      assert.strictEqual(r.generic, false);
      assert.deepStrictEqual(r.paramTypes, []);
      const [{ v }] = await db.query<{ v: number }>("SELECT current_setting('server_version_num')::int / 10000 AS v");
      assert.strictEqual(r.serverVersion, v);
      assert.ok(r.elapsedMs >= 0);
      assert.strictEqual(typeof r.planningTimeMs, 'number');
      assert.strictEqual(planner.state, 'connected');
    });

    it('explains DELETE, UPDATE and INSERT without changing any row', async () => {
      const before = await db.query('SELECT code, name FROM countries ORDER BY code');
      for (const sql of [
        "DELETE FROM countries WHERE code = 'DE'",
        "UPDATE countries SET name = 'Changed' WHERE code = 'FR'",
        "INSERT INTO countries VALUES ('XX', 'Nowhere')",
        'DELETE FROM countries',
      ]) {
        const r = assertPlan(await planner.explain({ sql, paramCount: 0 }, ctx));
        assert.strictEqual(r.plan['Node Type'], 'ModifyTable', sql);
      }
      assert.deepStrictEqual(await db.query('SELECT code, name FROM countries ORDER BY code'), before);
    });

    it('refuses several statements in one call (extended protocol), so nothing is committed or dropped', async () => {
      for (const sql of ['SELECT 1; COMMIT; DROP TABLE countries', 'ROLLBACK; DROP TABLE countries']) {
        const r = await planner.explain({ sql, paramCount: 0 }, ctx);
        assert.strictEqual(r.kind, 'error', JSON.stringify(r));
        assert.strictEqual(r.kind === 'error' && r.sqlState, '42601');
      }
      assert.ok(await exists('countries'));
      assert.strictEqual((await db.query('SELECT count(*)::int AS n FROM countries'))[0].n, 5);
    });

    it('reports an unknown table at its UTF-16 offset after non-ASCII text', async () => {
      const sql = "SELECT 'é 😀 ñ' AS greeting FROM nope_table";
      const r = await planner.explain({ sql, paramCount: 0 }, ctx);
      assert.deepStrictEqual(r, {
        kind: 'error',
        message: 'relation "nope_table" does not exist',
        sqlState: '42P01',
        position: sql.indexOf('nope_table'),
      });
    });

    it('reports an unknown column at its UTF-16 offset, also through PREPARE for generic plans', async () => {
      const sql = "SELECT '🎉🎉' AS party, nosuchcol FROM customers WHERE id = $1";
      for (const paramCount of [0, 1]) {
        const r = await planner.explain({ sql, paramCount }, ctx);
        assert.strictEqual(r.kind, 'error', JSON.stringify(r));
        assert.strictEqual(r.kind === 'error' && r.sqlState, '42703');
        assert.strictEqual(r.kind === 'error' && r.position, sql.indexOf('nosuchcol'), `paramCount ${paramCount}`);
      }
    });

    it('plans $n parameters as a generic plan with inferred types and a real index condition', async () => {
      const sql = 'SELECT * FROM customers WHERE id = $1 AND created_at > $2';
      const r = assertPlan(await planner.explain({ sql, paramCount: 2 }, ctx));
      assert.strictEqual(r.generic, true);
      assert.deepStrictEqual(r.paramTypes, ['bigint', 'timestamp with time zone']);
      const scan = findNode(r.plan, (n) => n['Relation Name'] === 'customers');
      assert.ok(scan && /Index/.test(scan['Node Type']), JSON.stringify(r.plan));
      assert.match(String(scan['Index Cond']), /\$1/);
      assert.ok(!planNodes(r.plan).some((n) => 'One-Time Filter' in n), 'no degenerate One-Time Filter');

      // The trap this avoids: the same statement planned for bound NULLs collapses to "One-Time Filter: false".
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        await c.query(`PREPARE naive AS ${sql}`);
        const naive = await c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>('EXPLAIN (FORMAT JSON) EXECUTE naive(NULL, NULL)');
        assert.ok(planNodes(naive.rows[0]['QUERY PLAN'][0].Plan).some((n) => n['One-Time Filter'] === 'false'));
      } finally {
        await c.end();
      }
    });

    it('treats $1 without paramCount as an error in the statement, not as a lost connection', async () => {
      const r = await planner.explain({ sql: 'SELECT * FROM customers WHERE id = $1', paramCount: 0 }, ctx);
      assert.strictEqual(r.kind, 'error', JSON.stringify(r));
      assert.strictEqual(planner.state, 'connected');
      assertPlan(await planner.explain({ sql: 'SELECT 1', paramCount: 0 }, ctx));
    });

    it('plans parameterised DML generically', async () => {
      const before = await db.query('SELECT count(*)::int AS n FROM customers WHERE status = $1', ['x']);
      const r = assertPlan(
        await planner.explain({ sql: 'UPDATE customers SET status = $2 WHERE email = $1', paramCount: 2 }, ctx),
      );
      assert.strictEqual(r.generic, true);
      assert.deepStrictEqual(r.paramTypes, ['text', 'text']);
      assert.ok(findNode(r.plan, (n) => n['Index Name'] === 'customers_email_idx'), JSON.stringify(r.plan));
      assert.deepStrictEqual(await db.query('SELECT count(*)::int AS n FROM customers WHERE status = $1', ['x']), before);
    });
  });

  describe('describeRelations', () => {
    before(async () => {
      await db.query('CREATE INDEX products_lower_title_idx ON products (lower(title))');
      await db.query("CREATE INDEX orders_pending_created_idx ON orders (created_at) INCLUDE (total) WHERE status = 'pending'");
      await db.query('CREATE SCHEMA "Odd Schema"; CREATE TABLE "Odd Schema"."Mixed ""Case""" (id int NOT NULL, note text)');
    });

    it('describes tables, columns and indexes (expression and partial ones too) in one call', async () => {
      const m = await planner.describeRelations(
        [{ name: 'products' }, { schema: 'public', name: 'orders' }, { name: 'nope' }, { schema: 'Odd Schema', name: 'Mixed "Case"' }],
        ctx,
      );
      assert.deepStrictEqual([...m.keys()].sort(), ['Odd Schema.Mixed "Case"', 'products', 'public.orders']);

      const products = m.get('products')!;
      assert.strictEqual(products.schema, 'public');
      assert.strictEqual(products.kind, 'r');
      assert.strictEqual(products.reltuples, 2000);
      assert.ok(products.relpages > 0);
      const { stats: idStats, ...id } = products.columns[0];
      assert.deepStrictEqual(id, { name: 'id', type: 'bigint', notNull: true });
      assert.strictEqual(idStats?.nDistinct, -1, 'a unique column');
      const { stats: _priceStats, ...price } = products.columns[3];
      assert.deepStrictEqual(price, { name: 'price', type: 'numeric(10,2)', notNull: true });
      const expr = products.indexes.find((i) => i.name === 'products_lower_title_idx')!;
      assert.deepStrictEqual(expr, {
        name: 'products_lower_title_idx',
        unique: false,
        primary: false,
        method: 'btree',
        keyColumns: [null],
        keyDefs: ['lower(title)'],
        predicate: null,
        definition: 'CREATE INDEX products_lower_title_idx ON public.products USING btree (lower(title))',
      });
      const pkey = products.indexes.find((i) => i.name === 'products_pkey')!;
      assert.ok(pkey.primary && pkey.unique);
      assert.deepStrictEqual(pkey.keyColumns, ['id']);
      const sku = products.indexes.find((i) => i.name === 'products_sku_key')!;
      assert.ok(sku.unique && !sku.primary);

      const partial = m.get('public.orders')!.indexes.find((i) => i.name === 'orders_pending_created_idx')!;
      assert.deepStrictEqual(partial.keyColumns, ['created_at'], 'INCLUDE columns are not keys');
      assert.deepStrictEqual(partial.keyDefs, ['created_at']);
      assert.strictEqual(partial.predicate, "status = 'pending'::text");

      const odd = m.get('Odd Schema.Mixed "Case"')!;
      assert.strictEqual(odd.schema, 'Odd Schema');
      assert.strictEqual(odd.reltuples, -1);
      assert.deepStrictEqual(odd.indexes, []);
      assert.strictEqual(odd.columns[0].stats, undefined, 'never analysed: no statistics');
    });

    it('describes column statistics, foreign keys and partitions for the advisor', async () => {
      await db.query(`CREATE TABLE IF NOT EXISTS parted (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
        CREATE TABLE IF NOT EXISTS parted_a PARTITION OF parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
        CREATE TABLE IF NOT EXISTS parted_b PARTITION OF parted FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');`);
      const m = await planner.describeRelations([{ name: 'orders' }, { name: 'parted' }], ctx);
      const orders = m.get('orders')!;
      const status = orders.columns.find((c) => c.name === 'status')!.stats!;
      assert.deepStrictEqual(status.mostCommonValues, ['shipped', 'pending', 'refunded']);
      assert.strictEqual(status.mostCommonFreqs.length, 3);
      assert.ok(status.mostCommonFreqs[0] > 0.7 && status.mostCommonFreqs[2] < 0.05, JSON.stringify(status));
      assert.strictEqual(status.nDistinct, 3);
      assert.deepStrictEqual(orders.foreignKeys, [
        { name: 'orders_customer_id_fkey', columns: ['customer_id'], references: { schema: 'public', name: 'customers' }, referencedColumns: ['id'] },
      ]);
      assert.deepStrictEqual(orders.partitions, []);
      const parted = m.get('parted')!;
      assert.strictEqual(parted.kind, 'p');
      assert.deepStrictEqual(parted.partitions, [
        { schema: 'public', name: 'parted_a' },
        { schema: 'public', name: 'parted_b' },
      ]);
    });

    it('returns an empty map for nothing to look up', async () => {
      assert.strictEqual((await planner.describeRelations([], ctx)).size, 0);
      assert.strictEqual((await planner.describeRelations([{ name: '' }], ctx)).size, 0);
    });
  });

  describe('analyze', () => {
    it('runs a SELECT read-only and reports actual rows, execution time and buffers', async () => {
      const r = assertPlan(await planner.analyze({ sql: 'SELECT id FROM customers WHERE id < 10', paramCount: 0, writes: false }, ctx));
      assert.strictEqual(r.plan['Actual Rows'], 9);
      assert.strictEqual(typeof r.executionTimeMs, 'number');
      assert.strictEqual(typeof r.plan['Shared Hit Blocks'], 'number');
    });

    it('runs a data-changing statement read-write and rolls it back', async () => {
      const before = await db.query('SELECT code, name FROM countries ORDER BY code');
      const r = assertPlan(await planner.analyze({ sql: "UPDATE countries SET name = 'Changed'", paramCount: 0, writes: true }, ctx));
      assert.strictEqual(r.plan['Node Type'], 'ModifyTable');
      assert.deepStrictEqual(await db.query('SELECT code, name FROM countries ORDER BY code'), before);
    });

    it('refuses writes in a statement it was told only reads (the transaction is read-only)', async () => {
      const r = await planner.analyze({ sql: "DELETE FROM countries WHERE code = 'DE'", paramCount: 0, writes: false }, ctx);
      assert.strictEqual(r.kind, 'error', JSON.stringify(r));
      assert.match(r.kind === 'error' ? r.message : '', /read-only transaction/);
      assert.strictEqual((await db.query('SELECT count(*)::int AS n FROM countries'))[0].n, 5);
    });

    it('stops at statement_timeout', async () => {
      const r = await planner.analyze(
        { sql: 'SELECT pg_sleep(5)', paramCount: 0, writes: false },
        { settings: settingsFor(db.url, { statementTimeoutMs: 200 }) },
      );
      assert.strictEqual(r.kind, 'unavailable', JSON.stringify(r));
      assert.match(r.kind === 'unavailable' ? r.reason : '', /statement_timeout/);
    });

    it('does not run statements with parameters', async () => {
      const r = await planner.analyze({ sql: 'SELECT * FROM customers WHERE id = $1', paramCount: 1, writes: false }, ctx);
      assert.strictEqual(r.kind, 'error');
    });
  });

  describe('whatIf', () => {
    it('proves two real builds on one table asked for at once: they take turns instead of timing out on locks', async () => {
      const build = (name: string, expr: string) =>
        planner.whatIf(
          { sql: `SELECT id FROM customers WHERE ${expr} = 'x'`, paramCount: 0 },
          { name, table: { name: 'customers' }, sql: `CREATE INDEX ${name} ON customers (${expr})`, needsRealBuild: true },
          ctx,
        );
      const results = await Promise.all([build('turn_a', 'lower(email)'), build('turn_b', 'lower(name)'), build('turn_c', 'upper(country)')]);
      for (const r of results) assert.ok(assertProven(r).used, JSON.stringify(r));
    });

    const lowerEmail: IndexCandidate = {
      name: 'customers_lower_email_whatif',
      table: { name: 'customers' },
      sql: 'CREATE INDEX customers_lower_email_whatif ON customers (lower(email))',
      needsRealBuild: true,
    };
    const byLowerEmail = { sql: "SELECT id FROM customers WHERE lower(email) = 'user42@example.com'", paramCount: 0 };

    it('proves an expression index by building it in a rolled-back transaction', async () => {
      const r = assertProven(await planner.whatIf(byLowerEmail, lowerEmail, ctx));
      assert.strictEqual(r.method, 'rollback');
      assert.strictEqual(r.used, true);
      assert.ok(r.after < r.before / 10, `cost ${r.before} -> ${r.after}`);
      assert.strictEqual(await exists('customers_lower_email_whatif'), false);
      const stats = await db.query("SELECT 1 FROM pg_stats WHERE tablename = 'customers_lower_email_whatif'");
      assert.strictEqual(stats.length, 0, 'the ANALYZE was rolled back too');
    });

    it('proves a generic plan with parameters', async () => {
      const r = assertProven(
        await planner.whatIf({ sql: 'SELECT id FROM customers WHERE lower(email) = $1', paramCount: 1 }, lowerEmail, ctx),
      );
      assert.ok(r.used && r.after < r.before, JSON.stringify(r));
    });

    it('reports an index the plan would not use', async () => {
      const r = assertProven(
        await planner.whatIf({ sql: 'SELECT count(*) FROM customers', paramCount: 0 }, { ...lowerEmail, name: 'unused_idx', sql: 'CREATE INDEX unused_idx ON customers (lower(name))' }, ctx),
      );
      assert.strictEqual(r.used, false);
      assert.strictEqual(await exists('unused_idx'), false);
    });

    it('leaves the proof unproven above whatIf.maxTableRows, saying why', async () => {
      const small = { settings: settingsFor(db.url, { whatIf: { maxTableRows: 1000 } }) };
      const r = await planner.whatIf(byLowerEmail, lowerEmail, small);
      assert.strictEqual(r.kind, 'unproven');
      assert.match(r.kind === 'unproven' ? r.reason : '', /50000 rows.*maxTableRows \(1000\)/);
      assert.strictEqual(await exists('customers_lower_email_whatif'), false);
    });

    it('is unproven, not thrown, for a candidate that fails to build or is not a plain CREATE INDEX', async () => {
      const bad = await planner.whatIf(byLowerEmail, { ...lowerEmail, sql: 'CREATE INDEX x ON customers (no_such_column)' }, ctx);
      assert.strictEqual(bad.kind, 'unproven');
      assert.match(bad.kind === 'unproven' ? bad.reason : '', /no_such_column/);
      const concurrently = await planner.whatIf(byLowerEmail, { ...lowerEmail, sql: 'CREATE INDEX CONCURRENTLY x ON customers (email)' }, ctx);
      assert.strictEqual(concurrently.kind, 'unproven');
      const smuggled = await planner.whatIf(byLowerEmail, { ...lowerEmail, sql: 'CREATE INDEX x ON customers (email); COMMIT' }, ctx);
      assert.strictEqual(smuggled.kind, 'unproven');
      assert.strictEqual(await exists('x'), false);
    });

    describe('with hypopg', () => {
      const byCustomer = { sql: 'SELECT * FROM orders WHERE customer_id = 4242', paramCount: 0 };
      const customerIdx: IndexCandidate = {
        name: 'orders_customer_id_idx',
        table: { name: 'orders' },
        sql: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id)',
        needsRealBuild: false,
      };
      const hypopgInstalled = async (): Promise<boolean> =>
        (await db.query("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'")).length > 0;

      before(async function () {
        const available = await db.query("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'");
        if (available.length === 0) {
          console.log('      hypopg is not available on this server (apt-get install postgresql-15-hypopg); skipping');
          this.skip();
        }
      });

      it('uses hypopg when it is available but not installed, leaving no extension behind', async () => {
        assert.strictEqual(await hypopgInstalled(), false);
        const r = assertProven(await planner.whatIf(byCustomer, customerIdx, ctx));
        assert.strictEqual(r.method, 'hypopg');
        assert.ok(r.used && r.after < r.before, JSON.stringify(r));
        assert.strictEqual(await hypopgInstalled(), false);
      });

      it('uses the installed hypopg and resets its hypothetical indexes', async () => {
        await db.query('CREATE EXTENSION hypopg');
        const r = assertProven(await planner.whatIf(byCustomer, customerIdx, ctx));
        assert.strictEqual(r.method, 'hypopg');
        assert.strictEqual(r.used, true);
        assert.ok(r.after < r.before / 10, `cost ${r.before} -> ${r.after}`);
        assert.strictEqual(await exists('orders_customer_id_idx'), false);
        // Both pool connections plan it again: neither may still see a hypothetical index.
        const [a, b] = await Promise.all([planner.explain(byCustomer, ctx), planner.explain(byCustomer, ctx)]);
        for (const p of [assertPlan(a), assertPlan(b)]) {
          assert.ok(!planNodes(p.plan).some((n) => n['Index Name']), JSON.stringify(p.plan));
        }
      });

      it('still builds expression indexes for real (hypopg cannot prove them)', async () => {
        const r = assertProven(await planner.whatIf(byLowerEmail, lowerEmail, ctx));
        assert.strictEqual(r.method, 'rollback');
      });
    });
  });

  it('changes no table: pg_stat_user_tables write counters stay the same', async () => {
    type Counters = { relname: string; ins: number; upd: number; del: number };
    const counters = (): Promise<Counters[]> =>
      db.query<Counters>(
        'SELECT relname, n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_del::int AS del FROM pg_stat_user_tables ORDER BY relname',
      );
    const before = await counters();

    // Its own planner, so that its backends can be told apart and waited for below.
    const url = viaPort(db.url, 5432, { application_name: 'sqli_stats_check' });
    const p = new PgPlanner(resolveConnection(settingsFor(url), {}));
    const c = { settings: settingsFor(url) };
    try {
      for (const sql of ["DELETE FROM countries WHERE code = 'DE'", "UPDATE customers SET status = 'x'", "INSERT INTO countries VALUES ('QQ', 'Q')"]) {
        assertPlan(await p.explain({ sql, paramCount: 0 }, c));
      }
      assertPlan(await p.explain({ sql: 'DELETE FROM orders WHERE id = $1', paramCount: 1 }, c));
      assertProven(
        await p.whatIf(
          { sql: "SELECT * FROM customers WHERE lower(email) = 'a'", paramCount: 0 },
          { name: 'w1', table: { name: 'customers' }, sql: 'CREATE INDEX w1 ON customers (lower(email))', needsRealBuild: true },
          c,
        ),
      );
      assertProven(
        await p.whatIf(
          { sql: 'SELECT * FROM orders WHERE customer_id = 1', paramCount: 0 },
          { name: 'w2', table: { name: 'orders' }, sql: 'CREATE INDEX w2 ON orders (customer_id)', needsRealBuild: false },
          c,
        ),
      );
    } finally {
      await p.dispose();
    }
    // Backends report their counters before they leave pg_stat_activity; wait until they have left.
    await db.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'sqli_stats_check' AND datname = current_database()",
    );
    assert.deepStrictEqual(await counters(), before);

    // Control: a write that is rolled back does move the counters, so the comparison above can fail.
    const control = new Client({ connectionString: db.url });
    await control.connect();
    try {
      await control.query("BEGIN; INSERT INTO countries VALUES ('ZZ', 'Control'); ROLLBACK");
      await control.query('SELECT pg_stat_force_next_flush()');
      const after = await control.query<{ ins: number }>("SELECT n_tup_ins::int AS ins FROM pg_stat_user_tables WHERE relname = 'countries'");
      assert.strictEqual(after.rows[0].ins, before.find((r) => r.relname === 'countries')!.ins + 1);
    } finally {
      await control.end();
    }
  });

  it('cancels a statement that waits for a lock when the signal aborts', async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE countries IN ACCESS EXCLUSIVE MODE');
      const patient = { settings: settingsFor(db.url, { statementTimeoutMs: 60_000, lockTimeoutMs: 60_000 }) };
      const ac = new AbortController();
      const started = Date.now();
      const pending = planner.explain({ sql: 'SELECT * FROM countries', paramCount: 0 }, { ...patient, signal: ac.signal });

      const waiting = await waitFor(
        async () =>
          (
            await db.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE application_name = 'sql-insight' AND datname = current_database() AND wait_event_type = 'Lock'",
            )
          )[0],
        'the EXPLAIN to wait for the lock',
      );
      ac.abort();
      assert.deepStrictEqual(await pending, { kind: 'unavailable', reason: 'cancelled' });
      assert.ok(Date.now() - started < 5000);

      const backend = await db.query<{ state: string; wait_event_type: string | null }>(
        'SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = $1',
        [waiting.pid],
      );
      // Gone, or idle outside any transaction: neither running, nor waiting, nor holding a transaction open.
      assert.ok(backend.length === 0 || (backend[0].state === 'idle' && backend[0].wait_event_type !== 'Lock'), JSON.stringify(backend));
      assert.strictEqual(planner.state, 'connected');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    assertPlan(await planner.explain({ sql: 'SELECT * FROM countries', paramCount: 0 }, ctx));
  });

  describe('explainBatch: pipelined connections', () => {
    const lockedCountries = async (body: (holder: Client) => Promise<void>): Promise<void> => {
      const holder = new Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query('BEGIN; LOCK TABLE countries IN ACCESS EXCLUSIVE MODE');
        await body(holder);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    };

    it('gives each statement its own time limit, counted from when the server reaches it, not from when it was sent', async () => {
      // 20 statements per connection, each waiting 150 ms for a lock: the last of a pipelined window is answered
      // ~2.3 s after it was sent, past the client's backstop (statement_timeout 1 s + 0.2 s margin). Counted
      // from sending, the backstop would take it for a dead connection and give up on the whole batch.
      const strict = new PgPlanner(resolveConnection(ctx.settings, {}), { queryTimeoutMarginMs: 200 });
      try {
        await lockedCountries(async () => {
          const reqs = Array.from({ length: 40 }, (_, i) => ({ sql: `SELECT * FROM countries WHERE code = 'c${i}'`, paramCount: 0 }));
          const results = await strict.explainBatch(reqs, { settings: settingsFor(db.url, { statementTimeoutMs: 1000, lockTimeoutMs: 150 }) });
          assert.deepStrictEqual(
            [...new Set(results.map((r) => (r.kind === 'unavailable' ? r.reason : r.kind)))],
            ['a lock was not granted within lock_timeout (sqlInsight.lockTimeoutMs)'],
          );
          assert.strictEqual(strict.state, 'connected');
        });
        assertPlan((await strict.explainBatch([{ sql: 'SELECT * FROM countries', paramCount: 0 }], ctx))[0]);
      } finally {
        await strict.dispose();
      }
    });

    it('stops at an abort: what was planned stays planned, the rest is cancelled, nothing is left waiting', async () => {
      await lockedCountries(async () => {
        const patient = settingsFor(db.url, { statementTimeoutMs: 60_000, lockTimeoutMs: 60_000 });
        const reqs = [
          ...Array.from({ length: 6 }, (_, i) => ({ sql: `SELECT * FROM customers WHERE id = ${i}`, paramCount: 0 })),
          ...Array.from({ length: 60 }, (_, i) => ({ sql: `SELECT * FROM countries WHERE code = 'c${i}'`, paramCount: 0 })),
        ];
        const ac = new AbortController();
        const started = Date.now();
        const pending = planner.explainBatch(reqs, { settings: patient, signal: ac.signal });
        await waitFor(
          async () =>
            (
              await db.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'sql-insight' AND datname = current_database() AND wait_event_type = 'Lock'",
              )
            ).length === 2 || undefined,
          'both connections to wait for the lock',
        );
        ac.abort();
        const results = await pending;
        assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
        assert.ok(results.slice(0, 6).every((r) => r.kind === 'plan'), JSON.stringify(results.slice(0, 6).map((r) => r.kind)));
        assert.ok(results.slice(6).every((r) => r.kind === 'unavailable'), JSON.stringify(results.slice(6).map((r) => r.kind)));
        const waiting = await db.query(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'sql-insight' AND datname = current_database() AND state <> 'idle'",
        );
        assert.deepStrictEqual(waiting, []);
        assert.strictEqual(planner.state, 'connected');
      });
      const again = await planner.explainBatch(
        Array.from({ length: 40 }, (_, i) => ({ sql: `SELECT * FROM countries WHERE code = 'c${i}'`, paramCount: 0 })),
        ctx,
      );
      assert.ok(again.every((r) => r.kind === 'plan'));
    });
  });

  it('returns at once for a signal that is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    assert.deepStrictEqual(await planner.explain({ sql: 'SELECT 1', paramCount: 0 }, { ...ctx, signal: ac.signal }), {
      kind: 'unavailable',
      reason: 'cancelled',
    });
  });
});
