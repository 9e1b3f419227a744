// Workspace Trust through the protocol: told the workspace is untrusted, the server does not connect to a
// database named by the workspace's settings (a proxy in front of it counts connections), parsing-only
// findings still come; once trust is granted, the settings apply.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { envWithoutDatabase, LspClient } from '../helpers/lspClient';
import { createTestDatabase, type TestDatabase, requireServer } from '../helpers/testDb';
import { TcpProxy, viaPort } from '../db/support';

describe('safety: workspace trust', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let proxy: TcpProxy;

  before(requireServer);
  before(async () => {
    db = await createTestDatabase('trust', 'CREATE TABLE t (id int)');
    proxy = new TcpProxy(5432);
  });
  after(async () => {
    await proxy?.close();
    await db?.drop();
  });

  it('declares limited support for untrusted workspaces in package.json', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
    const u = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(u?.supported, 'limited');
    assert.ok(u.restrictedConfigurations.includes('sqlInsight.databaseUrl'));
    assert.ok(u.restrictedConfigurations.includes('sqlInsight.ssl.caFile'));
    assert.match(u.description, /database/);
  });

  it('untrusted: no connection to the database in the settings, syntax still checked; trusted later: plans', async () => {
    const url = viaPort(db.url, await proxy.listen());
    const client = await LspClient.start({ settings: { databaseUrl: url }, env: envWithoutDatabase(), initializationOptions: { trusted: false } });
    try {
      const uri = 'file:///untrusted/a.sql';
      const ds = await client.open(uri, 'SELECT * FROM nope;\nSELEC 1;');
      assert.deepEqual(ds.map((d) => d.code), ['syntax-error']);
      const status = await client.waitForStatus((s) => s.state === 'not-configured');
      assert.match(status.message, /Restricted Mode/);
      assert.match(JSON.stringify(await client.hover(uri, 0, 3)), /not planned/);
      assert.equal(proxy.connections, 0, 'connected to the workspace database');

      const replanned = client.nextDiagnostics(uri, 1);
      client.published.length = 0;
      await client.connection.sendNotification('sqlInsight/workspaceTrusted', {});
      await client.waitFor('diagnostics', (p: { uri: string; diagnostics: unknown[] }) => p.uri === uri && p.diagnostics.length === 2);
      await replanned;
      assert.deepEqual(client.diagnostics.get(uri)?.diagnostics.map((d) => d.code).sort(), ['database-error', 'syntax-error']);
      assert.ok(proxy.connections > 0);
    } finally {
      await client.stop();
    }
  });

  it('untrusted: the embedded engine does not run the workspace\'s schema files', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sqli-untrusted-'));
    writeFileSync(path.join(root, 'schema.sql'), 'CREATE TABLE t (id int);');
    const folder = pathToFileURL(root).toString();
    const client = await LspClient.start({ settings: null, env: envWithoutDatabase(), workspaceFolders: [folder], initializationOptions: { trusted: false } });
    try {
      const ds = await client.open(`${folder}/q.sql`, 'SELECT * FROM nope;\nSELEC 1;');
      assert.deepEqual(ds.map((d) => d.code), ['syntax-error']);
      const status = await client.waitForStatus((s) => s.state === 'not-configured');
      assert.match(status.message, /Restricted Mode: the embedded database is not started/);
      assert.ok(!client.logs.some((l) => /embedded database for/.test(l)), 'the engine was created');
    } finally {
      await client.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('untrusted: a database from the environment (not the workspace) is still used', async () => {
    const client = await LspClient.start({
      settings: { databaseUrl: 'postgres://evil@attacker.invalid/x' },
      env: { ...envWithoutDatabase(), DATABASE_URL: db.url },
      initializationOptions: { trusted: false },
    });
    try {
      const ds = await client.open('file:///untrusted/b.sql', 'SELECT * FROM nope;');
      assert.deepEqual(ds.map((d) => d.code), ['database-error']);
      assert.ok(!client.transcript().includes('attacker.invalid'));
    } finally {
      await client.stop();
    }
  });
});
