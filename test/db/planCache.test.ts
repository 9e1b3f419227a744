// The plan cache and batched planning against a real PostgreSQL: unchanged statements are not sent again,
// DDL on one table replans exactly the statements on that table, and one failing statement in a batch
// leaves the others planned.
import * as assert from 'node:assert/strict';
import type { CallContext, ExplainResult, Planner, PlanRequest } from '../../server/src/core/ports';
import { createSqlInsightService, type DocumentAnalysis, type SqlInsightService } from '../../server/src/core/service';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { createTestDatabase, requireServer, type TestDatabase } from '../helpers/testDb';
import { settingsFor, waitFor } from './support';

/** Counts what reaches the planner's EXPLAINs, statement by statement. */
function counting(inner: PgPlanner): Planner & { explained: string[] } {
  const explained: string[] = [];
  return {
    explained,
    explain: (req: PlanRequest, ctx: CallContext) => {
      explained.push(req.sql);
      return inner.explain(req, ctx);
    },
    explainBatch: (reqs: PlanRequest[], ctx: CallContext) => {
      explained.push(...reqs.map((r) => r.sql));
      return inner.explainBatch(reqs, ctx);
    },
    schemaVersions: (names, ctx) => inner.schemaVersions(names, ctx),
    describeRelations: (names, ctx) => inner.describeRelations(names, ctx),
    describeDatabase: (ctx) => inner.describeDatabase(ctx),
    whatIf: (req, c, ctx) => inner.whatIf(req, c, ctx),
  };
}

const SCHEMA = `
CREATE TABLE a (id int PRIMARY KEY, x int, note text);
CREATE TABLE b (id int PRIMARY KEY, y int);
CREATE TABLE c (id int PRIMARY KEY, z int);
INSERT INTO a SELECT g, g % 100, 'n' FROM generate_series(1, 2000) g;
INSERT INTO b SELECT g, g % 100 FROM generate_series(1, 2000) g;
INSERT INTO c SELECT g, g % 100 FROM generate_series(1, 2000) g;
ANALYZE;
CREATE VIEW vb AS SELECT id, y FROM b WHERE y > 10;
`;

const STATEMENTS = [
  'SELECT * FROM a WHERE x = 1',
  'SELECT * FROM b WHERE y = 1',
  'SELECT * FROM c WHERE z = 1',
  'SELECT a.id FROM a JOIN c ON c.id = a.id WHERE c.z = 2',
  'SELECT * FROM vb WHERE y = 3',
  'SELECT 1',
];

describe('db: plan cache and batches', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let pg: PgPlanner;
  let planner: ReturnType<typeof counting>;
  let service: SqlInsightService;
  const settings = (): ReturnType<typeof settingsFor> => settingsFor(db.url);
  let version = 0;

  async function validate(statements: string[]): Promise<DocumentAnalysis> {
    const doc = { uri: 'file:///cache.sql', languageId: 'sql', version: ++version, getText: () => statements.join(';\n') + ';\n' };
    const parsed = await service.parse(doc, settings());
    return service.doValidation(parsed, planner, settings());
  }

  /** The statements EXPLAINed by one validation. */
  async function explainedBy(statements: string[]): Promise<string[]> {
    planner.explained.length = 0;
    const analysis = await validate(statements);
    for (const r of analysis.results) if (r.stmt.parse.ok) assert.equal(r.explain?.kind, 'plan', `${r.stmt.text}: ${JSON.stringify(r.explain)}`);
    return [...planner.explained].sort();
  }

  before(requireServer);
  before(async () => {
    db = await createTestDatabase('plancache', SCHEMA);
    pg = new PgPlanner(resolveConnection(settingsFor(db.url), {}));
    planner = counting(pg);
    service = createSqlInsightService();
  });
  after(async () => {
    await pg?.dispose();
    await db?.drop();
  });

  beforeEach(async () => {
    service = createSqlInsightService();
    await explainedBy(STATEMENTS);
  });

  it('plans nothing again when nothing changed, and the same findings come back', async () => {
    const first = await validate(STATEMENTS);
    assert.deepEqual(await explainedBy(STATEMENTS), []);
    const again = await validate(STATEMENTS);
    assert.deepEqual(
      again.diagnostics.map((d) => [d.code, d.range]),
      first.diagnostics.map((d) => [d.code, d.range]),
    );
    assert.deepEqual(service.lastPlanStats, { statements: STATEMENTS.length, cached: STATEMENTS.length, planned: 0 });
  });

  it('plans only the edited statement, wherever the others moved', async () => {
    const edited = ['SELECT * FROM b WHERE y = 99', ...STATEMENTS.slice(0, 1), 'SELECT * FROM a WHERE x = 2', ...STATEMENTS.slice(1)];
    assert.deepEqual(await explainedBy(edited), ['SELECT * FROM a WHERE x = 2', 'SELECT * FROM b WHERE y = 99']);
  });

  it('CREATE INDEX and DROP INDEX on b replan exactly the statements on b (and the view over it)', async () => {
    await db.query('CREATE INDEX b_y_idx ON b (y)');
    assert.deepEqual(await explainedBy(STATEMENTS), ['SELECT * FROM b WHERE y = 1', 'SELECT * FROM vb WHERE y = 3']);
    const analysis = await validate(STATEMENTS);
    assert.ok(JSON.stringify(analysis.results[1].explain).includes('b_y_idx'), 'the new plan uses the new index');
    await db.query('DROP INDEX b_y_idx');
    // The catalog is as it was before the index: the plans cached then are right again, and are used.
    assert.deepEqual(await explainedBy(STATEMENTS), []);
    assert.ok(!JSON.stringify((await validate(STATEMENTS)).results.map((r) => r.explain)).includes('b_y_idx'));
  });

  it('ALTER TABLE, ANALYZE and a SET NOT NULL on c replan exactly the statements on c', async () => {
    const onC = ['SELECT * FROM c WHERE z = 1', 'SELECT a.id FROM a JOIN c ON c.id = a.id WHERE c.z = 2'];
    await db.query('ALTER TABLE c ADD COLUMN w int');
    assert.deepEqual(await explainedBy(STATEMENTS), onC);
    await db.query('INSERT INTO c SELECT g, 5 FROM generate_series(2001, 4000) g; ANALYZE c');
    assert.deepEqual(await explainedBy(STATEMENTS), onC);
    // ANALYZE with the same sizes rewrites only pg_statistic: the analyze counter catches it.
    await db.query('ANALYZE c');
    assert.deepEqual(await explainedBy(STATEMENTS), onC);
    await db.query('ALTER TABLE c ALTER COLUMN z SET NOT NULL');
    assert.deepEqual(await explainedBy(STATEMENTS), onC);
  });

  it("a what-if's ANALYZE, rolled back, replans nothing; a real ANALYZE afterwards still does", async () => {
    const counter = async (): Promise<number> =>
      Number((await db.query<{ n: string }>("SELECT pg_stat_get_analyze_count('a'::regclass)::text AS n"))[0].n);
    const before = await counter();
    // An expression index is proven by building it for real and analysing the table, then rolling back.
    const proof = await pg.whatIf(
      { sql: 'SELECT * FROM a WHERE lower(note) = $1', paramCount: 1 },
      { table: { name: 'a' }, sql: 'CREATE INDEX a_lower_note_idx ON a (lower(note))', name: 'a_lower_note_idx', needsRealBuild: true },
      { settings: settings() },
    );
    assert.equal(proof.kind, 'proven', JSON.stringify(proof));
    // The counter did move (so the markers would have seen a change without the subtraction)...
    assert.equal(await counter(), before + 1);
    assert.deepEqual(await explainedBy(STATEMENTS), []);
    await db.query('ANALYZE a');
    assert.deepEqual(await explainedBy(STATEMENTS), ['SELECT * FROM a WHERE x = 1', 'SELECT a.id FROM a JOIN c ON c.id = a.id WHERE c.z = 2']);
  });

  it("a what-if aborted while it analyses (a newer save) still leaves the plans of its table cached", async () => {
    // Large enough for ANALYZE to take a while, so that the abort lands while it runs.
    await db.query("CREATE TABLE big AS SELECT g AS id, 'note ' || g AS note FROM generate_series(1, 300000) g; ANALYZE big");
    const onBig = ['SELECT * FROM big WHERE id = 1'];
    await explainedBy(onBig);
    const ac = new AbortController();
    const proof = pg.whatIf(
      { sql: "SELECT * FROM big WHERE lower(note) = 'x'", paramCount: 0 },
      { table: { name: 'big' }, sql: 'CREATE INDEX big_lower_note_idx ON big (lower(note))', name: 'big_lower_note_idx', needsRealBuild: true },
      { settings: settings(), signal: ac.signal },
    );
    await waitFor(
      async () => (await db.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'sql-insight' AND query LIKE 'ANALYZE%' AND state = 'active'")).length > 0,
      'the what-if to analyse',
      20_000,
    );
    ac.abort();
    await proof;
    assert.deepEqual(await explainedBy(onBig), []);
  });

  it('a table created after the statement failed is planned then, and errors are never served from the cache', async () => {
    const withMissing = [...STATEMENTS, 'SELECT * FROM d'];
    planner.explained.length = 0;
    const first = await validate(withMissing);
    assert.equal(first.results.at(-1)?.explain?.kind, 'error');
    assert.deepEqual(planner.explained, ['SELECT * FROM d']);
    await db.query('CREATE TABLE d (id int)');
    try {
      planner.explained.length = 0;
      const second = await validate(withMissing);
      assert.equal(second.results.at(-1)?.explain?.kind, 'plan');
      assert.deepEqual(planner.explained, ['SELECT * FROM d']);
    } finally {
      await db.query('DROP TABLE d');
    }
  });

  it('a changed function replans (user functions are part of the scope)', async () => {
    await db.query('CREATE OR REPLACE FUNCTION pc_f(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$');
    await explainedBy(STATEMENTS);
    assert.deepEqual(await explainedBy(STATEMENTS), []);
    await db.query('CREATE OR REPLACE FUNCTION pc_f(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 + 1 $$');
    assert.equal((await explainedBy(STATEMENTS)).length, STATEMENTS.length);
  });

  it('a batch with failing statements in the middle plans all the others', async () => {
    const reqs = [
      'SELECT * FROM a WHERE x = 1',
      'SELECT * FROM nope',
      'SELECT * FROM b WHERE y = 1',
      'SELECT z FROM c WHERE z = $1',
      'SELECT * FROM c WHERE no_such_column = 1',
      ...Array.from({ length: 40 }, (_, i) => `SELECT * FROM c WHERE z = ${i}`),
    ].map((sql) => ({ sql, paramCount: sql.includes('$1') ? 1 : 0 }));
    const results: ExplainResult[] = await pg.explainBatch(reqs, { settings: settings() });
    assert.equal(results.length, reqs.length);
    assert.deepEqual(
      results.slice(0, 5).map((r) => r.kind),
      ['plan', 'error', 'plan', 'plan', 'error'],
    );
    assert.ok(results.slice(5).every((r) => r.kind === 'plan'));
    const generic = results[3];
    assert.ok(generic.kind === 'plan' && generic.generic && generic.paramTypes[0] === 'integer');
  });

  it('a function that clears statement_timeout while planned does not clear it for the next statement of the batch', async () => {
    await db.query(`
      CREATE OR REPLACE FUNCTION pc_clear_timeout() RETURNS int LANGUAGE plpgsql IMMUTABLE AS
        $$ BEGIN PERFORM set_config('statement_timeout', '0', false); RETURN 1; END $$;
      CREATE OR REPLACE FUNCTION pc_timeout() RETURNS text LANGUAGE plpgsql IMMUTABLE AS
        $$ BEGIN RETURN current_setting('statement_timeout'); END $$;`);
    const results = await pg.explainBatch(
      [
        { sql: 'SELECT pc_clear_timeout()', paramCount: 0 },
        { sql: 'SELECT pc_timeout()', paramCount: 0 },
      ],
      { settings: { ...settings(), statementTimeoutMs: 4321 } },
    );
    const second = results[1];
    assert.equal(second.kind, 'plan');
    // The immutable call is folded while planning: its value is in the plan's output.
    assert.match(JSON.stringify(second.kind === 'plan' ? second.plan.Output : ''), /4321ms/);
  });
});
