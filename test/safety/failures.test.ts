// Faults the server must survive without an error storm, through the real protocol: a database that is down
// at start, goes down mid-session and comes back (a real server process this test owns and stops), backends
// terminated under it, a wrong password, a host name that does not resolve, and a server that accepts the
// connection and never answers. Each gives one clear status; diagnostics from parsing alone meanwhile; the
// server reconnects by itself and re-checks open documents.
import * as assert from 'node:assert/strict';
import { envWithoutDatabase, LspClient } from '../helpers/lspClient';
import { OwnedPostgres } from '../helpers/ownedPostgres';
import { silentServer, waitFor } from '../db/support';

const PASSWORD = 'Fault-Pw-7q!';

/** What reaches the editor (statuses, messages, diagnostics) never holds a stack trace. */
function assertEditorFacingClean(client: LspClient): void {
  const shown = JSON.stringify([client.statuses, client.messages, client.published]);
  assert.doesNotMatch(shown, /\\n\s+at \S+ \(/, 'a stack trace reached the editor');
}

const codes = (ds: { code?: string | number }[]): string[] => ds.map((d) => String(d.code)).sort();

describe('safety: failures over the protocol', function () {
  this.timeout(90_000);
  let pg: OwnedPostgres;
  let faults = 0;

  before(async () => {
    pg = await OwnedPostgres.create({ password: PASSWORD });
  });
  after(async () => {
    await pg?.destroy();
    console.log(`      faults survived: ${faults}`);
  });

  /** Starts a server whose settings name the owned database; `url` defaults to the right password. */
  async function start(url = pg.url({ password: PASSWORD })): Promise<LspClient> {
    return LspClient.start({ settings: { databaseUrl: url }, env: envWithoutDatabase() });
  }

  it('database down at start, then up: one error, parse-only diagnostics, then reconnects and re-plans by itself', async () => {
    const client = await start();
    try {
      const uri = 'file:///faults/down-at-start.sql';
      assert.deepEqual(codes(await client.open(uri, 'SELECT * FROM nope_table;\nSELEC 1;')), ['syntax-error']);
      const error = await client.waitForStatus((s) => s.state === 'error');
      assert.match(error.message, /connection refused/);
      await pg.start();
      await client.waitForStatus((s) => s.state === 'connected');
      const replanned = await client.waitFor('diagnostics', (p: { uri: string; diagnostics: unknown[] }) => p.uri === uri && p.diagnostics.length === 2);
      assert.deepEqual(codes(replanned.diagnostics as { code: string }[]), ['database-error', 'syntax-error']);
      // Names the statuses: this once saw two on a loaded machine, and the message did not say which.
      assert.equal(client.statuses.filter((s) => s.state === 'error').length, 1, `no error storm: ${JSON.stringify(client.statuses)}`);
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
    }
  });

  it('going down mid-session and coming back', async () => {
    if (!pg.isRunning) await pg.start();
    const client = await start();
    try {
      const uri = 'file:///faults/mid-session.sql';
      assert.deepEqual(codes(await client.open(uri, 'SELECT * FROM nope_table;')), ['database-error']);
      await client.waitForStatus((s) => s.state === 'connected');
      await pg.stop('fast');
      // Saves while it is down: parse-only answers, quickly, and still one status.
      for (let i = 0; i < 5; i++) assert.deepEqual(codes(await client.changeAndSave(uri, `SELECT * FROM nope_table; SELEC ${i};`)), ['syntax-error']);
      assert.equal(client.statuses.filter((s) => s.state === 'error').length, 1, JSON.stringify(client.statuses));
      await pg.start();
      const back = await client.waitFor('diagnostics', (p: { uri: string; diagnostics: unknown[] }) => p.uri === uri && p.diagnostics.length === 2);
      assert.deepEqual(codes(back.diagnostics as { code: string }[]), ['database-error', 'syntax-error']);
      assert.equal(client.statuses.at(-1)?.state, 'connected');
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
    }
  });

  it('backends terminated under it (pg_terminate_backend), idle and mid-planning', async () => {
    if (!pg.isRunning) await pg.start();
    // Planning sleeps as long as the database-level setting sqli.sleep says, read by each new connection.
    await pg.psql(
      "CREATE TABLE IF NOT EXISTS present (id int); CREATE OR REPLACE FUNCTION slow_setting() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM pg_sleep(coalesce(nullif(current_setting('sqli.sleep', true), ''), '0')::float8); RETURN 1; END $$",
    );
    await pg.psql("ALTER DATABASE postgres SET sqli.sleep = '20'");
    const client = await start(pg.url({ password: PASSWORD, params: { application_name: 'sqli_terminated' } }));
    const ours = "SELECT pid FROM pg_stat_activity WHERE application_name = 'sqli_terminated'";
    try {
      const uri = 'file:///faults/terminated.sql';
      assert.deepEqual(codes(await client.open(uri, 'SELECT * FROM nope_table;')), ['database-error']);
      // Idle connections killed: the next analysis still plans.
      await pg.psql(`SELECT pg_terminate_backend(pid, 5000) FROM (${ours}) t`);
      assert.deepEqual(codes(await client.changeAndSave(uri, 'SELECT * FROM nope_table; SELECT 1;')), ['database-error']);
      faults++;

      // Killed while planning: that run degrades, and the document is planned again once it reconnects.
      const done = client.nextDiagnostics(uri, 3);
      await client.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 3 },
        contentChanges: [{ text: 'SELECT * FROM present WHERE id = slow_setting();\nSELECT * FROM nope_table;' }],
      });
      await client.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
      await waitFor(async () => (await pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sqli_terminated' AND wait_event = 'PgSleep'`)) === '1', 'planning to sleep');
      await pg.psql("ALTER DATABASE postgres SET sqli.sleep = '0'");
      await pg.psql(`SELECT pg_terminate_backend(pid, 5000) FROM (${ours}) t`);
      await done;
      const published = client.published.length;
      await client.waitForStatus((st) => st.state === 'error' && /administrator command/.test(st.message));
      const replanned = await client.waitFor('diagnostics', (p: { uri: string }) => p.uri === uri && client.published.length > published);
      assert.match(JSON.stringify(replanned), /nope_table/);
      assert.equal(client.statuses.at(-1)?.state, 'connected');
      const hover = JSON.stringify(await client.hover(uri, 0, 3));
      assert.match(hover, /\*\*Plan\*\*/, `planned after reconnecting: ${hover} ${JSON.stringify(client.statuses)}`);
      assert.ok(client.statuses.filter((s) => s.state === 'error').length <= 1);
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
    }
  });

  it('a wrong password: one clear status, and the password appears nowhere', async () => {
    if (!pg.isRunning) await pg.start();
    const wrong = 'Wr0ng-Pw-zz';
    const client = await start(pg.url({ password: wrong }));
    try {
      for (let i = 0; i < 3; i++) {
        const uri = `file:///faults/password-${i}.sql`;
        assert.deepEqual(codes(await client.open(uri, 'SELECT * FROM nope_table;\nSELEC 1;')), ['syntax-error']);
        assert.match(JSON.stringify(await client.hover(uri, 0, 3)), /not planned/);
      }
      const errors = client.statuses.filter((s) => s.state === 'error');
      assert.equal(errors.length, 1, JSON.stringify(client.statuses));
      assert.match(errors[0].message, /password authentication failed for user "postgres".*Set Database Password/);
      assert.ok(!client.transcript().includes(wrong), 'the password leaked');
      assert.ok(!client.transcript().includes(encodeURIComponent(wrong)), 'the encoded password leaked');
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
    }
  });

  it('a host name that does not resolve', async () => {
    const client = await start(`postgres://postgres:${PASSWORD}@no-such-host.invalid:5432/app`);
    try {
      assert.deepEqual(codes(await client.open('file:///faults/dns.sql', 'SELECT * FROM t; SELEC 1;')), ['syntax-error']);
      const error = await client.waitForStatus((s) => s.state === 'error');
      assert.match(error.message, /app@no-such-host\.invalid:5432: the host name could not be resolved/);
      assert.ok(!client.transcript().includes(PASSWORD));
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
    }
  });

  it('a server that accepts the connection and never answers', async () => {
    const silent = await silentServer();
    const client = await start(`postgres://postgres:${PASSWORD}@127.0.0.1:${silent.port}/app`);
    try {
      const uri = 'file:///faults/silent.sql';
      const opened = client.open(uri, 'SELECT * FROM t; SELEC 1;');
      // The server keeps answering other requests while the connection attempt hangs.
      assert.equal(await client.hover('file:///faults/unknown.sql', 0, 0), null);
      assert.deepEqual(codes(await opened), ['syntax-error']);
      const error = await client.waitForStatus((s) => s.state === 'error');
      assert.match(error.message, /no answer while connecting/);
      assert.deepEqual(codes(await client.changeAndSave(uri, 'SELECT 2; SELEC 3;')), ['syntax-error']);
      assert.equal(client.statuses.filter((s) => s.state === 'error').length, 1);
      faults++;
    } finally {
      assertEditorFacingClean(client);
      await client.stop();
      await silent.close();
    }
  });

});

