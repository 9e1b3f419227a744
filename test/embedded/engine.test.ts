// The embedded engine against real PGlite: schema files loaded (and what it cannot run told in them), the
// core's findings on empty tables, synthetic statistics from row counts, the cluster cache, reloads.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeSettings, type StatusParams } from '../../common/protocol';
import { LineIndex } from '../../server/src/core/positions';
import type { CallContext } from '../../server/src/core/ports';
import { createSqlInsightService } from '../../server/src/core/service';
import type { Diagnostic } from '../../server/src/core/types';
import { EmbeddedDatabase, pagesFor, pgliteVersion, type SchemaNotes } from '../../server/src/db/embeddedDatabase';
import { makeWorkspace, SHOP_MIGRATIONS, TEST_STORAGE, type Workspace } from './support';

const service = createSqlInsightService();

function engine(ws: Workspace, logs: string[] = [], idleMs?: number): EmbeddedDatabase {
  return new EmbeddedDatabase({ root: ws.root, patterns: [], storagePath: TEST_STORAGE, log: (_l, m) => logs.push(m), idleMs });
}

/** Runs one SQL text through the core with the engine's planner, as the language server does. */
async function analyse(db: EmbeddedDatabase, text: string, settings = normalizeSettings({})) {
  const parsed = await service.parse({ uri: 'file:///q.sql', languageId: 'sql', version: 1, getText: () => text }, settings);
  const analysis = await service.doValidation(parsed, db.planner, settings);
  const lines = new LineIndex(text);
  const found = analysis.diagnostics.map((d) => ({ code: d.code, text: text.slice(lines.offsetAt(d.range.start), lines.offsetAt(d.range.end)), message: d.message }));
  return { analysis, found, settings };
}

const codes = (found: { code: string }[]): string[] => found.map((f) => f.code).sort();

describe('embedded: the engine over PGlite', function () {
  this.timeout(180_000);

  describe('a migration the engine cannot run entirely', () => {
    let ws: Workspace;
    let db: EmbeddedDatabase;
    const notes: SchemaNotes[] = [];
    const migration = [
      'CREATE EXTENSION IF NOT EXISTS postgis;',
      'CREATE EXTENSION IF NOT EXISTS pg_trgm;',
      'CREATE TABLE places (id bigint PRIMARY KEY, name text NOT NULL, kind text);',
      'CREATE INDEX CONCURRENTLY places_name_idx ON places (name);',
      'CREATE INDEX places_name_trgm ON places USING gin (name gin_trgm_ops);',
      'ALTER TABLE places OWNER TO app_owner;',
      'GRANT SELECT ON places TO reporting;',
      'CREATE TABLE visits (id bigint PRIMARY KEY, place_id bigint NOT NULL REFERENCES places (id));',
      '',
    ].join('\n');

    before(async () => {
      ws = makeWorkspace({ 'migrations/001_places.sql': migration, 'migrations/002_broken.sql': 'CREATE TABLE broken (id nosuchtype);\n' });
      db = engine(ws);
      db.onNotes((n) => notes.push(n));
    });
    after(async () => {
      await db?.dispose();
      ws?.remove();
    });

    it('loads the rest, and tells what it adapted or skipped as Information in the schema file', async () => {
      const { found } = await analyse(db, 'SELECT p.name FROM places p JOIN visits v ON v.place_id = p.id;');
      assert.deepEqual(found, [], 'places and visits exist');
      const relations = await db.planner.describeRelations([{ name: 'places' }], { settings: normalizeSettings({}) });
      const indexes = relations.get('places')?.indexes.map((i) => i.name).sort();
      assert.deepEqual(indexes, ['places_name_idx', 'places_name_trgm', 'places_pkey'], 'CONCURRENTLY loaded plainly; pg_trgm loaded');

      assert.equal(notes.length, 1);
      const uri = pathToFileURL(ws.file('migrations/001_places.sql')).href;
      const lines = new LineIndex(migration);
      const at = (d: Diagnostic): string => migration.slice(lines.offsetAt(d.range.start), lines.offsetAt(d.range.end));
      const mine = notes[0].get(uri) ?? [];
      assert.ok(mine.every((d) => d.severity === 3 && d.code === 'embedded-schema' && d.source === 'sql-insight'));
      assert.deepEqual(
        mine.map((d) => [at(d), d.message.replace(/:.*/, '')]),
        [
          ['CREATE EXTENSION IF NOT EXISTS postgis', 'Skipped'],
          ['CONCURRENTLY', 'Loaded without CONCURRENTLY'],
          ['ALTER TABLE places OWNER TO app_owner', 'Skipped'],
          ['GRANT SELECT ON places TO reporting', 'Skipped'],
        ],
      );
      assert.match(mine[0].message, /extension "postgis" is not available/);
      assert.match(mine[2].message, /role "app_owner" does not exist/);
      const broken = notes[0].get(pathToFileURL(ws.file('migrations/002_broken.sql')).href) ?? [];
      assert.equal(broken.length, 1);
      assert.match(broken[0].message, /^Not loaded into the embedded engine \(PGlite\): type "nosuchtype" does not exist/);
    });

    it('says in the status which database it is, and how many tables it holds', () => {
      const s: StatusParams = db.status;
      assert.equal(s.state, 'connected');
      assert.equal(s.database, 'embedded (2 tables from migrations/)');
      assert.match(s.message, /PGlite .*5 statements adapted or skipped/);
    });
  });

  describe('structural findings and synthetic sizes', () => {
    let ws: Workspace;
    let db: EmbeddedDatabase;
    const rowCounts = normalizeSettings({ embedded: { rowCounts: { orders: 5_000_000, 'public.customers': 200_000, nosuch: 1 } } });

    before(() => {
      ws = makeWorkspace(SHOP_MIGRATIONS);
      db = engine(ws);
    });
    after(async () => {
      await db?.dispose();
      ws?.remove();
    });

    it('finds a function on an indexed column in empty tables, but no size finding', async () => {
      const { analysis, found } = await analyse(
        db,
        "SELECT id FROM customers WHERE lower(email) = 'a@b.c';\nSELECT * FROM orders WHERE customer_id = 42;",
      );
      assert.deepEqual(found.map((f) => [f.code, f.text]), [['function-on-indexed-column', 'lower(email)']]);
      const plan = analysis.results[1].explain;
      assert.equal(plan?.kind === 'plan' && plan.statistics, 'none');
      const hover = service.doHover(analysis, analysis.document.lines.positionAt(60));
      assert.match(hover?.contents.value ?? '', /the tables are empty, so rows and costs say nothing about size/);
    });

    it('reports unknown tables, unknown columns and type errors where PostgreSQL does', async () => {
      const text = "SELECT * FROM nope;\nSELECT nosuch FROM orders;\nSELECT * FROM orders WHERE created_at = 42;";
      const { found } = await analyse(db, text);
      assert.deepEqual(
        found.map((f) => [f.code, f.text]),
        [
          ['database-error', 'nope'],
          ['database-error', 'nosuch'],
          ['database-error', '='],
        ],
      );
      assert.match(found[2].message, /operator does not exist: timestamp with time zone = integer/);
    });

    it('turns row counts into synthetic statistics: the full scan of a large table is found, the fix proven', async () => {
      const text = "SELECT * FROM orders WHERE customer_id = 42 AND status = 'paid';\nSELECT * FROM orders WHERE id = 7;";
      const { analysis, found, settings } = await analyse(db, text, rowCounts);
      assert.deepEqual(found.map((f) => [f.code, f.text]), [['seq-scan-large-table', 'orders']]);
      assert.match(found[0].message, /reads all ~5,000,000 rows/);
      const plan = analysis.results[0].explain;
      assert.equal(plan?.kind === 'plan' && plan.statistics, 'synthetic');
      const hover = service.doHover(analysis, { line: 0, character: 3 });
      assert.match(hover?.contents.value ?? '', /estimates are synthetic \(sqlInsight\.embedded\.rowCounts\)/);

      const all = await service.doCodeActions(analysis, analysis.diagnostics[0].range, analysis.diagnostics, db.planner, settings, {
        now: new Date(),
      });
      // The edit, and its "Copy CREATE INDEX" command.
      const actions = all.filter((a) => a.edit);
      assert.equal(actions.length, 1, 'the index is proven by a rolled-back what-if');
      assert.equal(all.filter((a) => a.command).length, 1);
      assert.match(actions[0].title, /^Create index on orders \(customer_id, status\) — cost [\d,]+ → [\d,.]+$/);

      const ctx: CallContext = { settings };
      const orders = (await db.planner.describeRelations([{ name: 'orders' }], ctx)).get('orders');
      assert.equal(orders?.reltuples, 5_000_000, 'the what-if left the synthetic size in place');
      assert.deepEqual(orders?.indexes.map((i) => i.name), ['orders_pkey'], 'and no index behind');
      assert.match(db.status.message, /synthetic statistics for 2 .*names no table "nosuch"/);
    });

    it('goes back to empty tables when the counts are removed', async () => {
      const { found } = await analyse(db, 'SELECT * FROM orders WHERE customer_id = 42;');
      assert.deepEqual(found, []);
      const orders = (await db.planner.describeRelations([{ name: 'orders' }], { settings: normalizeSettings({}) })).get('orders');
      assert.equal(orders?.reltuples, -1);
    });

    it('plans $n parameters as generic plans with their types', async () => {
      const r = await db.planner.explain(
        { sql: 'SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2', paramCount: 2 },
        { settings: normalizeSettings({}) },
      );
      assert.equal(r.kind, 'plan', JSON.stringify(r));
      assert.ok(r.kind === 'plan' && r.generic);
      assert.deepEqual(r.kind === 'plan' && r.paramTypes, ['bigint', 'timestamp with time zone']);
      assert.match(JSON.stringify(r.kind === 'plan' && r.plan), /customer_id = \$1/);
    });
  });

  describe('the cluster cache, reloads and idle release', () => {
    let ws: Workspace;
    const logs: string[] = [];
    const engines: EmbeddedDatabase[] = [];
    const open = (idleMs?: number): EmbeddedDatabase => {
      const e = engine(ws, logs, idleMs);
      engines.push(e);
      return e;
    };
    before(() => {
      ws = makeWorkspace({ 'schema.sql': 'CREATE TABLE a (id int PRIMARY KEY, v text);\nGRANT SELECT ON a TO nobody_here;\n' });
    });
    after(async () => {
      for (const e of engines) await e.dispose();
      ws?.remove();
    });

    it('reopens a schema it loaded before from its copy, notes included, and leaves no working copy behind', async () => {
      const first = open();
      assert.deepEqual((await analyse(first, 'SELECT * FROM a WHERE id = 1;')).found, []);
      await first.dispose();
      const second = open();
      const notes: SchemaNotes[] = [];
      second.onNotes((n) => notes.push(n));
      assert.deepEqual((await analyse(second, 'SELECT * FROM a WHERE id = 1;')).found, []);
      assert.ok(logs.some((l) => /ready in \d+ ms \(cached cluster/.test(l)), logs.join('\n'));
      assert.match(notes[0]?.get(pathToFileURL(ws.file('schema.sql')).href)?.[0]?.message ?? '', /role "nobody_here" does not exist/);
      await second.dispose();
      const work = path.join(TEST_STORAGE, `pglite-${pgliteVersion()}`, 'work');
      assert.deepEqual(readdirSync(work).filter((d) => d.startsWith(`${process.pid}-`)), []);
    });

    it('loads the changed schema after invalidate(), and clears notes that no longer apply', async () => {
      const db = open();
      const notes: SchemaNotes[] = [];
      db.onNotes((n) => notes.push(n));
      assert.equal(codes((await analyse(db, 'SELECT * FROM b;')).found).join(), 'database-error');
      ws.write('schema.sql', 'CREATE TABLE a (id int PRIMARY KEY, v text);\nCREATE TABLE b (id int);\n');
      db.invalidate();
      assert.deepEqual((await analyse(db, 'SELECT * FROM b;')).found, []);
      assert.deepEqual(notes.at(-1)?.get(pathToFileURL(ws.file('schema.sql')).href), []);
    });

    it('releases the database when idle and starts it again on the next call', async () => {
      const work = path.join(TEST_STORAGE, `pglite-${pgliteVersion()}`, 'work');
      const running = (): number => readdirSync(work).filter((d) => d.startsWith(`${process.pid}-`) && existsSync(path.join(work, d, 'PG_VERSION'))).length;
      const db = open(50);
      const released = new Promise<StatusParams>((resolve) => db.onStatus((s) => /Released while idle/.test(s.message) && resolve(s)));
      assert.deepEqual((await analyse(db, 'SELECT * FROM a;')).found, []);
      const before = running();
      await released;
      assert.equal(running(), before - 1, 'its working copy is gone');
      assert.deepEqual((await analyse(db, 'SELECT * FROM a;')).found, []);
      assert.equal(db.status.state, 'connected');
    });
  });

  it('sizes synthetic tables like PostgreSQL packs rows', () => {
    assert.equal(pagesFor(0, 40), 1);
    assert.equal(pagesFor(1_000_000, 40), Math.ceil(1_000_000 / Math.floor(8168 / (24 + 40 + 4))));
  });
});
