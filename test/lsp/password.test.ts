// Stored passwords (SecretStorage in VS Code) reach the server and are used for a URL that names none.
// The local PostgreSQL trusts everyone, so a proxy in front of it demands the password.
import * as assert from 'node:assert/strict';
import { connectionTarget, PASSWORDS_NOTIFICATION } from '../../common/protocol';
import { LspClient } from '../helpers/lspClient';
import { startPasswordProxy, type PasswordProxy } from '../helpers/passwordProxy';
import { adminUrl, createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';

describe('database passwords from the client', function () {
  this.timeout(60_000);
  const password = 'pröxy s3cret';
  let db: TestDatabase;
  let proxy: PasswordProxy;
  let url: string;
  const query = 'SELECT * FROM orders WHERE customer_id = 1;';

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('pw');
    const admin = new URL(adminUrl());
    proxy = await startPasswordProxy(password, { host: admin.hostname, port: Number(admin.port || 5432) });
    url = `postgres://${admin.username || 'postgres'}@127.0.0.1:${proxy.port}/${db.name}`;
  });
  after(async () => {
    await proxy?.close();
    await db?.drop();
  });

  it('cannot connect without the password, then plans once the client sends it', async () => {
    const client = await LspClient.start({ settings: { databaseUrl: url } });
    try {
      const uri = 'file:///pw/a.sql';
      assert.deepEqual(await client.open(uri, query), [], 'no plan, so no plan-based finding');
      const failed = await client.waitForStatus((s) => s.state === 'error');
      assert.match(failed.message, /password authentication failed/);
      const rejected = proxy.rejected;
      assert.ok(rejected > 0);

      const replanned = client.nextDiagnostics(uri, 1);
      await client.connection.sendNotification(PASSWORDS_NOTIFICATION, { passwords: [{ target: connectionTarget(url), password }] });
      assert.deepEqual((await replanned).diagnostics.map((d) => d.code), ['seq-scan-large-table']);
      await client.waitForStatus((s) => s.state === 'connected');
      assert.ok(proxy.accepted > 0);
      assert.ok(client.logs.every((l) => !l.includes(password) && !l.includes(encodeURIComponent(password))), 'password never logged');
    } finally {
      await client.stop();
    }
  });

  it('takes the stored passwords from initializationOptions', async () => {
    const client = await LspClient.start({
      settings: { databaseUrl: url },
      initializationOptions: { passwords: [{ target: connectionTarget(url), password }] },
    });
    try {
      assert.deepEqual((await client.open('file:///pw/b.sql', query)).map((d) => d.code), ['seq-scan-large-table']);
    } finally {
      await client.stop();
    }
  });

  it('never overrides a password written in the URL', async () => {
    const withWrong = url.replace('@', ':wrong@');
    const client = await LspClient.start({
      settings: { databaseUrl: withWrong },
      initializationOptions: { passwords: [{ target: connectionTarget(withWrong), password }] },
    });
    try {
      assert.deepEqual(await client.open('file:///pw/c.sql', query), []);
      await client.waitForStatus((s) => s.state === 'error');
    } finally {
      await client.stop();
    }
  });
});
