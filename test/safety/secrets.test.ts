// Passwords: from the editor's SecretStorage (sent sealed: LSP traces log messages), or in a settings URL
// (works, warns once);
// never in logs, statuses, messages, hovers, diagnostics or stderr. Against a server this test owns, with
// SCRAM password authentication.
import * as assert from 'node:assert/strict';
import { envWithoutDatabase, LspClient } from '../helpers/lspClient';
import { OwnedPostgres } from '../helpers/ownedPostgres';

const PASSWORD = 'Secr3t-Stored-Pw';

function assertNoSecret(client: LspClient, secret: string): void {
  const all = client.transcript();
  for (const form of [secret, encodeURIComponent(secret)]) assert.ok(!all.includes(form), `the password appears: ${all.slice(0, 2000)}`);
}

describe('safety: secrets', function () {
  this.timeout(60_000);
  let pg: OwnedPostgres;
  let key: string;

  before(async () => {
    pg = await OwnedPostgres.create({ password: PASSWORD });
    await pg.start();
    key = `postgres@127.0.0.1:${pg.port}/postgres`;
  });
  after(async () => {
    await pg?.destroy();
  });

  it('uses the password from secret storage for a URL without one, and shows it nowhere', async () => {
    const client = await LspClient.start({
      settings: { databaseUrl: pg.url() },
      env: envWithoutDatabase(),
      passwords: new Map([[key, PASSWORD]]),
    });
    try {
      const uri = 'file:///secrets/stored.sql';
      const ds = await client.open(uri, 'SELECT * FROM pg_class WHERE relname = $1;\nSELECT * FROM nope_table;');
      assert.deepEqual(ds.map((d) => d.code), ['database-error'], JSON.stringify(ds));
      await client.waitForStatus((s) => s.state === 'connected');
      assert.match(JSON.stringify(await client.hover(uri, 0, 3)), /Plan/);
      assert.deepEqual(client.messages, [], 'no warning: the URL holds no password');
      assertNoSecret(client, PASSWORD);
    } finally {
      await client.stop();
    }
  });

  it('takes a changed password at once (sqlInsight/passwords), sealed like the first', async () => {
    const client = await LspClient.start({ settings: { databaseUrl: pg.url() }, env: envWithoutDatabase(), passwords: new Map([[key, 'not-the-password']]) });
    try {
      const uri = 'file:///secrets/changed.sql';
      assert.deepEqual(await client.open(uri, 'SELECT 1;'), []);
      await client.waitForStatus((s) => s.state === 'error' && /password authentication failed/.test(s.message));
      await client.setPasswords(new Map([[key, PASSWORD]]));
      await client.waitForStatus((s) => s.state === 'connected');
      assertNoSecret(client, PASSWORD);
      assertNoSecret(client, 'not-the-password');
    } finally {
      await client.stop();
    }
  });

  it('accepts a password in the settings URL, warns once, and masks it everywhere', async () => {
    const client = await LspClient.start({ settings: { databaseUrl: pg.url({ password: PASSWORD }) }, env: envWithoutDatabase() });
    try {
      for (let i = 0; i < 3; i++) {
        const uri = `file:///secrets/url-${i}.sql`;
        assert.deepEqual((await client.open(uri, 'SELECT * FROM nope_table;')).map((d) => d.code), ['database-error']);
        await client.changeAndSave(uri, 'SELECT * FROM nope_table; SELECT 2;');
      }
      const warnings = client.messages.filter((m) => m.type === 2);
      assert.equal(warnings.length, 1, JSON.stringify(client.messages));
      assert.match(warnings[0].message, /contains a password.*Set Database Password/);
      assertNoSecret(client, PASSWORD);
    } finally {
      await client.stop();
    }
  });

  it('masks a password with URL-special characters in all its spellings, also in connection errors', async () => {
    const odd = 'p@ss:w/rd%?&=#1';
    await pg.psql(`CREATE ROLE odd LOGIN PASSWORD '${odd}'`);
    const client = await LspClient.start({ settings: { databaseUrl: pg.url({ user: 'odd', password: odd, database: 'no_such_db' }) }, env: envWithoutDatabase() });
    try {
      await client.open('file:///secrets/odd.sql', 'SELECT 1;');
      const error = await client.waitForStatus((s) => s.state === 'error');
      assert.match(error.message, /database "no_such_db" does not exist/);
      assertNoSecret(client, odd);
    } finally {
      await client.stop();
    }
  });
});
