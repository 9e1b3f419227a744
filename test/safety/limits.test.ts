// The server protects itself: a bounded queue of EXPLAINs waiting for a connection, and a bound on how many
// statements of one file are planned (the rest are not even sent).
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import { DEFAULT_SETTINGS, type SqlInsightSettings } from '../../common/protocol';
import type { ExplainResult } from '../../server/src/core/ports';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { LspClient } from '../helpers/lspClient';
import { createTestDatabase, type TestDatabase, requireServer } from '../helpers/testDb';
import { TcpProxy, viaPort, waitFor } from '../db/support';

describe('safety: limits', function () {
  this.timeout(30_000);
  let db: TestDatabase;

  before(requireServer);
  before(async () => {
    db = await createTestDatabase('limits', 'CREATE TABLE t (id int PRIMARY KEY)');
  });
  after(async () => {
    await db?.drop();
  });

  it('refuses EXPLAINs beyond limits.maxQueuedExplains at once, and serves the queued ones', async () => {
    const url = viaPort(db.url, 5432, { application_name: 'sqli_queue' });
    const settings: SqlInsightSettings = {
      ...DEFAULT_SETTINGS,
      databaseUrl: url,
      lockTimeoutMs: 20_000,
      statementTimeoutMs: 20_000,
      limits: { ...DEFAULT_SETTINGS.limits, maxQueuedExplains: 3 },
    };
    const planner = new PgPlanner(resolveConnection(settings, {}));
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const ctx = { settings };
      // Two hold both connections (waiting for the lock), three wait in the queue, two more are refused.
      const blocked = [planner.explain({ sql: 'SELECT * FROM t', paramCount: 0 }, ctx), planner.explain({ sql: 'SELECT * FROM t', paramCount: 0 }, ctx)];
      await waitFor(
        async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sqli_queue' AND wait_event_type = 'Lock'"))[0].n === 2,
        'both connections to wait for the lock',
      );
      const queued = [1, 2, 3].map(() => planner.explain({ sql: 'SELECT 1', paramCount: 0 }, ctx));
      const refused: ExplainResult[] = await Promise.all([1, 2].map(() => planner.explain({ sql: 'SELECT 1', paramCount: 0 }, ctx)));
      for (const r of refused) {
        assert.equal(r.kind, 'unavailable');
        assert.match(r.kind === 'unavailable' ? r.reason : '', /too much work queued.*maxQueuedExplains = 3/);
      }
      await holder.query('ROLLBACK');
      assert.deepEqual((await Promise.all([...blocked, ...queued])).map((r) => r.kind), Array(5).fill('plan'));
    } finally {
      await holder.end();
      await planner.dispose();
    }
  });

  it('keeps a connection free for plans while index what-ifs wait', async () => {
    const url = viaPort(db.url, 5432, { application_name: 'sqli_whatif_slot' });
    const settings: SqlInsightSettings = { ...DEFAULT_SETTINGS, databaseUrl: url, lockTimeoutMs: 20_000, statementTimeoutMs: 20_000 };
    const planner = new PgPlanner(resolveConnection(settings, {}));
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const candidate = { name: 't_id2', table: { name: 't' }, sql: 'CREATE INDEX t_id2 ON t (id)', needsRealBuild: true };
      const proofs = [1, 2].map(() => planner.whatIf({ sql: 'SELECT * FROM t WHERE id = 1', paramCount: 0 }, candidate, { settings }));
      await waitFor(
        async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sqli_whatif_slot' AND wait_event_type = 'Lock'"))[0].n === 1,
        'a what-if to wait for the lock',
      );
      // Both proofs are pending, one waiting for the lock and one for its turn: a plan still gets through.
      assert.equal((await planner.explain({ sql: 'SELECT 1', paramCount: 0 }, { settings })).kind, 'plan');
      await holder.query('ROLLBACK');
      assert.deepEqual((await Promise.all(proofs)).map((r) => r.kind), ['proven', 'proven']);
    } finally {
      await holder.end();
      await planner.dispose();
    }
  });

  it('plans only limits.maxPlannedStatements statements of a file, says so, and sends no more', async () => {
    const proxy = new TcpProxy(5432);
    const port = await proxy.listen();
    proxy.record = true;
    const client = await LspClient.start({ settings: { databaseUrl: viaPort(db.url, port), limits: { maxPlannedStatements: 2 } } });
    try {
      const text = Array.from({ length: 5 }, (_, i) => `SELECT ${i} AS marker_${i} FROM nope_${i}`).join(';\n');
      const ds = await client.open('file:///limits/many.sql', text);
      assert.deepEqual(ds.map((d) => [d.code, d.severity, d.range.start.line]).sort(), [
        ['database-error', 1, 0],
        ['database-error', 1, 1],
        ['too-large', 3, 2],
      ]);
      assert.match(ds.find((d) => d.code === 'too-large')?.message as string, /only the first 2 statements/);
      const sent = proxy.takeSent();
      assert.ok(sent.includes('marker_1') && !sent.includes('marker_2') && !sent.includes('marker_4'));
    } finally {
      await client.stop();
      await proxy.close();
    }
  });
});
