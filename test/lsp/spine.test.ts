// The spine, end to end: the built server over stdio, a real PostgreSQL, real plans.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CreateFile, Diagnostic, TextDocumentEdit } from 'vscode-languageserver-protocol';
import { LspClient, messageOf, textAt } from '../helpers/lspClient';
import { createShopDatabase, requireServer, type TestDatabase } from '../helpers/testDb';

describe('language server over stdio against PostgreSQL', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let client: LspClient;

  before(requireServer);
  before(async () => {
    db = await createShopDatabase('lsp');
    client = await LspClient.start({ settings: { databaseUrl: db.url } });
  });
  after(async () => {
    await client?.stop();
    await db?.drop();
  });

  const byCode = (ds: Diagnostic[], code: string): Diagnostic[] => ds.filter((d) => d.code === code);

  it('squiggles exactly the wrapped column and offers a proven expression index', async () => {
    const text = "-- find a customer\nSELECT id, name\n  FROM customers\n WHERE lower(email) = 'user42@example.com';\n";
    const uri = 'file:///spine/function.sql';
    const ds = await client.open(uri, text);
    const [d] = byCode(ds, 'function-on-indexed-column');
    assert.ok(d, JSON.stringify(ds));
    assert.equal(textAt(text, d.range), 'lower(email)');
    assert.deepEqual(d.range, { start: { line: 3, character: 7 }, end: { line: 3, character: 19 } });
    assert.equal(d.severity, 2);
    assert.match(messageOf(d), /customers\.email/);
    assert.match(messageOf(d), /customers_email_idx/);
    assert.equal(byCode(ds, 'seq-scan-large-table').length, 0, 'one finding per problem');

    assert.match(String(d.codeDescription?.href), /^file:\/\/.*\/docs\/rules\.md#function-on-indexed-column$/);
    assert.ok(existsSync(fileURLToPath(String(d.codeDescription?.href).replace(/#.*$/, ''))), 'the linked docs exist');

    const all = (await client.codeActions(uri, d)) ?? [];
    const actions = all.filter((a) => a.edit);
    assert.equal(actions.length, 1, JSON.stringify(all.map((a) => a.title)));
    const copy = all.filter((a) => a.command);
    assert.deepEqual(
      copy.map((a) => [a.title, a.command?.command, a.command?.arguments]),
      [[
        'Copy CREATE INDEX customers_lower_email_idx',
        'sqlInsight.copyToClipboard',
        ['CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_lower_email_idx ON customers (lower(email));'],
      ]],
    );
    const m = /^Create expression index on customers \(lower\(email\)\) — cost ([\d,.]+) → ([\d,.]+)$/.exec(actions[0].title);
    assert.ok(m, actions[0].title);
    const before = Number(m[1].replace(/,/g, ''));
    const after = Number(m[2].replace(/,/g, ''));
    assert.ok(before > 500 && after < 50 && after < before, actions[0].title);
    const edits = actions[0].edit?.changes?.[uri];
    assert.deepEqual(edits, [
      {
        range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } },
        newText: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_lower_email_idx ON customers (lower(email));\n',
      },
    ]);
    const left = await db.query("SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'customers_lower_email_idx'");
    assert.equal(left[0].n, 0, 'the what-if left no index behind');
  });

  it('warns about a full scan of a large table on the table name, with a proven plain index', async () => {
    const text = 'SELECT o.id, o.total FROM orders o WHERE o.customer_id = 42 AND o.status = \'shipped\' ORDER BY o.created_at;';
    const uri = 'file:///spine/seqscan.sql';
    const ds = await client.open(uri, text);
    const [d] = byCode(ds, 'seq-scan-large-table');
    assert.ok(d, JSON.stringify(ds));
    assert.equal(textAt(text, d.range), 'orders');
    assert.match(messageOf(d), /Seq Scan on orders: reads all ~120,000 rows/);
    assert.match(messageOf(d), /customer_id = 42/);
    assert.match(messageOf(d), /cost [\d,.]+/);
    // The plain index; a covering (INCLUDE id, total) variant is offered as well only where the visibility map
    // makes its index-only scan cheaper, which depends on whether the table has been vacuumed.
    const actions = ((await client.codeActions(uri, d)) ?? []).filter((a) => a.edit);
    const plain = actions.find((a) => /^Create index on orders/.test(a.title));
    assert.ok(plain, JSON.stringify(actions.map((a) => a.title)));
    assert.ok(actions.every((a) => /^Create (covering )?index on orders \(customer_id, status, created_at\)/.test(a.title)), JSON.stringify(actions.map((a) => a.title)));
    assert.match(plain.title, /^Create index on orders \(customer_id, status, created_at\) — cost [\d,]+ → [\d.]+$/);
    assert.equal(
      plain.edit?.changes?.[uri]?.[0].newText,
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_status_created_at_idx ON orders (customer_id, status, created_at);\n',
    );
  });

  it('stays quiet on a primary-key lookup, a small table and an indexed equality', async () => {
    const text = [
      'SELECT * FROM customers WHERE id = 42;',
      "SELECT * FROM countries WHERE name = 'France';",
      "SELECT * FROM customers WHERE email = 'user7@example.com';",
    ].join('\n');
    const ds = await client.open('file:///spine/clean.sql', text);
    assert.deepEqual(ds, []);
  });

  it('reports a syntax error on the offending token and still analyses the other statements', async () => {
    const text = 'SELECT 1;\nSELEC oops;\nSELECT * FROM orders WHERE customer_id = 7;\n';
    const ds = await client.open('file:///spine/syntax.sql', text);
    const [syntax] = byCode(ds, 'syntax-error');
    assert.ok(syntax, JSON.stringify(ds));
    assert.equal(syntax.severity, 1);
    assert.equal(textAt(text, syntax.range), 'SELEC');
    assert.match(messageOf(syntax), /syntax error at or near "SELEC"/);
    assert.equal(byCode(ds, 'seq-scan-large-table').length, 1);
  });

  it('turns an unknown table into an Error at the position PostgreSQL reports, after non-ASCII text', async () => {
    const text = "SELECT 'é😀' AS label,\n       x.id FROM no_such_table x;";
    const ds = await client.open('file:///spine/unknown.sql', text);
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.equal(ds[0].code, 'database-error');
    assert.equal(ds[0].severity, 1);
    assert.equal(textAt(text, ds[0].range), 'no_such_table');
    assert.match(messageOf(ds[0]), /relation "no_such_table" does not exist/);
  });

  it('explains a DELETE without executing it', async () => {
    const ds = await client.open('file:///spine/delete.sql', "DELETE FROM countries WHERE code = 'FR';");
    assert.deepEqual(ds, []);
    const rows = await db.query("SELECT count(*)::int AS n FROM countries WHERE code = 'FR'");
    assert.equal(rows[0].n, 1);
    const hover = await client.hover('file:///spine/delete.sql', 0, 3);
    assert.match(JSON.stringify(hover), /Delete on countries/);
  });

  it('hovers with total cost, rows, the node tree and timings', async () => {
    const uri = 'file:///spine/hover.sql';
    await client.open(uri, 'SELECT count(*)\n  FROM orders o JOIN customers c ON c.id = o.customer_id\n WHERE c.country = $1;');
    const hover = await client.hover(uri, 1, 10);
    assert.ok(hover);
    const md = (hover.contents as { kind: string; value: string }).value;
    assert.match(md, /^\*\*Plan\*\* · total cost \*\*[\d,]+\*\* · ~1 rows · planning [\d.]+ ms · round trip [\d.]+ ms/);
    assert.match(md, /\*Generic plan\* \(parameters not bound: \$1 text\)/);
    assert.match(md, /Aggregate/);
    assert.match(md, /-> .*Seq Scan on orders o {2}\(cost=[\d.]+\.\.[\d.]+ rows=\d+ width=\d+\)/);
    assert.match(md, /Hash Cond: /);
    assert.equal(await client.hover(uri, 5, 0), null, 'no hover outside statements');
  });

  it('plans statements with parameters as generic plans and finds the scan', async () => {
    const text = 'SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2;';
    const ds = await client.open('file:///spine/params.sql', text);
    assert.equal(byCode(ds, 'seq-scan-large-table').length, 1, JSON.stringify(ds));
  });

  it('offers Analyze lenses and runs EXPLAIN ANALYZE on request, asking first before a data-changing statement', async () => {
    const uri = 'file:///spine/analyze.sql';
    const text = [
      "SELECT id FROM customers WHERE country = 'FR' AND status = 'inactive';",
      "DELETE FROM countries WHERE code = 'FR';",
      'SELECT * FROM orders WHERE id = $1;',
    ].join('\n');
    await client.open(uri, text);
    type Lens = { range: { start: { line: number } }; command: { title: string; command: string; arguments: unknown[] } };
    const lenses = (): Promise<Lens[]> => client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(
      (await lenses()).map((l) => [l.range.start.line, l.command.title, l.command.command]),
      [
        [0, 'Analyze', 'sqlInsight.analyze'],
        [1, 'Analyze (runs it, rolled back)', 'sqlInsight.analyze'],
      ],
      'no lens on a statement with parameters',
    );

    const published = client.nextDiagnostics(uri, 1);
    const analyzed = await client.connection.sendRequest('sqlInsight/analyze', { uri, position: { line: 0, character: 0 }, confirmed: false });
    assert.deepEqual((analyzed as { kind: string }).kind, 'analyzed', JSON.stringify(analyzed));
    const ds = (await published).diagnostics;
    assert.ok(ds.some((d) => d.code === 'row-estimate-misleading' && textAt(text, d.range) === 'customers'), JSON.stringify(ds));
    assert.match((await lenses())[0].command.title, /^Analyzed: [\d.,]+ ms · 0 rows · Analyze again$/);

    const ask = (confirmed: boolean) => client.connection.sendRequest('sqlInsight/analyze', { uri, position: { line: 1, character: 3 }, confirmed });
    const first = (await ask(false)) as { kind: string; message: string };
    assert.equal(first.kind, 'needs-confirmation');
    assert.match(first.message, /rolled back/);
    assert.equal((await db.query("SELECT count(*)::int AS n FROM countries WHERE code = 'FR'"))[0].n, 1);
    assert.equal(((await ask(true)) as { kind: string }).kind, 'analyzed');
    assert.equal((await db.query("SELECT count(*)::int AS n FROM countries WHERE code = 'FR'"))[0].n, 1, 'rolled back');
  });

  it('writes fixes as migrations in the style of sqlInsight.migrationsDir once it is set (Knex here)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sqli-migrations-'));
    try {
      mkdirSync(path.join(dir, 'db/migrations'), { recursive: true });
      writeFileSync(path.join(dir, 'db/migrations/20240101000000_init.js'), 'exports.up = () => {};\n');
      client.settings = { databaseUrl: db.url, migrationsDir: 'db/migrations' };
      const uri = pathToFileURL(path.join(dir, 'queries.sql')).href;
      const ds = await client.open(uri, 'SELECT * FROM orders WHERE customer_id = 42;');
      const [d] = byCode(ds, 'seq-scan-large-table');
      const [a] = ((await client.codeActions(uri, d)) ?? []).filter((x) => x.edit);
      assert.match(a.title, /^Create index on orders \(customer_id\) in a new migration — cost [\d,]+ → [\d.,]+$/);
      const [create, edit] = (a.edit?.documentChanges ?? []) as [CreateFile, TextDocumentEdit];
      assert.match(create.uri, /\/db\/migrations\/\d{14}_orders_customer_id_idx\.js$/);
      assert.equal(edit.textDocument.uri, create.uri);
      assert.match(
        (edit.edits[0] as { newText: string }).newText,
        /exports\.config = \{ transaction: false \};\n\nexports\.up = \(knex\) => knex\.raw\(`CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders \(customer_id\);`\);\n\nexports\.down = \(knex\) => knex\.raw\(`DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;`\);\n$/,
      );
    } finally {
      client.settings = { databaseUrl: db.url };
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads production table sizes from sqlInsight.tableSizesFile', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sqli-sizes-'));
    try {
      writeFileSync(path.join(dir, 'sizes.csv'), 'products,2000000\n');
      const uri = pathToFileURL(path.join(dir, 'products.sql')).href;
      const text = "SELECT id, price FROM products WHERE title = 'Product 5';";
      assert.deepEqual(await client.open(uri, text), [], '2,000 rows in development: small');
      client.settings = { databaseUrl: db.url, tableSizesFile: 'sizes.csv' };
      const ds = await client.changeAndSave(uri, text + '\n');
      assert.deepEqual(ds.map((d) => [d.code, textAt(text, d.range)]), [['seq-scan-large-table', 'products']]);
      assert.match(messageOf(ds[0]), /~2,000,000 rows \(sqlInsight\.tableSizes\)/);
    } finally {
      client.settings = { databaseUrl: db.url };
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-plans on save and drops diagnostics that no longer apply', async () => {
    const uri = 'file:///spine/resave.sql';
    const first = await client.open(uri, 'SELECT * FROM orders WHERE customer_id = 1;');
    assert.equal(first.length, 1);
    const second = await client.changeAndSave(uri, 'SELECT * FROM orders WHERE id = 1;');
    assert.deepEqual(second, []);
  });
});

describe('language server without a reachable database', function () {
  this.timeout(30_000);

  it('reports that no database is configured and still checks syntax', async () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k === 'DATABASE_URL' || k.startsWith('PG')) delete env[k];
    const client = await LspClient.start({ settings: null, env });
    try {
      const ds = await client.open('file:///nodb/a.sql', 'SELECT 1;\nSELECT FROM WHERE;');
      assert.deepEqual(ds.map((d) => d.code), ['syntax-error']);
      const status = await client.waitForStatus((s) => s.state === 'not-configured');
      assert.match(status.message, /No database configured/);
      const hover = await client.hover('file:///nodb/a.sql', 0, 2);
      assert.match(JSON.stringify(hover), /not planned: no database is configured/);
    } finally {
      await client.stop();
    }
  });

  it('says it cannot connect, once, and keeps answering', async () => {
    const client = await LspClient.start({ settings: { databaseUrl: 'postgres://postgres:s3cret@127.0.0.1:1/nowhere' } });
    try {
      const uri = 'file:///nodb/b.sql';
      const ds = await client.open(uri, 'SELECT 1;\nSELEC 2;');
      assert.deepEqual(ds.map((d) => d.code), ['syntax-error']);
      const status = await client.waitForStatus((s) => s.state === 'error');
      assert.doesNotMatch(status.message, /s3cret/);
      const again = await client.changeAndSave(uri, 'SELECT 1;\nSELEC 3;');
      assert.deepEqual(again.map((d) => d.code), ['syntax-error']);
      assert.equal(client.statuses.filter((s) => s.state === 'error').length, 1, 'no error storm');
      assert.ok(client.logs.every((l) => !l.includes('s3cret')), 'password never logged');
    } finally {
      await client.stop();
    }
  });

  it('treats a null configuration answer as not set and uses DATABASE_URL', async function () {
    await requireServer.call(this);
    const db = await createShopDatabase('nullcfg');
    const client = await LspClient.start({ settings: null, env: { ...process.env, DATABASE_URL: db.url } });
    try {
      const ds = await client.open('file:///nullcfg/a.sql', 'SELECT * FROM orders WHERE customer_id = 3;');
      assert.deepEqual(ds.map((d) => d.code), ['seq-scan-large-table']);
      await client.waitForStatus((s) => s.state === 'connected');
    } finally {
      await client.stop();
      await db.drop();
    }
  });
});
