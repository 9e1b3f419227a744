// EXPLAIN ANALYZE and the rules that read its actual rows, times and buffers. The database gets a tiny
// work_mem and no parallel workers, so that spills, lossy bitmaps and missing workers really happen.
import * as assert from 'node:assert/strict';
import { normalizeSettings, type SqlInsightSettings } from '../../common/protocol';
import { LineIndex } from '../../server/src/core/positions';
import { createSqlInsightService, type AnalyzeOutcome, type DocumentAnalysis } from '../../server/src/core/service';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';

describe('EXPLAIN ANALYZE rules against PostgreSQL', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let planner: PgPlanner;
  let settings: SqlInsightSettings;
  const service = createSqlInsightService();

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('analyze');
    await db.query(`ALTER DATABASE ${db.name} SET work_mem = '64kB'`);
    await db.query(`ALTER DATABASE ${db.name} SET max_parallel_workers = 0`);
    // An index whose order has nothing to do with the table's, for a bitmap scan over every page.
    await db.query('CREATE INDEX order_items_product_id_idx ON order_items (product_id); ANALYZE order_items');
    settings = normalizeSettings({ databaseUrl: db.url });
    planner = new PgPlanner(resolveConnection(settings, {}));
  });
  after(async () => {
    await planner?.dispose();
    await db?.drop();
  });

  async function analyze(sql: string, confirmed = false): Promise<{ outcome: AnalyzeOutcome; found: { code: string; text: string; message: string }[]; analysis: DocumentAnalysis }> {
    const parsed = await service.parse({ uri: 'file:///analyze.sql', languageId: 'sql', version: 1, getText: () => sql }, settings);
    const analysis = await service.doValidation(parsed, planner, settings);
    const outcome = await service.analyzeStatement(analysis, 0, planner, settings, { confirmed });
    const lines = new LineIndex(sql);
    const found = analysis.diagnostics.map((d) => ({
      code: d.code,
      text: sql.slice(lines.offsetAt(d.range.start), lines.offsetAt(d.range.end)),
      message: d.message,
    }));
    return { outcome, found, analysis };
  }

  const codes = (xs: { code: string }[]): string[] => xs.map((x) => x.code).sort();
  const only = (xs: { code: string; text: string; message: string }[], code: string) => xs.filter((x) => x.code === code);

  it('row-estimate-misleading: correlated columns, with extended statistics suggested', async () => {
    const { outcome, found } = await analyze("SELECT id FROM customers WHERE country = 'FR' AND status = 'inactive'");
    assert.equal(outcome.kind, 'analyzed');
    const [d] = only(found, 'row-estimate-misleading');
    assert.ok(d, JSON.stringify(found));
    assert.equal(d.text, 'customers');
    assert.match(d.message, /estimated [\d,]+ rows, actually 0/);
    assert.match(d.message, /CREATE STATISTICS customers_country_status_stats \(dependencies, mcv\) ON country, status FROM customers/);
  });

  it('keeps what Analyze measured across a re-validation, for statements whose text did not change', async () => {
    const sql = "SELECT id FROM customers WHERE country = 'FR' AND status = 'inactive';\nSELECT 1;";
    const { analysis } = await analyze(sql);
    const again = await service.doValidation(await service.parse({ uri: 'file:///analyze.sql', languageId: 'sql', version: 2, getText: () => sql }, settings), planner, settings, undefined, analysis);
    assert.ok(again.diagnostics.some((d) => d.code === 'row-estimate-misleading'), JSON.stringify(again.diagnostics));
    const edited = sql.replace("'FR'", "'DE'");
    const changed = await service.doValidation(await service.parse({ uri: 'file:///analyze.sql', languageId: 'sql', version: 3, getText: () => edited }, settings), planner, settings, undefined, analysis);
    assert.ok(!changed.diagnostics.some((d) => d.code === 'row-estimate-misleading'), 'an edited statement needs a new Analyze');
  });

  it('disk-sort-or-hash: an external sort', async () => {
    const { found } = await analyze('SELECT id, total FROM orders ORDER BY total DESC, note');
    const [d] = only(found, 'disk-sort-or-hash');
    assert.ok(d, JSON.stringify(found));
    assert.equal(d.text, 'orders');
    assert.match(d.message, /Sort spilled to disk: external merge, [\d,]+ kB on disk/);
  });

  it('hash-batches: a hash join over many batches', async () => {
    const { found } = await analyze('SELECT o.id, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.total > 10');
    const [d] = only(found, 'hash-batches');
    assert.ok(d, JSON.stringify(found));
    assert.match(d.message, /needed \d+ batches/);
  });

  it('lossy-bitmap: a bitmap that outgrew work_mem', async () => {
    const { found } = await analyze('SELECT count(quantity) FROM order_items WHERE product_id < 200');
    const [d] = only(found, 'lossy-bitmap');
    assert.ok(d, JSON.stringify(found));
    assert.equal(d.text, 'order_items');
    assert.match(d.message, /[\d,]+ lossy heap blocks/);
  });

  it('workers-not-launched: a parallel plan without workers', async () => {
    const { found } = await analyze('SELECT count(*) FROM order_items');
    const [d] = only(found, 'workers-not-launched');
    assert.ok(d, JSON.stringify(found));
    assert.match(d.message, /planned 1 parallel workers but launched 0/);
  });

  it('index-then-filter reports what the filter actually removed', async () => {
    const { found } = await analyze("SELECT id, email FROM customers WHERE created_at >= '2021-01-01' AND created_at < '2021-03-01' AND status = 'blocked'");
    const [d] = only(found, 'index-then-filter');
    assert.ok(d, JSON.stringify(found));
    assert.match(d.message, /\(EXPLAIN ANALYZE: ~\d+ kept\)/);
  });

  it('stays quiet on a primary-key lookup and a top-N an index serves', async () => {
    for (const sql of ['SELECT name FROM customers WHERE id = 5', 'SELECT id FROM customers ORDER BY created_at LIMIT 5']) {
      const { outcome, found } = await analyze(sql);
      assert.equal(outcome.kind, 'analyzed');
      assert.deepEqual(found, [], sql);
    }
  });

  it('heap-fetches before VACUUM, and not after it', async () => {
    const sql = 'SELECT id FROM customers WHERE id < 5000';
    const { found } = await analyze(sql);
    const [d] = only(found, 'heap-fetches');
    assert.ok(d, JSON.stringify(found));
    assert.match(d.message, /fetched 4,999 of 4,999 rows from the table/);
    assert.match(d.message, /VACUUM customers/);
    await db.query('VACUUM customers');
    assert.deepEqual(codes((await analyze(sql)).found), []);
  });

  it('asks before running a data-changing statement, then runs it and rolls it back', async () => {
    const sql = 'DELETE FROM order_items WHERE quantity = 2';
    const first = await analyze(sql);
    assert.equal(first.outcome.kind, 'needs-confirmation');
    assert.match((first.outcome as { message: string }).message, /rolled back/);
    const second = await analyze(sql, true);
    assert.equal(second.outcome.kind, 'analyzed');
    assert.ok(second.outcome.kind === 'analyzed' && second.outcome.rows === 0, 'ModifyTable returns no rows');
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM order_items WHERE quantity = 2');
    assert.equal(n, 120_000, 'nothing was deleted');
  });

  it('treats a data-modifying WITH as data-changing', async () => {
    const { outcome } = await analyze('WITH d AS (DELETE FROM countries RETURNING code) SELECT count(*) FROM d');
    assert.equal(outcome.kind, 'needs-confirmation');
  });

  it('does not run statements with parameters, and says why', async () => {
    const { outcome } = await analyze('SELECT * FROM customers WHERE id = $1');
    assert.equal(outcome.kind, 'not-analyzed');
    assert.match((outcome as { message: string }).message, /parameters have no values/);
  });

  it('shows actual rows, time and buffers in the hover', async () => {
    const { analysis } = await analyze('SELECT id FROM customers WHERE id < 50');
    const hover = service.doHover(analysis, { line: 0, character: 2 });
    const md = hover?.contents.value ?? '';
    assert.match(md, /\*\*EXPLAIN ANALYZE\*\* · execution [\d.]+ ms/);
    assert.match(md, /\(actual time=[\d.]+\.\.[\d.]+ rows=49 loops=1\)/);
    assert.match(md, /Buffers: shared hit=\d+/);
  });
});
