// Tries to make the language server change the user's database or leave something behind, through the real
// protocol against a real PostgreSQL: writes of every statement kind, functions that write, lock or change
// session state while being planned, smuggled statements. Each case is opened (plain EXPLAIN), then every
// finding's fix is proven (index what-ifs), and every statement is sent to EXPLAIN ANALYZE through the
// Analyze request, as the code lens does: first unconfirmed, then — for a statement that changes data — with
// the user's confirmation, so that it really runs, inside the transaction that must be rolled back.
// Afterwards rows, sequence, catalog, locks and the planner's session state must be exactly as before, and
// statements that are not plannable must not have reached the server at all (a proxy records every byte the
// server was sent).
//
// Write counters: PostgreSQL counts attempted writes in n_tup_ins/upd/del/hot_upd whether the transaction
// commits or not, and rolled-back inserted or updated rows as n_dead_tup (which later page pruning lowers
// again). Only committed writes move n_live_tup and n_mod_since_analyze. So without a confirmed Analyze every
// counter must be unchanged; after one, n_live_tup and n_mod_since_analyze must be unchanged and
// n_tup_ins/upd/del must have moved by exactly the rows the statement writes (proving that it ran).
import * as assert from 'node:assert/strict';
import { ANALYZE_REQUEST, type AnalyzeParams, type AnalyzeResult } from '../../common/protocol';
import { splitStatements } from '../../server/src/core/split';
import { LspClient, messageOf } from '../helpers/lspClient';
import { requireServer, type TestDatabase } from '../helpers/testDb';
import { TcpProxy, viaPort } from '../db/support';
import { createHostileDatabase, endBackends, foreignLocks, snapshot, writeCounters, type WriteCounters } from './hostileDb';

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
  /**
   * The Analyze request's answer for each statement, in order: `analyzed`, `refused: <message part>` (not
   * analysed before anything was sent), `failed: <PostgreSQL's message part>`, or `confirmed` (needed the
   * confirmation, then ran). Default: `R`, refused as not explainable, for every statement.
   */
  analyze?: string[];
  /** What the confirmed Analyze of its writes attempted (and rolled back), per table. */
  attempted?: Record<string, Partial<Record<'ins' | 'upd' | 'del', number>>>;
}

const R = 'refused: Only SELECT, INSERT, UPDATE, DELETE';
const READ_ONLY = 'read-only transaction';

const CASES: Case[] = [
  { name: 'DELETE', sql: "DELETE FROM victims WHERE lower(email) = 'v1@example.com'", sent: 'DELETE FROM victims', whatIf: true, analyze: ['confirmed → analyzed'], attempted: { victims: { del: 1 } } },
  { name: 'UPDATE', sql: "UPDATE victims SET note = 'pwned' WHERE note = 'note 7'", sent: "SET note = 'pwned'", whatIf: true, analyze: ['confirmed → analyzed'], attempted: { victims: { upd: 50 } } },
  { name: 'INSERT … SELECT', sql: "INSERT INTO audit SELECT id, note FROM victims WHERE note = 'note 8'", sent: 'INSERT INTO audit', whatIf: true, analyze: ['confirmed → analyzed'], attempted: { audit: { ins: 50 } } },
  { name: 'DELETE with a parameter (PREPARE path)', sql: 'DELETE FROM victims WHERE note = $1', sent: 'DELETE FROM victims WHERE note = $1', whatIf: true, analyze: ['confirmed → refused: $n parameters have no values'] },
  { name: 'MERGE (not planned)', sql: 'MERGE INTO victims v USING audit a ON v.id = a.id WHEN MATCHED THEN DELETE', neverSent: ['MERGE INTO'] },
  { name: 'SELECT of a volatile function that writes', sql: "SELECT writes_volatile() FROM victims WHERE note = 'note 9'", sent: 'writes_volatile()', whatIf: true, analyze: [`failed: cannot execute INSERT in a ${READ_ONLY}`] },
  {
    name: 'SELECT of a writing function mislabelled IMMUTABLE (runs while planning)',
    sql: 'SELECT * FROM victims WHERE id = writes_immutable()',
    sent: 'writes_immutable()',
    codes: ['database-error'],
    analyze: ['failed: DELETE is not allowed in a non-volatile function'],
  },
  { name: 'nextval() while planning', sql: 'SELECT * FROM victims WHERE id = bumps_immutable()', sent: 'bumps_immutable()', codes: ['database-error'], analyze: [`failed: cannot execute nextval() in a ${READ_ONLY}`] },
  { name: 'nextval() as a volatile call', sql: "SELECT nextval('victims_seq'), setval('victims_seq', 1)", sent: "nextval('victims_seq')", analyze: [`failed: cannot execute nextval() in a ${READ_ONLY}`] },
  { name: 'session advisory lock taken while planning', sql: 'SELECT locks_immutable()', sent: 'locks_immutable()', analyze: ['analyzed'] },
  { name: 'session settings changed while planning', sql: 'SELECT sets_immutable()', sent: 'sets_immutable()', analyze: ['analyzed'] },
  { name: 'advisory lock as a volatile call', sql: 'SELECT pg_advisory_lock(1), pg_advisory_xact_lock(2)', sent: 'pg_advisory_lock(1)', analyze: ['analyzed'] },
  { name: 'CTE with DELETE', sql: 'WITH gone AS (DELETE FROM victims RETURNING *) SELECT count(*) FROM gone', sent: 'WITH gone AS', analyze: ['confirmed → analyzed'], attempted: { victims: { del: 50_000 } } },
  {
    name: 'CTE with UPDATE feeding an INSERT',
    sql: "WITH moved AS (UPDATE victims SET note = 'x' WHERE note = 'note 3' RETURNING id) INSERT INTO audit SELECT id, 'moved' FROM moved",
    sent: 'WITH moved AS',
    analyze: ['confirmed → analyzed'],
    attempted: { victims: { upd: 50 }, audit: { ins: 50 } },
  },
  { name: 'SELECT … FOR UPDATE', sql: "SELECT * FROM victims WHERE note = 'note 5' FOR UPDATE", sent: 'FOR UPDATE', whatIf: true, analyze: [`failed: cannot execute SELECT FOR UPDATE in a ${READ_ONLY}`] },
  { name: 'SELECT … INTO (creates a table; not planned)', sql: 'SELECT * INTO stolen FROM victims', neverSent: ['INTO stolen'] },
  { name: 'COPY', sql: "COPY victims FROM PROGRAM 'touch /tmp/sqli-pwned'; COPY (SELECT 1) TO '/tmp/sqli-out'", neverSent: ['COPY victims', 'COPY (SELECT', 'sqli-pwned'] },
  { name: 'DO', sql: 'DO $$ BEGIN DELETE FROM victims; END $$', neverSent: ['DO $$', 'BEGIN DELETE'] },
  { name: 'CALL', sql: 'CALL wipe()', neverSent: ['CALL wipe', 'wipe()'] },
  {
    name: 'SET and RESET of session state',
    sql: "SET search_path = pg_catalog; SET statement_timeout = 0; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; RESET ALL; SET ROLE postgres; SELECT set_config('sqli.poisoned', 'yes', false)",
    neverSent: ['SET search_path', 'statement_timeout = 0', 'SESSION CHARACTERISTICS', 'RESET ALL', 'SET ROLE'],
    sent: "set_config('sqli.poisoned'",
    analyze: [R, R, R, R, R, 'analyzed'],
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
    analyze: ['analyzed', 'confirmed → analyzed', R, R],
    attempted: { victims: { del: 1 } },
  },
  {
    name: 'comment tricks',
    sql: "SELECT 1 /* ; DROP TABLE victims; */ FROM victims WHERE note = 'c' -- ; harmless\n; /* a /* nested */ ; TRUNCATE audit; */ SELECT 2; -- /* \nTRUNCATE victims",
    sent: '/* ; DROP TABLE victims; */',
    neverSent: ['TRUNCATE audit', 'TRUNCATE victims'],
    analyze: ['analyzed', 'analyzed', R],
  },
  {
    name: 'dollar quoting and escape strings',
    sql: "SELECT $x$; DROP TABLE victims; $x$; SELECT $$ $x$ $$; DROP TABLE audit; SELECT E'\\'; TRUNCATE victims; --'; SELECT '\\'; TRUNCATE audit; --'",
    sent: '$x$; DROP TABLE victims; $x$',
    neverSent: ['DROP TABLE audit', 'TRUNCATE audit'],
    analyze: ['analyzed', 'analyzed', R, 'analyzed', 'analyzed', R],
  },
  { name: 'NUL byte', sql: "SELECT 1 FROM victims WHERE note = 'x\u0000'; DELETE FROM victims", neverSent: ["note = 'x"], analyze: [R, 'confirmed → analyzed'], attempted: { victims: { del: 50_000 } } },
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

  it('analyses inside transactions with statement_timeout and lock_timeout set, read-write only for a confirmed write', async () => {
    const app = `sqli_safety_${++n}`;
    await client.configure({ databaseUrl: viaPort(db.url, port, { application_name: app }), statementTimeoutMs: 4321, lockTimeoutMs: 1234 });
    // The probe raises while EXPLAIN ANALYZE plans, from inside the transaction Analyze opened.
    const sql = 'SELECT sqli_probe(1);\nWITH w AS (DELETE FROM audit WHERE false RETURNING 1) SELECT sqli_probe(2) FROM w;';
    const uri = `file:///safety/analyze-probe-${n}.sql`;
    await client.open(uri, sql);
    const probe = async (line: number, confirmed: boolean): Promise<Record<string, unknown>> => {
      const params: AnalyzeParams = { uri, position: { line, character: 0 }, confirmed };
      const answer = await client.connection.sendRequest<AnalyzeResult>(ANALYZE_REQUEST, params);
      const m = /probe (\{.*\})/s.exec(answer.message);
      assert.ok(m, `not a probe answer: ${JSON.stringify(answer)}`);
      return JSON.parse(m[1]) as Record<string, unknown>;
    };
    try {
      const query = await probe(0, false);
      const write = await probe(1, true);
      assert.deepEqual([query.statement_timeout, query.lock_timeout, query.read_only], ['4321ms', '1234ms', 'on']);
      assert.deepEqual([write.statement_timeout, write.lock_timeout, write.read_only], ['4321ms', '1234ms', 'off']);
    } finally {
      await client.close(uri);
      await endBackends(db, app);
    }
  });

  /**
   * Sends every statement to Analyze as the code lens would, unconfirmed first, then confirmed: a statement
   * that needs the confirmation must not have reached the server before it is given, and a statement that does
   * not must get the same answer with it. Returns the answers in the notation of `Case.analyze`.
   */
  async function analyzeEach(uri: string, sql: string, traffic: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const span of splitStatements(sql)) {
      const params = (confirmed: boolean): AnalyzeParams => ({ uri, position: positionAt(sql, span.start), confirmed });
      const ask = async (confirmed: boolean): Promise<{ answer: AnalyzeResult; ran: boolean }> => {
        traffic.push(proxy.takeSent());
        const answer = await client.connection.sendRequest<AnalyzeResult>(ANALYZE_REQUEST, params(confirmed));
        const sent = proxy.takeSent();
        traffic.push(sent);
        return { answer, ran: sent.includes(EXPLAIN_ANALYZE) };
      };
      const describe = ({ answer, ran }: { answer: AnalyzeResult; ran: boolean }): string => {
        if (answer.kind === 'analyzed') {
          assert.ok(ran, 'analysed without EXPLAIN ANALYZE reaching the server?');
          return 'analyzed';
        }
        assert.equal(answer.kind, 'not-analyzed', JSON.stringify(answer));
        return `${ran ? 'failed' : 'refused'}: ${answer.message}`;
      };
      const first = await ask(false);
      if (first.answer.kind === 'needs-confirmation') {
        assert.ok(!first.ran, 'a data-changing statement ran without the confirmation');
        out.push(`confirmed → ${describe(await ask(true))}`);
      } else {
        const answer = describe(first);
        const again = describe(await ask(true));
        assert.equal(again.replace(/ in [\d.]+ ms/, ''), answer.replace(/ in [\d.]+ ms/, ''), 'the confirmation changed nothing for this statement');
        out.push(answer);
      }
    }
    return out;
  }

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
      const traffic: string[] = [];
      const analyzed = await analyzeEach(uri, c.sql, traffic);
      await client.close(uri);

      const sent = traffic.join('') + proxy.takeSent();
      if (c.sent) assert.ok(sent.includes(c.sent), `expected to see ${JSON.stringify(c.sent)} sent`);
      for (const text of c.neverSent ?? []) assert.ok(!sent.includes(text), `${JSON.stringify(text)} reached the server`);
      const expected = c.analyze ?? splitStatements(c.sql).map(() => R);
      assert.equal(analyzed.length, expected.length, JSON.stringify(analyzed));
      // (Not "…: expected …": mocha cuts a message there.)
      analyzed.forEach((a, i) => assert.ok(outcomeMatches(a, expected[i]), `Analyze of statement ${i + 1} answered ${JSON.stringify(a)}, not ${JSON.stringify(expected[i])}`));

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
      assertCounters(countersBefore, await writeCounters(db), c.attempted ?? {});
    });
  }

  it('control: each detector sees the damage it is there to see', async () => {
    const { Client } = await import('pg');
    const connect = async (app: string): Promise<InstanceType<typeof Client>> => {
      const c = new Client({ connectionString: viaPort(db.url, 5432, { application_name: app }) });
      await c.connect();
      return c;
    };
    const countersBefore = await writeCounters(db);
    // A rolled-back write moves the attempt counters only; a session lock shows in pg_locks.
    const rolledBack = await connect('sqli_control_1');
    try {
      await rolledBack.query("BEGIN; INSERT INTO audit VALUES (9, 'control'); ROLLBACK; SELECT locks_immutable()");
      assert.deepEqual(
        (await foreignLocks(db)).map((l) => l.locktype),
        ['advisory', 'advisory'],
      );
    } finally {
      await rolledBack.end();
    }
    await endBackends(db, 'sqli_control_1');
    const countersRolledBack = await writeCounters(db);
    assertCounters(countersBefore, countersRolledBack, { audit: { ins: 1 } });
    assert.throws(() => assertCounters(countersBefore, countersRolledBack, {}), /write counters of audit/);

    // A committed write changes the rows, and n_live_tup or n_mod_since_analyze, whatever it attempted.
    const committed = await connect('sqli_control_2');
    try {
      await committed.query('DELETE FROM audit WHERE id = 1');
      assert.notDeepEqual(await snapshot(db), baseline);
    } finally {
      await committed.query("INSERT INTO audit VALUES (1, 'seed')");
      await committed.end();
    }
    await endBackends(db, 'sqli_control_2');
    const countersCommitted = await writeCounters(db);
    assert.throws(() => assertCounters(countersRolledBack, countersCommitted, { audit: { ins: 1, del: 1 } }), /write counters of audit/);
  });
});

const EXPLAIN_ANALYZE = 'EXPLAIN (ANALYZE';

/** `expected` is the outcome, or its kind and a part of its message (`refused: Only SELECT`). */
function outcomeMatches(actual: string, expected: string): boolean {
  const colon = expected.indexOf(': ');
  if (colon < 0) return actual === expected;
  return actual.startsWith(expected.slice(0, colon + 2)) && actual.includes(expected.slice(colon + 2));
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Rolled-back writes move only the attempt counters, and by exactly what the statements wrote. */
function assertCounters(before: WriteCounters[], after: WriteCounters[], attempted: NonNullable<Case['attempted']>): void {
  assert.deepEqual(after.map((t) => t.relname), before.map((t) => t.relname));
  before.forEach((b, i) => {
    const a = after[i];
    const want = attempted[b.relname] ?? {};
    assert.deepEqual(
      { ins: a.ins - b.ins, upd: a.upd - b.upd, del: a.del - b.del, live: a.live - b.live, mod: a.mod - b.mod },
      { ins: want.ins ?? 0, upd: want.upd ?? 0, del: want.del ?? 0, live: 0, mod: 0 },
      `write counters of ${b.relname}`,
    );
    assert.ok(a.hot - b.hot >= 0 && a.hot - b.hot <= (want.upd ?? 0), `HOT updates of ${b.relname} are among its updates`);
  });
}
