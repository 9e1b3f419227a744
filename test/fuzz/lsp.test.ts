// Fuzzing the language server as an editor reaches it: random and pathological documents over stdio, planned
// against a real PostgreSQL. Properties: every published range is inside its document and the server
// answers the next request.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { LspClient } from '../helpers/lspClient';
import { createTestDatabase, type TestDatabase, requireServer } from '../helpers/testDb';
import { assertRangeInside } from './core.test';
import { anySql, checkAsync, RUNS } from './inputs';

describe('fuzz: language server over stdio', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let client: LspClient;
  let n = 0;

  before(requireServer);
  before(async () => {
    db = await createTestDatabase('fuzz', 'CREATE TABLE t (id int PRIMARY KEY, x int, a int); INSERT INTO t SELECT g, g, g FROM generate_series(1, 1000) g; ANALYZE t;');
    client = await LspClient.start({ settings: { databaseUrl: db.url } });
  });
  after(async () => {
    await client?.stop();
    await db?.drop();
  });

  /** Opens `text`, checks its diagnostics, and proves the server still answers (a hover round trip). */
  async function roundTrip(text: string, line = 0, character = 0): Promise<{ code: string; severity?: number; message: string }[]> {
    const uri = `file:///fuzz/${++n}.sql`;
    const diagnostics = await client.open(uri, text);
    for (const d of diagnostics) assertRangeInside(text, d.range, String(d.code));
    const hover = await client.hover(uri, line, character);
    if (hover?.range) assertRangeInside(text, hover.range, 'hover');
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    return diagnostics.map((d) => ({ code: String(d.code), severity: d.severity, message: typeof d.message === 'string' ? d.message : d.message.value }));
  }

  it('random and mutated documents: ranges inside, and the server answers the next request', async () => {
    await checkAsync('lsp-document', fc.tuple(anySql, fc.nat({ max: 30 }), fc.nat({ max: 120 })), async ([text, line, ch]) => {
      await roundTrip(text, line, ch);
    }, Math.max(20, Math.floor(RUNS / 8)));
  });

  it('a planned statement too deep for the analysis costs only its own findings', async () => {
    const deep = `SELECT ${Array(4000).fill('1').join(' + ')}`;
    const ds = await roundTrip(`${deep};\nSELECT * FROM nope;\nSELEC 1;`);
    assert.deepEqual(ds.map((d) => d.code).sort(), ['database-error', 'syntax-error'], JSON.stringify(ds));
  });

  it('NUL bytes and invalid UTF-16: reported, never sent, ranges inside', async () => {
    const ds = await roundTrip("SELECT 1 \0 FROM t;\nSELECT '\uD800' AS lone, x\uDC00 FROM t;\nSELECT * FROM nope;");
    assert.equal(ds[0].code, 'syntax-error');
    assert.match(ds[0].message, /NUL/);
    assert.ok(ds.some((d) => /nope/.test(d.message)), JSON.stringify(ds));
  });

  it('10,000 nested parentheses, a 10 MB file and 100,000 statements: answered, with the limits reported', async () => {
    const nested = await roundTrip(`SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)};`);
    assert.deepEqual(nested.map((d) => d.code), ['syntax-error']);

    const big = await roundTrip(`-- big\nSELECT '${'x'.repeat(10 * 1024 * 1024)}';\n`);
    assert.deepEqual(big.map((d) => [d.code, d.severity]), [['too-large', 3]]);
    assert.match(big[0].message, /File too large for plan analysis/);

    const many = await roundTrip(Array.from({ length: 100_000 }, (_, i) => `SELECT ${i} FROM t`).join(';\n'));
    assert.deepEqual(many.map((d) => d.code), ['too-large']);
    assert.equal((await roundTrip('SELECT * FROM nope;')).length, 1, 'still planning');
  });
});
