// Speed through the protocol: a re-save after one edit sends one EXPLAIN, and an edit without a save gets
// its syntax errors (and keeps the plan findings of the statements it did not touch) without the database.
import * as assert from 'node:assert/strict';
import type { AnalysisDoneParams } from '../../common/protocol';
import { LspClient } from '../helpers/lspClient';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';
import { TcpProxy, viaPort } from '../db/support';

const EXPLAIN = /EXPLAIN \(FORMAT JSON/g;

function file(n: number, edited?: { at: number; sql: string }): string {
  const stmts = Array.from({ length: n }, (_, i) =>
    i % 3 === 0
      ? `SELECT id, name FROM customers WHERE lower(email) = 'user${i}@example.com'`
      : i % 3 === 1
        ? `SELECT * FROM orders WHERE id = ${i}`
        : `SELECT count(*) FROM order_items WHERE order_id = ${i}`,
  );
  if (edited) stmts[edited.at] = edited.sql;
  return stmts.join(';\n') + ';\n';
}

describe('language server: plan cache and change-time diagnostics', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let proxy: TcpProxy;
  let client: LspClient;

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('lspperf');
    proxy = new TcpProxy(5432);
    const port = await proxy.listen();
    proxy.record = true;
    client = await LspClient.start({ settings: { databaseUrl: viaPort(db.url, port) } });
  });
  after(async () => {
    await client?.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('a re-save after one edit in a large file sends exactly one EXPLAIN', async () => {
    const uri = 'file:///perf/large.sql';
    const opened = await client.open(uri, file(600));
    assert.equal(opened.filter((d) => d.code === 'function-on-indexed-column').length, 200);
    assert.equal(proxy.takeSent().match(EXPLAIN)?.length, 600);

    // The open's fix proofs run in the background and plan too; the edit cancels them. So what goes over the
    // wire is counted from the run of the edit on (no database), which comes after that cancellation.
    const typed = client.waitFor<AnalysisDoneParams>('analysisDone', (d) => d.uri === uri && d.version === 2 && d.phase === 'change');
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: file(600, { at: 301, sql: 'SELECT * FROM orders WHERE id = 424242' }) }],
    });
    await typed;
    proxy.takeSent();
    const done = client.waitFor<AnalysisDoneParams>('analysisDone', (d) => d.uri === uri && d.version === 2 && d.phase === 'save');
    await client.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    const summary = await done;
    const ds = client.diagnostics.get(uri)?.diagnostics ?? [];
    assert.equal(client.diagnostics.get(uri)?.version, 2);
    assert.deepEqual(
      { statements: summary.statements, planned: summary.planned, explained: summary.explained, cached: summary.cached, diagnostics: summary.diagnostics },
      { statements: 600, planned: 600, explained: 1, cached: 599, diagnostics: ds.length },
    );
    const sent = proxy.takeSent();
    assert.equal(sent.match(EXPLAIN)?.length, 1, 'only the edited statement is planned');
    assert.ok(sent.includes('424242'));
    assert.equal(ds.filter((d) => d.code === 'function-on-indexed-column').length, 200);
    assert.ok((await client.waitForLog((l) => l.includes('large.sql') && l.includes('1 explained'))).includes('599 from the plan cache'));
  });

  it('an edit without a save gets syntax errors at once, keeps unchanged plan findings, and sends nothing', async () => {
    const uri = 'file:///perf/typing.sql';
    const text = file(6);
    const opened = await client.open(uri, text);
    const planFindings = opened.filter((d) => d.code === 'function-on-indexed-column');
    assert.equal(planFindings.length, 2);
    proxy.takeSent();

    // A line inserted at the top: every statement moves down one line; the one being typed does not parse.
    const wait = client.nextDiagnostics(uri, 2);
    const typedDone = client.waitFor<AnalysisDoneParams>('analysisDone', (d) => d.uri === uri && d.version === 2);
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: `SELECT FROM WHERE;\n${text}` }],
    });
    const ds = (await wait).diagnostics;
    const typed = await typedDone;
    assert.equal(typed.phase, 'change');
    assert.equal(typed.explained, 0);
    const syntax = ds.filter((d) => d.code === 'syntax-error');
    assert.equal(syntax.length, 1, JSON.stringify(ds));
    assert.equal(syntax[0].range.start.line, 0);
    const kept = ds.filter((d) => d.code === 'function-on-indexed-column');
    assert.deepEqual(
      kept.map((d) => d.range),
      planFindings.map((d) => ({ start: { ...d.range.start, line: d.range.start.line + 1 }, end: { ...d.range.end, line: d.range.end.line + 1 } })),
      'plan findings of unchanged statements follow their statements',
    );
    // (Proofs of the open's fixes may still be finishing in the background; the edit itself sends nothing.)
    const sent = proxy.takeSent();
    assert.ok(!sent.includes('SELECT FROM WHERE') && !sent.includes('WITH RECURSIVE input'), 'the edit reached the database');
  });
});
