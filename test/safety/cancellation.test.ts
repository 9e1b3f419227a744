// Slow planning, locks and superseded work through the real protocol: statement_timeout and lock_timeout end
// the work on the server, an edit cancels the analysis of the older version on the server (not only in the
// editor), and a result for an older version never replaces the diagnostics of a newer one.
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import { LspClient } from '../helpers/lspClient';
import { requireServer, type TestDatabase } from '../helpers/testDb';
import { TcpProxy, viaPort, waitFor } from '../db/support';
import { createHostileDatabase } from './hostileDb';

describe('safety: timeouts and cancellation over the protocol', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let client: LspClient;
  let n = 0;

  /** Backends of one application name that are running (or waiting in) a statement. */
  const busy = (app: string): Promise<{ pid: number; wait: string | null }[]> =>
    db.query(
      "SELECT pid, wait_event AS wait FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'",
      [app],
    );

  async function useApp(settings: Record<string, unknown> = {}): Promise<string> {
    const app = `sqli_cancel_${++n}`;
    await client.configure({ databaseUrl: viaPort(db.url, 5432, { application_name: app }), ...settings });
    return app;
  }

  before(requireServer);
  before(async () => {
    db = await createHostileDatabase();
    client = await LspClient.start({ settings: null });
  });
  after(async () => {
    await client?.stop();
    await db?.drop();
  });

  it('cancels slow planning on the server as soon as the document changes', async () => {
    const app = await useApp({ statementTimeoutMs: 60_000 });
    const uri = `file:///cancel/${n}.sql`;
    await client.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'sql', version: 1, text: 'SELECT * FROM victims WHERE id = slow_immutable(30)' },
    });
    await waitFor(async () => (await busy(app)).some((b) => b.wait === 'PgSleep'), 'planning to start sleeping');
    const started = Date.now();
    // An edit without a save: nothing new is planned, but the old plan is pointless now.
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: 'SELECT 1' }],
    });
    await waitFor(async () => (await busy(app)).length === 0, 'the slow EXPLAIN to be cancelled on the server', 10_000);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await client.waitForLog((l) => l.includes(`${uri}: dropped the analysis of version 1`));
    assert.deepEqual(client.published.filter((p) => p.uri === uri), [], 'nothing published for version 1');
    await client.close(uri);
  });

  it('lets statement_timeout end slow planning, and says so in the hover', async () => {
    const app = await useApp({ statementTimeoutMs: 300 });
    const uri = `file:///cancel/${n}.sql`;
    const started = Date.now();
    assert.deepEqual(await client.open(uri, 'SELECT * FROM victims WHERE id = slow_immutable(30)'), []);
    assert.ok(Date.now() - started < 10_000);
    const hover = await client.hover(uri, 0, 3);
    assert.match(JSON.stringify(hover), /statement_timeout was reached/);
    assert.deepEqual(await busy(app), []);
    await client.close(uri);
  });

  it('lets lock_timeout end a wait for a lock someone else holds, without queueing behind it', async () => {
    const app = await useApp({ lockTimeoutMs: 200, statementTimeoutMs: 30_000 });
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE audit IN ACCESS EXCLUSIVE MODE');
      const uri = `file:///cancel/${n}.sql`;
      assert.deepEqual(await client.open(uri, 'SELECT * FROM audit'), []);
      assert.match(JSON.stringify(await client.hover(uri, 0, 3)), /lock was not granted within lock_timeout/);
      assert.deepEqual(await busy(app), []);
      await client.close(uri);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('never lets the result for an older version replace the diagnostics of a newer one', async () => {
    // Version 1 is planned through a proxy that stops answering, so its (cancelled) run ends only after the
    // abort grace period, long after version 2 has been planned directly.
    const proxy = new TcpProxy(5432);
    const port = await proxy.listen();
    proxy.record = true;
    try {
      const app = `sqli_cancel_${++n}`;
      await client.configure({ databaseUrl: viaPort(db.url, port, { application_name: app }) });
      assert.deepEqual(await client.open(`file:///cancel/warm-${n}.sql`, 'SELECT 1'), []);
      await client.close(`file:///cancel/warm-${n}.sql`);
      proxy.mode = 'frozen';
      proxy.takeSent();

      const uri = `file:///cancel/${n}.sql`;
      await client.connection.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: 'sql', version: 1, text: 'SELECT * FROM nope_v1' },
      });
      let seen = '';
      await waitFor(async () => (seen += proxy.takeSent()).includes('BEGIN READ ONLY'), 'version 1 to reach the (silent) server');

      client.settings = { databaseUrl: db.url };
      const v2 = client.nextDiagnostics(uri, 2);
      await client.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ text: 'SELECT * FROM nope_v2' }],
      });
      await client.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
      assert.match(JSON.stringify((await v2).diagnostics), /nope_v2/);
      const stale = client.waitFor('diagnostics', (p: { uri: string; version?: number }) => p.uri === uri && p.version === 1);
      await Promise.race([client.waitForLog((l) => l.includes(`${uri}: dropped the analysis of version 1`)), stale]);
      const versions = client.published.filter((p) => p.uri === uri).map((p) => p.version);
      assert.deepEqual(versions, [2]);
      await client.close(uri);
    } finally {
      await proxy.close();
    }
  });
});
