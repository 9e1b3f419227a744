// Zero configuration, end to end: the built server over stdio in a workspace with migrations and no database
// anywhere (no DATABASE_URL, no PG* variables), as a newcomer opens it.
import * as assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient, messageOf, textAt } from '../helpers/lspClient';
import { createShopDatabase, requireServer } from '../helpers/testDb';
import { envWithoutDatabase, makeWorkspace, SHOP_MIGRATIONS, TEST_STORAGE, type Workspace } from './support';

const QUERY = "SELECT id, name\n  FROM customers\n WHERE lower(email) = 'user42@example.com';\n";

const start = (ws: Workspace, settings: Record<string, unknown> | null = {}, env = envWithoutDatabase()): Promise<LspClient> =>
  LspClient.start({ workspaceFolders: [pathToFileURL(ws.root).href], env, settings, initializationOptions: { storagePath: TEST_STORAGE } });

describe('embedded: the language server with no database configured', function () {
  this.timeout(180_000);
  let ws: Workspace;
  let client: LspClient;

  before(async () => {
    ws = makeWorkspace({
      ...SHOP_MIGRATIONS,
      'migrations/003_grants.up.sql': 'CREATE EXTENSION IF NOT EXISTS postgis;\nGRANT SELECT ON orders TO reporting;\n',
    });
    client = await start(ws);
  });
  after(async () => {
    await client?.stop();
    ws?.remove();
  });

  it('shows structural findings at once, from the schema in migrations/', async () => {
    const uri = pathToFileURL(ws.file('queries/find.sql')).href;
    const ds = await client.open(uri, QUERY);
    assert.deepEqual(ds.map((d) => [d.code, textAt(QUERY, d.range)]), [['function-on-indexed-column', 'lower(email)']]);
    assert.match(messageOf(ds[0]), /customers_email_idx/);
    const status = await client.waitForStatus((s) => s.state === 'connected');
    assert.equal((status as { database?: string }).database, 'embedded (2 tables from migrations/)');
    assert.match(status.message, /Embedded PostgreSQL 18 \(PGlite/);

    const hover = await client.hover(uri, 2, 3);
    assert.match(JSON.stringify(hover), /Seq Scan on customers/);
    assert.match(JSON.stringify(hover), /the tables are empty/);
    const actions = (await client.codeActions(uri, ds[0])) ?? [];
    assert.match(actions[0]?.title ?? '', /^Create expression index on customers \(lower\(email\)\) — cost /);
  });

  it('stays silent about sizes it does not know, and reports unknown tables as errors', async () => {
    const text = 'SELECT * FROM orders WHERE status = $1;\nSELECT * FROM order_lines;\n';
    const ds = await client.open(pathToFileURL(ws.file('queries/sizes.sql')).href, text);
    assert.deepEqual(ds.map((d) => [d.code, textAt(text, d.range)]), [['database-error', 'order_lines']]);
  });

  it("puts notes on what it skipped in the migration, kept when the file is open with its own diagnostics", async () => {
    const file = ws.file('migrations/003_grants.up.sql');
    const uri = pathToFileURL(file).href;
    const notes = client.diagnostics.get(uri)?.diagnostics ?? [];
    assert.deepEqual(notes.map((d) => [d.severity, d.code]), [
      [3, 'embedded-schema'],
      [3, 'embedded-schema'],
    ]);
    assert.match(messageOf(notes[0]), /extension "postgis" is not available/);
    assert.match(messageOf(notes[1]), /role "reporting" does not exist/);
    const text = 'CREATE EXTENSION IF NOT EXISTS postgis;\nGRANT SELECT ON orders TO reporting;\nSELEC 1;\n';
    const opened = await client.open(uri, text);
    assert.deepEqual(opened.map((d) => d.code).sort(), ['embedded-schema', 'embedded-schema', 'syntax-error']);
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('reloads when a schema file changes on disk (workspace/didChangeWatchedFiles)', async () => {
    const uri = pathToFileURL(ws.file('queries/refunds.sql')).href;
    const text = 'SELECT * FROM refunds WHERE order_id = 1;\n';
    const before = await client.open(uri, text);
    assert.deepEqual(before.map((d) => d.code), ['database-error']);
    const created = ws.write('migrations/004_refunds.up.sql', 'CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL);\n');
    const next = client.nextDiagnostics(uri, 1);
    await client.filesChanged([{ uri: pathToFileURL(created).href, type: 1 }]);
    assert.deepEqual((await next).diagnostics, []);
    await client.waitForStatus((s) => (s as { database?: string }).database === 'embedded (3 tables from migrations/)');
  });

  it('turns sqlInsight.embedded.rowCounts into size findings', async () => {
    const uri = pathToFileURL(ws.file('queries/big.sql')).href;
    const text = 'SELECT * FROM orders WHERE customer_id = 42;\n';
    assert.deepEqual(await client.open(uri, text), []);
    const next = client.nextDiagnostics(uri, 1);
    await client.changeSettings({ embedded: { rowCounts: { orders: 5_000_000 } } });
    const ds = (await next).diagnostics;
    assert.deepEqual(ds.map((d: Diagnostic) => [d.code, textAt(text, d.range)]), [['seq-scan-large-table', 'orders']]);
    assert.match(messageOf(ds[0]), /~5,000,000 rows/);
    const hover = await client.hover(uri, 0, 2);
    assert.match(JSON.stringify(hover), /estimates are synthetic \(sqlInsight\.embedded\.rowCounts\)/);
  });
});

describe('embedded: choosing between the embedded engine and a server', function () {
  this.timeout(180_000);
  const made: Workspace[] = [];
  after(() => made.forEach((w) => w.remove()));
  const workspace = (files: Record<string, string>): Workspace => {
    const ws = makeWorkspace(files);
    made.push(ws);
    return ws;
  };

  it('stays without a database in a workspace without schema files (auto)', async () => {
    const ws = workspace({ 'src/app.ts': 'export {};\n' });
    const client = await start(ws);
    try {
      const ds = await client.open(pathToFileURL(ws.file('a.sql')).href, 'SELECT * FROM t;\nSELEC 1;');
      assert.deepEqual(ds.map((d) => d.code), ['syntax-error']);
      const status = await client.waitForStatus((s) => s.state === 'not-configured');
      assert.match(status.message, /no schema files found/);
    } finally {
      await client.stop();
    }
  });

  it('uses the embedded engine when asked to, even with DATABASE_URL set', async () => {
    const ws = workspace({ 'db/structure.sql': 'CREATE TABLE t (id int PRIMARY KEY, v text);\n' });
    const env = { ...envWithoutDatabase(), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere' };
    const client = await start(ws, { database: 'embedded' }, env);
    try {
      const ds = await client.open(pathToFileURL(ws.file('a.sql')).href, 'SELECT * FROM t WHERE id = 1;\nSELECT * FROM u;');
      assert.deepEqual(ds.map((d) => d.code), ['database-error']);
      const status = await client.waitForStatus((s) => s.state === 'connected');
      assert.equal((status as { database?: string }).database, 'embedded (1 table from db/structure.sql)');
    } finally {
      await client.stop();
    }
  });

  it('switches from the embedded engine to the server once a URL is set', async function () {
    await requireServer.call(this);
    const db = await createShopDatabase('switch');
    const ws = workspace(SHOP_MIGRATIONS);
    const client = await start(ws);
    try {
      const uri = pathToFileURL(ws.file('q.sql')).href;
      const text = 'SELECT * FROM orders WHERE customer_id = 42;\n';
      assert.deepEqual(await client.open(uri, text), [], 'empty embedded tables: no size finding');
      await client.waitForStatus((s) => s.state === 'connected' && /PGlite/.test(s.message));
      const next = client.nextDiagnostics(uri, 1);
      await client.changeSettings({ databaseUrl: db.url });
      const ds = (await next).diagnostics;
      assert.deepEqual(ds.map((d) => d.code), ['seq-scan-large-table']);
      assert.match(messageOf(ds[0]), /~120,000 rows/, 'real rows of the server');
      const status = await client.waitForStatus((s) => s.state === 'connected' && (s as { database?: string }).database === `${db.name}@127.0.0.1:5432`);
      assert.match(status.message, /Connected to/);
    } finally {
      await client.stop();
      await db.drop();
    }
  });
});
