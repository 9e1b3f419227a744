// PgPlanner when the database is missing, unreachable, silent or flapping: fail fast, back off, report
// status once, never hang, never show a password.
import * as assert from 'assert';
import type { StatusParams } from '../../common/protocol';
import type { CallContext, IndexCandidate, PlanRequest } from '../../server/src/core/ports';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { createTestDatabase, requireServer, type TestDatabase } from '../helpers/testDb';
import { TcpProxy, settingsFor, silentServer, viaPort } from './support';

const SELECT: PlanRequest = { sql: 'SELECT * FROM t WHERE id = 1', paramCount: 0 };
const CANDIDATE: IndexCandidate = { name: 't_id', table: { name: 't' }, sql: 'CREATE INDEX t_id ON t (id)', needsRealBuild: true };
const PASSWORD = 'Sup3rSecretPw';

function recordStatus(p: PgPlanner): StatusParams[] {
  const events: StatusParams[] = [];
  p.onStatus((s) => events.push(s));
  return events;
}

describe('db: PgPlanner availability', function () {
  this.timeout(15_000);

  it('is not configured without a connection, and says so without trying anything', async () => {
    const p = new PgPlanner(resolveConnection(settingsFor(''), {}));
    const events = recordStatus(p);
    assert.strictEqual(p.state, 'not-configured');
    const r = await p.explain(SELECT, { settings: settingsFor('') });
    assert.strictEqual(r.kind, 'unavailable');
    assert.deepStrictEqual(await p.describeRelations([{ name: 't' }], { settings: settingsFor('') }), new Map());
    assert.strictEqual((await p.whatIf(SELECT, CANDIDATE, { settings: settingsFor('') })).kind, 'unproven');
    assert.deepStrictEqual(events, []);
    await p.dispose();
  });

  it('fails fast on an unreachable database, masks the password, and reports the error once', async () => {
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:1/nowhere`;
    let now = 0;
    const p = new PgPlanner(resolveConnection(settingsFor(url), {}), { now: () => now });
    const events = recordStatus(p);
    const ctx: CallContext = { settings: settingsFor(url) };
    try {
      const started = Date.now();
      const first = await p.explain(SELECT, ctx);
      assert.ok(Date.now() - started < 1500);
      assert.strictEqual(first.kind, 'unavailable');
      assert.match(first.kind === 'unavailable' ? first.reason : '', /nowhere@127\.0\.0\.1:1/);

      // Inside the backoff and, with the clock moved past it, real retries that fail the same way.
      assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');
      assert.deepStrictEqual(await p.describeRelations([{ name: 't' }], ctx), new Map());
      now += 60_000;
      assert.strictEqual((await p.whatIf(SELECT, CANDIDATE, ctx)).kind, 'unproven');
      now += 60_000;
      assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');

      assert.strictEqual(events.length, 1, JSON.stringify(events));
      assert.strictEqual(events[0].state, 'error');
      assert.strictEqual(p.state, 'error');
      assert.ok(!JSON.stringify(events).includes(PASSWORD));
      assert.ok(!JSON.stringify(first).includes(PASSWORD));
    } finally {
      await p.dispose();
    }
  });

  it('gives up on a server that accepts the connection but never answers', async () => {
    const silent = await silentServer();
    const url = `postgres://me:${PASSWORD}@127.0.0.1:${silent.port}/app_dev`;
    const p = new PgPlanner(resolveConnection(settingsFor(url), {}));
    const events = recordStatus(p);
    try {
      const started = Date.now();
      const r = await p.explain(SELECT, { settings: settingsFor(url) });
      const took = Date.now() - started;
      assert.strictEqual(r.kind, 'unavailable');
      assert.ok(took < 4500, `took ${took} ms`);
      assert.ok(!JSON.stringify(r).includes(PASSWORD));
      assert.deepStrictEqual(
        events.map((e) => e.state),
        ['error'],
      );
    } finally {
      await p.dispose();
      await silent.close();
    }
  });

  describe('through a proxy', () => {
    let db: TestDatabase;
    let proxy: TcpProxy;

    before(requireServer);
    before(async () => {
      db = await createTestDatabase('avail', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100);');
    });
    after(async () => {
      await db?.drop();
    });
    beforeEach(() => {
      proxy = new TcpProxy(5432);
    });
    afterEach(async () => {
      await proxy.close();
    });

    it('abandons a connection whose server stops answering mid-session (client-side timeout)', async () => {
      const url = viaPort(db.url, await proxy.listen());
      const ctx: CallContext = { settings: settingsFor(url, { statementTimeoutMs: 100 }) };
      const p = new PgPlanner(resolveConnection(ctx.settings, {}), { queryTimeoutMarginMs: 500 });
      const events = recordStatus(p);
      try {
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'plan');
        proxy.mode = 'frozen';
        const started = Date.now();
        const r = await p.explain(SELECT, ctx);
        const took = Date.now() - started;
        assert.strictEqual(r.kind, 'unavailable', JSON.stringify(r));
        assert.ok(took >= 500 && took < 3000, `took ${took} ms`);
        assert.deepStrictEqual(
          events.map((e) => e.state),
          ['connected', 'error'],
        );
      } finally {
        await p.dispose();
      }
    });

    it('backs off without touching the network, doubling, and reconnects once the database is back', async () => {
      proxy.mode = 'down';
      const url = viaPort(db.url, await proxy.listen());
      const ctx: CallContext = { settings: settingsFor(url) };
      let now = 1_000_000;
      const p = new PgPlanner(resolveConnection(ctx.settings, {}), { now: () => now, initialBackoffMs: 1000, maxBackoffMs: 30_000 });
      const events = recordStatus(p);
      try {
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');
        assert.strictEqual(proxy.connections, 1);

        // Backing off (1 s): no connection attempts at all.
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');
        now += 999;
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');
        assert.strictEqual(proxy.connections, 1);

        // Second failure doubles the wait to 2 s.
        now += 1;
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'unavailable');
        assert.strictEqual(proxy.connections, 2);
        proxy.mode = 'up';
        now += 1999;
        const backingOff = await p.explain(SELECT, ctx);
        assert.match(backingOff.kind === 'unavailable' ? backingOff.reason : '', /Next attempt in 1 s/);
        assert.strictEqual(proxy.connections, 2);

        // The database is back and the wait is over: the next call reconnects.
        now += 1;
        assert.strictEqual((await p.explain(SELECT, ctx)).kind, 'plan');
        assert.strictEqual(p.state, 'connected');
        assert.deepStrictEqual(
          events.map((e) => e.state),
          ['error', 'connected'],
        );
      } finally {
        await p.dispose();
      }
    });

    it('queues calls beyond its two connections instead of failing them', async () => {
      const url = viaPort(db.url, await proxy.listen());
      const ctx: CallContext = { settings: settingsFor(url) };
      const p = new PgPlanner(resolveConnection(ctx.settings, {}));
      try {
        const results = await Promise.all(Array.from({ length: 8 }, () => p.explain(SELECT, ctx)));
        assert.deepStrictEqual(
          results.map((r) => r.kind),
          Array(8).fill('plan'),
        );
        assert.ok(proxy.connections <= 2, `${proxy.connections} connections`);
      } finally {
        await p.dispose();
      }
    });

    it('answers unavailable after dispose', async () => {
      const url = viaPort(db.url, await proxy.listen());
      const p = new PgPlanner(resolveConnection(settingsFor(url), {}));
      await p.dispose();
      assert.deepStrictEqual(await p.explain(SELECT, { settings: settingsFor(url) }), {
        kind: 'unavailable',
        reason: 'the planner was disposed',
      });
    });
  });
});
