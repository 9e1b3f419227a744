// Tries to make the language server change the user's database or leave something behind, through the real
// protocol against a real PostgreSQL: writes of every statement kind, functions that write, lock or change
// session state while being planned, smuggled statements. Each case is opened (plain EXPLAIN), then every
// finding's fix is proven (index what-ifs). Afterwards rows, sequence, catalog, the write counters, locks
// and the planner's session state must be exactly as before, and statements that are not plannable must not
// have reached the server at all (a proxy records every byte the server was sent).
import * as assert from 'node:assert/strict';
import { LspClient, messageOf } from '../helpers/lspClient';
import { requireServer, type TestDatabase } from '../helpers/testDb';
import { TcpProxy, viaPort } from '../db/support';
import { createHostileDatabase, endBackends, foreignLocks, snapshot, writeCounters } from './hostileDb';

interface Case {
  name: string;
  sql: string;
  /** Text that must reach the server (inside an EXPLAIN): shows that the recording sees the traffic. */
  sent?: string;
  /** Text that must never reach the server. */
  neverSent?: string[];
  /** At least one fix must be proven, so that the what-if path really ran on this statement. */
  whatIf?: boolean;
  /** Diagnostics codes expected, in any order. */
  codes?: string[];
}

const CASES: Case[] = [
  { name: 'DELETE', sql: "DELETE FROM victims WHERE lower(email) = 'v1@example.com'", sent: 'DELETE FROM victims', whatIf: true },
  { name: 'UPDATE', sql: "UPDATE victims SET note = 'pwned' WHERE note = 'note 7'", sent: "SET note = 'pwned'", whatIf: true },
  { name: 'INSERT … SELECT', sql: "INSERT INTO audit SELECT id, note FROM victims WHERE note = 'note 8'", sent: 'INSERT INTO audit', whatIf: true },
  { name: 'DELETE with a parameter (PREPARE path)', sql: 'DELETE FROM victims WHERE note = $1', sent: 'DELETE FROM victims WHERE note = $1', whatIf: true },
  { name: 'MERGE (not planned)', sql: 'MERGE INTO victims v USING audit a ON v.id = a.id WHEN MATCHED THEN DELETE', neverSent: ['MERGE INTO'] },
  { name: 'SELECT of a volatile function that writes', sql: "SELECT writes_volatile() FROM victims WHERE note = 'note 9'", sent: 'writes_volatile()', whatIf: true },
  {
    name: 'SELECT of a writing function mislabelled IMMUTABLE (runs while planning)',
    sql: 'SELECT * FROM victims WHERE id = writes_immutable()',
    sent: 'writes_immutable()',
    codes: ['database-error'],
  },
  { name: 'nextval() while planning', sql: 'SELECT * FROM victims WHERE id = bumps_immutable()', sent: 'bumps_immutable()', codes: ['database-error'] },
  { name: 'nextval() as a volatile call', sql: "SELECT nextval('victims_seq'), setval('victims_seq', 1)", sent: "nextval('victims_seq')" },
  { name: 'session advisory lock taken while planning', sql: 'SELECT locks_immutable()', sent: 'locks_immutable()' },
  { name: 'session settings changed while planning', sql: 'SELECT sets_immutable()', sent: 'sets_immutable()' },
  { name: 'advisory lock as a volatile call', sql: 'SELECT pg_advisory_lock(1), pg_advisory_xact_lock(2)', sent: 'pg_advisory_lock(1)' },
  { name: 'CTE with DELETE', sql: 'WITH gone AS (DELETE FROM victims RETURNING *) SELECT count(*) FROM gone', sent: 'WITH gone AS' },
  {
    name: 'CTE with UPDATE feeding an INSERT',
    sql: "WITH moved AS (UPDATE victims SET note = 'x' WHERE note = 'note 3' RETURNING id) INSERT INTO audit SELECT id, 'moved' FROM moved",
    sent: 'WITH moved AS',
  },
  { name: 'SELECT … FOR UPDATE', sql: "SELECT * FROM victims WHERE note = 'note 5' FOR UPDATE", sent: 'FOR UPDATE', whatIf: true },
  { name: 'SELECT … INTO (creates a table; not planned)', sql: 'SELECT * INTO stolen FROM victims', neverSent: ['INTO stolen'] },
  { name: 'COPY', sql: "COPY victims FROM PROGRAM 'touch /tmp/sqli-pwned'; COPY (SELECT 1) TO '/tmp/sqli-out'", neverSent: ['COPY victims', 'COPY (SELECT', 'sqli-pwned'] },
  { name: 'DO', sql: 'DO $$ BEGIN DELETE FROM victims; END $$', neverSent: ['DO $$', 'BEGIN DELETE'] },
  { name: 'CALL', sql: 'CALL wipe()', neverSent: ['CALL wipe', 'wipe()'] },
  {
    name: 'SET and RESET of session state',
    sql: "SET search_path = pg_catalog; SET statement_timeout = 0; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; RESET ALL; SET ROLE postgres; SELECT set_config('sqli.poisoned', 'yes', false)",
    neverSent: ['SET search_path', 'statement_timeout = 0', 'SESSION CHARACTERISTICS', 'RESET ALL', 'SET ROLE'],
    sent: "set_config('sqli.poisoned'",
  },
  {
    name: 'transaction control and DDL',
    sql: 'COMMIT; BEGIN; ROLLBACK; SAVEPOINT s; ABORT; TRUNCATE victims; DROP TABLE audit; ALTER TABLE victims ADD COLUMN x int; LOCK TABLE victims; VACUUM victims; GRANT ALL ON victims TO PUBLIC; CREATE TABLE t2 (a int); LISTEN chan; NOTIFY chan; PREPARE p AS DELETE FROM victims; EXECUTE p; EXPLAIN ANALYZE DELETE FROM victims',
    neverSent: ['COMMIT', 'TRUNCATE', 'DROP TABLE', 'ALTER TABLE', 'LOCK TABLE', 'VACUUM', 'GRANT', 'CREATE TABLE t2', 'LISTEN', 'NOTIFY', 'PREPARE p', 'EXECUTE p', 'EXPLAIN ANALYZE'],
  },
  {
    name: ';-smuggled second statements',
    sql: 'SELECT 1; DELETE FROM victims WHERE id = 2; COMMIT; DROP TABLE victims',
    sent: 'DELETE FROM victims WHERE id = 2',
    neverSent: ['COMMIT', 'DROP TABLE'],
  },
  {
    name: 'comment tricks',
    sql: "SELECT 1 /* ; DROP TABLE victims; */ FROM victims WHERE note = 'c' -- ; harmless\n; /* a /* nested */ ; TRUNCATE audit; */ SELECT 2; -- /* \nTRUNCATE victims",
    sent: '/* ; DROP TABLE victims; */',
    neverSent: ['TRUNCATE audit', 'TRUNCATE victims'],
  },
  {
    name: 'dollar quoting and escape strings',
    sql: "SELECT $x$; DROP TABLE victims; $x$; SELECT $$ $x$ $$; DROP TABLE audit; SELECT E'\\'; TRUNCATE victims; --'; SELECT '\\'; TRUNCATE audit; --'",
    sent: '$x$; DROP TABLE victims; $x$',
    neverSent: ['DROP TABLE audit', 'TRUNCATE audit'],
  },
  { name: 'NUL byte', sql: "SELECT 1 FROM victims WHERE note = 'x\u0000'; DELETE FROM victims", neverSent: ["note = 'x"] },
];

describe('safety: the language server never changes the database', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let proxy: TcpProxy;
  let port: number;
  let client: LspClient;
  let baseline: Record<string, unknown>;
  let baselineSession: Record<string, unknown>;
  let n = 0;

  /** Plans two probes at once, so that both pool connections report their session state. */
  async function probeSessions(app: string): Promise<Record<string, unknown>[]> {
    const uri = `file:///safety/probe-${app}.sql`;
    const ds = await client.open(uri, 'SELECT sqli_probe(1);\nSELECT sqli_probe(2);');
    await client.close(uri);
    const states = ds.map((d) => {
      const m = /probe (\{.*\})/s.exec(messageOf(d));
      assert.ok(m, `not a probe answer: ${messageOf(d)}`);
      return JSON.parse(m[1]) as Record<string, unknown>;
    });
    assert.equal(states.length, 2, JSON.stringify(ds));
    for (const s of states) assert.equal(s.app, app, 'probed the connections of this case');
    const pids = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid', [app]);
    assert.deepEqual(
      [...new Set(states.map((s) => s.pid))].sort(),
      pids.map((p) => p.pid),
      'every backend of the pool was probed',
    );
    return states.map(({ tag: _tag, pid: _pid, app: _app, ...rest }) => rest);
  }

  async function useNewPool(): Promise<string> {
    const app = `sqli_safety_${++n}`;
    await client.configure({ databaseUrl: viaPort(db.url, port, { application_name: app }) });
    return app;
  }

  before(requireServer);
  before(async () => {
    db = await createHostileDatabase();
    proxy = new TcpProxy(5432);
    port = await proxy.listen();
    proxy.record = true;
    client = await LspClient.start({ settings: null });
    baseline = await snapshot(db);
    const app = await useNewPool();
    const states = await probeSessions(app);
    baselineSession = states[0];
    assert.deepEqual(states[1], baselineSession);
    await endBackends(db, app);
  });
  after(async () => {
    await client?.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('plans inside read-only transactions with statement_timeout and lock_timeout set', () => {
    assert.equal(baselineSession.read_only, 'on');
    assert.equal(baselineSession.statement_timeout, '5s');
    assert.equal(baselineSession.lock_timeout, '1s');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const countersBefore = await writeCounters(db);
      const app = await useNewPool();
      proxy.takeSent();
      const uri = `file:///safety/${n}.sql`;
      const ds = await client.open(uri, c.sql);
      if (c.codes) assert.deepEqual(ds.map((d) => d.code).sort(), [...c.codes].sort(), JSON.stringify(ds));
      let proven = 0;
      for (const d of ds) if (d.data) proven += ((await client.codeActions(uri, d)) ?? []).length;
      if (c.whatIf) assert.ok(proven > 0, `no fix was proven: ${JSON.stringify(ds)}`);
      await client.close(uri);

      const sent = proxy.takeSent();
      if (c.sent) assert.ok(sent.includes(c.sent), `expected to see ${JSON.stringify(c.sent)} sent`);
      for (const text of c.neverSent ?? []) assert.ok(!sent.includes(text), `${JSON.stringify(text)} reached the server`);

      let states: Record<string, unknown>[];
      let locks: Record<string, unknown>[];
      try {
        states = await probeSessions(app);
        locks = await foreignLocks(db);
      } finally {
        // Also on failure, so that one case's leftovers do not fail the next.
        await endBackends(db, app);
      }
      for (const state of states) assert.deepEqual(state, baselineSession, 'session state of the planner');
      assert.deepEqual(locks, [], 'locks held after the analysis');
      assert.deepEqual(await snapshot(db), baseline);
      assert.deepEqual(await writeCounters(db), countersBefore);
    });
  }

  it('control: each detector sees the damage it is there to see', async () => {
    const { Client } = await import('pg');
    const evil = new Client({ connectionString: viaPort(db.url, 5432, { application_name: 'sqli_control' }) });
    await evil.connect();
    const countersBefore = await writeCounters(db);
    try {
      // A rolled-back write moves the counters; a session lock shows in pg_locks.
      await evil.query("BEGIN; INSERT INTO audit VALUES (9, 'control'); ROLLBACK; SELECT locks_immutable()");
      assert.deepEqual(
        (await foreignLocks(db)).map((l) => l.locktype),
        ['advisory', 'advisory'],
      );
      await evil.query('DELETE FROM audit WHERE id = 1');
      assert.notDeepEqual(await snapshot(db), baseline);
    } finally {
      await evil.query("INSERT INTO audit VALUES (1, 'seed')");
      await evil.end();
    }
    await endBackends(db, 'sqli_control');
    assert.notDeepEqual(await writeCounters(db), countersBefore);
  });
});
