// SQL embedded in JS/TS, per library: every fixture in test/fixtures/embedded is opened through the real
// protocol against PostgreSQL. Its first line says which diagnostics it expects and on which host characters
// (`// expect: function-on-indexed-column "lower(email)"` or `// expect: none`); a `// fix: none` line says the
// finding has no index fix the planner would use.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CreateFile, Diagnostic, TextDocumentEdit } from 'vscode-languageserver-protocol';
import { parseExpectations } from '../rules/fixtures.test';
import { languageIdOf, LspClient, textAt } from '../helpers/lspClient';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';

const ROOT = path.resolve(__dirname, '../../../test/fixtures/embedded');
const WORKSPACE = 'file:///workspace/app';

describe('SQL embedded in JS/TS, per library, over stdio against PostgreSQL', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let client: LspClient;

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('embedded');
    client = await LspClient.start({ settings: { databaseUrl: db.url }, workspaceFolders: [WORKSPACE] });
  });
  after(async () => {
    await client?.stop();
    await db?.drop();
  });

  for (const file of readdirSync(ROOT).sort()) {
    it(file, async () => {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      const expected = parseExpectations(text.split('\n', 1)[0].replace(/^\/\//, '--'));
      assert.ok(expected, `${file}: the first line must be "// expect: …"`);
      const uri = `${WORKSPACE}/src/${file}`;
      const ds = await client.open(uri, text, languageIdOf(file));
      const actual = ds.map((d) => ({ code: String(d.code), text: textAt(text, d.range) }));
      assert.deepEqual(actual.map((a) => a.code).sort(), expected.map((e) => e.code).sort(), JSON.stringify(ds));
      for (const e of expected) assert.ok(actual.some((a) => a.code === e.code && a.text === e.text), `${e.code} on "${e.text}": ${JSON.stringify(actual)}`);

      const findings = ds.filter((d) => d.code !== 'database-error' && d.code !== 'syntax-error');
      for (const d of findings) {
        const hover = await client.hover(uri, d.range.start.line, d.range.start.character);
        const md = JSON.stringify(hover);
        assert.match(md, /\*\*Plan\*\* · total cost/);
        assert.match(md, /From .+(tagged template|call|literal)/);
      }
      const wantsFix = !/^\/\/ fix: none/m.test(text);
      // select-star is about the query's text: it never comes with an index.
      for (const d of findings.filter((f) => f.code !== 'select-star')) await assertFix(uri, d, wantsFix);
    });
  }

  async function assertFix(uri: string, d: Diagnostic, wanted: boolean): Promise<void> {
    const all = (await client.codeActions(uri, d)) ?? [];
    if (!wanted) {
      assert.deepEqual(all, []);
      return;
    }
    // The edits; each comes with a "Copy CREATE INDEX" command beside it.
    const actions = all.filter((a) => a.edit);
    assert.equal(actions.length, all.length / 2, JSON.stringify(all));
    const a = actions[0];
    assert.match(a.title, /^Create (expression |partial |covering )?index on \w+ \(.+\)( WHERE .+)? in a new migration — cost [\d,.]+ → [\d,.]+$/);
    const [create, edit] = (a.edit?.documentChanges ?? []) as [CreateFile, TextDocumentEdit];
    assert.equal(create.kind, 'create');
    assert.match(create.uri, /^file:\/\/\/workspace\/app\/migrations\/\d{14}_\w+_idx\.sql$/);
    assert.equal(edit.textDocument.uri, create.uri);
    assert.match((edit.edits[0] as { newText: string }).newText, /^-- Written by SQL Insight\.\n(--.*\n)*CREATE INDEX CONCURRENTLY IF NOT EXISTS \w+_idx ON \w+ \(.+\)( WHERE .+)?;\n$/);
  }

  it('says in the hover which interpolation was not known statically, instead of an error', async () => {
    const text = readFileSync(path.join(ROOT, 'negatives.ts'), 'utf8');
    const uri = `${WORKSPACE}/src/hover-unknown.ts`;
    await client.open(uri, text, 'typescript');
    const line = text.split('\n').findIndex((l) => l.includes('sql(table)'));
    const hover = await client.hover(uri, line, text.split('\n')[line].indexOf('SELECT') + 2);
    assert.match(JSON.stringify(hover), /not known statically \(`sql\(table\)`\)/);
  });

  it('honours extra tags and functions from the settings', async () => {
    const text = "export const q = db.execute('SELECT * FROM orders WHERE customer_id = 9');\n";
    const uri = `${WORKSPACE}/src/custom.ts`;
    assert.deepEqual(await client.open(uri, text, 'typescript'), []);
    client.settings = { databaseUrl: db.url, embedded: { functions: ['db.execute'] } };
    const ds = await client.changeAndSave(uri, text + '\n');
    assert.deepEqual(ds.filter((d) => d.code === 'seq-scan-large-table').map((d) => textAt(text, d.range)), ['orders']);
    client.settings = { databaseUrl: db.url };
  });
});
