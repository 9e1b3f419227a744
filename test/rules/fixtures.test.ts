// Rule fixtures are data: each `.sql` file under test/fixtures/rules starts with a line saying what it expects,
//   -- expect: function-on-indexed-column "lower(email)", seq-scan-large-table "orders"
//   -- expect: none
// optionally followed by a line of settings for that file (JSON, as the editor would send them),
//   -- settings: {"rules": {"select-star": "information"}}
// and becomes one test, run through the core against the real shop database.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { normalizeSettings } from '../../common/protocol';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { createSqlInsightService } from '../../server/src/core/service';
import { LineIndex } from '../../server/src/core/positions';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';
import { languageIdOf } from '../helpers/lspClient';
import type { DocumentAnalysis } from '../../server/src/core/service';
import type { SqlInsightSettings } from '../../common/protocol';

const ROOT = path.resolve(__dirname, '../../../test/fixtures/rules');

interface Expectation {
  code: string;
  text?: string;
}

export function parseExpectations(firstLine: string): Expectation[] | undefined {
  const m = /^--\s*expect:\s*(.*)$/.exec(firstLine.trim());
  if (!m) return undefined;
  if (m[1].trim() === 'none') return [];
  const out: Expectation[] = [];
  const re = /([a-z0-9-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*(?:,\s*|$)/gy;
  let e: RegExpExecArray | null;
  const body = m[1].trim();
  while (re.lastIndex < body.length && (e = re.exec(body))) out.push({ code: e[1], text: e[2]?.replace(/\\(.)/g, '$1') });
  return out;
}

/** Settings from a `-- settings: {…}` line among the leading comments, merged over the defaults. */
export function fixtureSettings(text: string, base: Record<string, unknown>): Record<string, unknown> {
  for (const line of text.split('\n')) {
    if (!line.startsWith('--') && !line.startsWith('//')) break;
    const m = /^(?:--|\/\/)\s*settings:\s*(\{.*\})\s*$/.exec(line);
    if (m) return { ...base, ...(JSON.parse(m[1]) as Record<string, unknown>) };
  }
  return base;
}

/** SQL files, and JS/TS files for rules about the code around embedded SQL (their comments start with //). */
export const FIXTURE_FILE = /\.(sql|[mc]?[jt]sx?)$/;

function fixtureFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (FIXTURE_FILE.test(entry.name)) out.push(p);
    }
  };
  walk(ROOT);
  return out.sort();
}

describe('rule fixtures against PostgreSQL', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let planner: PgPlanner;
  const service = createSqlInsightService();
  const settings = normalizeSettings({});
  let url = '';
  const analyses: { analysis: DocumentAnalysis; settings: SqlInsightSettings }[] = [];
  type Counters = { relname: string; rows: number; ins: number; upd: number; del: number };
  const counters = (): Promise<Counters[]> =>
    db.query<Counters>(
      `SELECT relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', schemaname, relname), false, true, '')))[1]::text::int AS rows,
              n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_del::int AS del
         FROM pg_stat_user_tables ORDER BY relname`,
    );
  let initial: { counters: Counters[]; indexes: string[] } = { counters: [], indexes: [] };
  const indexes = async (): Promise<string[]> =>
    (await db.query<{ name: string }>('SELECT indexname AS name FROM pg_indexes ORDER BY 1')).map((r) => r.name);

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('fixtures');
    // Its own application_name, so that its backends can be waited for before the counters are compared.
    const u = new URL(db.url);
    u.searchParams.set('application_name', 'sqli_fixtures');
    url = u.toString();
    planner = new PgPlanner(resolveConnection({ ...settings, databaseUrl: url }, {}));
    initial = { counters: await counters(), indexes: await indexes() };
  });
  after(async () => {
    await planner?.dispose();
    await db?.drop();
  });

  for (const file of fixtureFiles()) {
    const name = path.relative(ROOT, file);
    it(name, async () => {
      const text = readFileSync(file, 'utf8');
      const expected = parseExpectations(text.split('\n', 1)[0].replace(/^\/\//, '--'));
      assert.ok(expected, `${name}: the first line must be "-- expect: …"`);
      const fileSettings = normalizeSettings(fixtureSettings(text, { databaseUrl: url }));
      const parsed = await service.parse({ uri: `file:///${name}`, languageId: languageIdOf(name), version: 1, getText: () => text }, fileSettings);
      const analysis = await service.doValidation(parsed, planner, fileSettings);
      analyses.push({ analysis, settings: fileSettings });
      const lines = new LineIndex(text);
      const actual = analysis.diagnostics.map((d) => ({
        code: d.code,
        text: text.slice(lines.offsetAt(d.range.start), lines.offsetAt(d.range.end)),
      }));
      assert.deepEqual(
        actual.map((a) => a.code).sort(),
        expected.map((e) => e.code).sort(),
        `${name}: ${JSON.stringify(analysis.diagnostics.map((d) => d.message))}`,
      );
      for (const e of expected) {
        if (e.text !== undefined) assert.ok(actual.some((a) => a.code === e.code && a.text === e.text), `${name}: ${e.code} on "${e.text}", got ${JSON.stringify(actual)}`);
      }
    });
  }

  it('no rule and no fix wrote to the database: row counts and write counters are unchanged', async function () {
    this.timeout(120_000);
    let proofs = 0;
    for (const { analysis, settings: s } of analyses) {
      await service.proveFixes(analysis, planner, s);
      proofs += analysis.proofs.size;
    }
    assert.ok(proofs >= 10, `the fixtures' fixes were proven (${proofs} what-ifs)`);
    await planner.dispose();
    // Backends report their counters before they leave pg_stat_activity; wait until they have left.
    await db.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'sqli_fixtures' AND datname = current_database()",
    );
    assert.deepEqual(await counters(), initial.counters);
    assert.deepEqual(await indexes(), initial.indexes, 'no index was left behind');
    assert.equal((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_trgm'"))[0].n, 0, 'no extension was left behind');
  });
});
