// Multi-root workspaces: settings are pulled per document (scopeUri), so two folders can name two databases;
// each document is planned against its own folder's.
import * as assert from 'node:assert/strict';
import { LspClient, messageOf } from '../helpers/lspClient';
import { createTestDatabase, type TestDatabase, requireServer } from '../helpers/testDb';

describe('safety: multi-root workspaces with a database per folder', function () {
  this.timeout(30_000);
  let a: TestDatabase;
  let b: TestDatabase;

  before(requireServer);
  before(async () => {
    a = await createTestDatabase('root_a', 'CREATE TABLE only_in_a (id int)');
    b = await createTestDatabase('root_b', 'CREATE TABLE only_in_b (id int)');
  });
  after(async () => {
    await a?.drop();
    await b?.drop();
  });

  it('plans each document against the database its folder names', async () => {
    const client = await LspClient.start({
      workspaceFolders: ['file:///ws/a', 'file:///ws/b'],
      settings: (scopeUri) => (scopeUri?.startsWith('file:///ws/a/') ? { databaseUrl: a.url } : scopeUri?.startsWith('file:///ws/b/') ? { databaseUrl: b.url } : null),
    });
    const text = 'SELECT * FROM only_in_a;\nSELECT * FROM only_in_b;';
    try {
      const inA = await client.open('file:///ws/a/q.sql', text);
      const inB = await client.open('file:///ws/b/q.sql', text);
      assert.deepEqual(inA.map((d) => [d.range.start.line, messageOf(d)]), [[1, 'relation "only_in_b" does not exist']]);
      assert.deepEqual(inB.map((d) => [d.range.start.line, messageOf(d)]), [[0, 'relation "only_in_a" does not exist']]);
      // Edits keep each document with its own database.
      const againA = await client.changeAndSave('file:///ws/a/q.sql', `${text}\nSELECT 1;`);
      assert.deepEqual(againA.map((d) => d.range.start.line), [1]);
    } finally {
      await client.stop();
    }
  });
});
