// TLS against a server this test owns: it serves a certificate for `localhost` signed by a CA of the test's
// and refuses unencrypted connections, so a plan proves TLS was used, and each verification mode is seen
// both to accept what it should and to refuse what it should.
import * as assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, type SqlInsightSettings } from '../../common/protocol';
import { PgPlanner, resolveConnection } from '../../server/src/db/pgPlanner';
import { LspClient } from '../helpers/lspClient';
import { OwnedPostgres } from '../helpers/ownedPostgres';

const PASSWORD = 'Tls-Pw-4u';
const SELECT = { sql: 'SELECT 1', paramCount: 0 };

describe('safety: TLS (sslmode)', function () {
  this.timeout(60_000);
  let pg: OwnedPostgres;

  before(async () => {
    pg = await OwnedPostgres.create({ password: PASSWORD, tls: true });
    await pg.start();
  });
  after(async () => {
    await pg?.destroy();
  });

  async function attempt(url: string, ssl: Partial<SqlInsightSettings['ssl']> = {}): Promise<string> {
    const settings: SqlInsightSettings = { ...DEFAULT_SETTINGS, databaseUrl: url, ssl: { ...DEFAULT_SETTINGS.ssl, ...ssl } };
    const planner = new PgPlanner(resolveConnection(settings, {}), { connectTimeoutMs: 5000 });
    try {
      const r = await planner.explain(SELECT, { settings });
      if (r.kind === 'plan') {
        return 'ok';
      }
      return r.kind === 'unavailable' ? r.reason : r.message;
    } finally {
      await planner.dispose();
    }
  }

  const url = (host: string, params: Record<string, string> = {}): string =>
    pg.url({ password: PASSWORD, host, params: { application_name: 'sqli_tls', ...params } });

  it('disable: refused by a server that requires TLS (so "ok" below means encrypted)', async () => {
    assert.match(await attempt(url('127.0.0.1', { sslmode: 'disable' })), /pg_hba\.conf rejects connection.*no encryption/);
    assert.match(await attempt(url('127.0.0.1')), /no encryption/, 'no sslmode: no TLS');
  });

  it('require: encrypts without checking the certificate', async () => {
    assert.equal(await attempt(url('127.0.0.1', { sslmode: 'require' })), 'ok');
  });

  it('verify-full with the CA file: checks chain and host name', async () => {
    assert.equal(await attempt(url('localhost', { sslmode: 'verify-full', sslrootcert: pg.caFile })), 'ok');
    assert.match(await attempt(url('127.0.0.1', { sslmode: 'verify-full', sslrootcert: pg.caFile })), /^Cannot use .*TLS: .*(altnames|IP)/);
    assert.match(await attempt(url('localhost', { sslmode: 'verify-full', sslrootcert: pg.otherCaFile })), /TLS: .*(self.signed|unable to verify|certificate)/);
    assert.match(await attempt(url('localhost', { sslmode: 'verify-full' })), /TLS: .*(self.signed|unable to verify|certificate)/, 'system roots do not know the test CA');
  });

  it('verify-ca: checks the chain, not the host name', async () => {
    assert.equal(await attempt(url('127.0.0.1', { sslmode: 'verify-ca', sslrootcert: pg.caFile })), 'ok');
    assert.match(await attempt(url('127.0.0.1', { sslmode: 'verify-ca', sslrootcert: pg.otherCaFile })), /TLS: /);
  });

  it('settings: sqlInsight.ssl.mode and caFile override the URL; a missing CA file is one clear error', async () => {
    assert.equal(await attempt(url('localhost', { sslmode: 'disable' }), { mode: 'verify-full', caFile: pg.caFile }), 'ok');
    assert.match(await attempt(url('localhost'), { mode: 'verify-full', caFile: '/nonexistent/ca.pem' }), /TLS: ENOENT.*\/nonexistent\/ca\.pem/);
  });

  it('over the protocol: the settings reach the planner, the connection is encrypted, the password masked', async () => {
    const client = await LspClient.start({
      settings: { databaseUrl: url('localhost'), ssl: { mode: 'verify-full', caFile: pg.caFile } },
    });
    try {
      const ds = await client.open('file:///tls/a.sql', 'SELECT * FROM nope_table;');
      assert.deepEqual(ds.map((d) => d.code), ['database-error']);
      await client.waitForStatus((s) => s.state === 'connected');
      assert.equal(await pg.psql("SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'sqli_tls'"), 't');
      assert.ok(!client.transcript().includes(PASSWORD));
    } finally {
      await client.stop();
    }
  });
});
