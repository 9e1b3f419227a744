// Runs inside VS Code's extension host (code-server), against the extension as installed from the .vsix and a
// fixture workspace whose .vscode/settings.json points at a real database (and, last, at the embedded engine).
// Waits for diagnostics events.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'sql-insight.sql-insight';

const folder = (): vscode.WorkspaceFolder => vscode.workspace.workspaceFolders![0];
const file = (relative: string): vscode.Uri => vscode.Uri.joinPath(folder().uri, relative);
const codeOf = (d: vscode.Diagnostic): string => String(typeof d.code === 'object' ? d.code.value : d.code);
const has = (code: string) => (ds: readonly vscode.Diagnostic[]): boolean => ds.some((d) => codeOf(d) === code);
const hasNot = (code: string) => (ds: readonly vscode.Diagnostic[]): boolean => !has(code)(ds);

/** Resolves with the diagnostics of `uri` as soon as they satisfy `ready` (now or on a later change). */
function diagnostics(uri: vscode.Uri, ready: (ds: readonly vscode.Diagnostic[]) => boolean, what: string, timeoutMs = 60_000): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const ds = vscode.languages.getDiagnostics(uri);
      if (!ready(ds)) return false;
      done();
      resolve(ds);
      return true;
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      done();
      reject(new Error(`Timed out waiting for ${what} in ${uri.path}; diagnostics now: ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => [codeOf(d), d.message]))}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      sub.dispose();
    };
    check();
  });
}

async function hoverText(uri: vscode.Uri, at: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, at);
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

async function quickFixes(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    'vscode.executeCodeActionProvider',
    uri,
    range,
    vscode.CodeActionKind.QuickFix.value,
  );
  return actions.filter((a): a is vscode.CodeAction => !(typeof a.command === 'string'));
}

describe('SQL Insight inside VS Code', function () {
  this.timeout(120_000);
  const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('sqlInsight', folder().uri);

  it('is the packaged extension, activated by opening a .sql file', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    assert.ok(existsSync(path.join(extension.extensionPath, 'server/out/libpg-query.wasm')));
    assert.ok(!existsSync(path.join(extension.extensionPath, 'client/src')), `${extension.extensionPath} is a source folder, not the package`);
    await vscode.window.showTextDocument(file('queries/customers.sql'));
    await diagnostics(file('queries/customers.sql'), has('function-on-indexed-column'), 'the first plan-based diagnostic');
    assert.ok(extension.isActive);
  });

  it('squiggles the wrapped column, hovers with the plan, and applies the proven index fix', async () => {
    const uri = file('queries/customers.sql');
    const doc = await vscode.workspace.openTextDocument(uri);
    const ds = await diagnostics(uri, has('function-on-indexed-column'), 'function-on-indexed-column');
    const d = ds.find((x) => codeOf(x) === 'function-on-indexed-column')!;
    assert.equal(doc.getText(d.range), 'lower(email)');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(d.source, 'sql-insight');
    assert.match(d.message, /customers_email_idx/);

    const md = await hoverText(uri, d.range.start);
    assert.match(md, /\*\*Plan\*\* · total cost \*\*[\d,.]+\*\*/);
    assert.match(md, /Seq Scan on (public\.)?customers/);

    const fixes = await quickFixes(uri, d.range);
    const fix = fixes.find((a) => /^Create expression index on customers \(lower\(email\)\) — cost [\d,.]+ → [\d,.]+$/.test(a.title));
    assert.ok(fix?.edit, `no proven index fix among ${JSON.stringify(fixes.map((a) => a.title))}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.lineAt(1).text, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_lower_email_idx ON customers (lower(email));');
    assert.equal(doc.lineAt(2).text, 'SELECT id, name');
    assert.ok(await doc.save());
  });

  it('re-plans when a setting changes in the workspace settings', async () => {
    const uri = file('queries/orders.sql');
    await vscode.window.showTextDocument(uri);
    await diagnostics(uri, has('seq-scan-large-table'), 'the full-scan warning on orders');
    await settings().update('seqScanMinRows', 1_000_000, vscode.ConfigurationTarget.Workspace);
    await diagnostics(uri, hasNot('seq-scan-large-table'), 'the warning to go once 120,000 rows no longer count as large');
    await settings().update('seqScanMinRows', undefined, vscode.ConfigurationTarget.Workspace);
    await diagnostics(uri, has('seq-scan-large-table'), 'the warning to come back with the default');
  });

  it('finds the same problems in SQL embedded in TypeScript and writes the fix as a migration', async () => {
    const uri = file('src/customers.ts');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnostics(uri, (x) => has('function-on-indexed-column')(x) && has('seq-scan-large-table')(x), 'both findings in the .ts file');
    const wrapped = ds.find((x) => codeOf(x) === 'function-on-indexed-column')!;
    assert.equal(doc.getText(wrapped.range), 'lower(email)');
    assert.equal(doc.getText(ds.find((x) => codeOf(x) === 'seq-scan-large-table')!.range), 'orders');

    const md = await hoverText(uri, wrapped.range.start);
    assert.match(md, /\*\*Plan\*\* · total cost/);
    assert.match(md, /tagged template/);

    const fix = (await quickFixes(uri, wrapped.range)).find((a) => /^Create expression index on customers \(lower\(email\)\) in a new migration/.test(a.title));
    assert.ok(fix?.edit, 'no migration fix offered');
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const created = fix.edit.entries().map(([u]) => u).find((u) => /\/migrations\/\d{14}_\w+_idx\.sql$/.test(u.path));
    assert.ok(created, JSON.stringify(fix.edit.entries().map(([u]) => u.path)));
    const migration = await vscode.workspace.openTextDocument(created);
    assert.match(migration.getText(), /^CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_lower_email_idx ON customers \(lower\(email\)\);$/m);
  });

  it('connects once the password is set through the command, and keeps it in SecretStorage across restarts', async () => {
    const proxyUrl = process.env.SQL_INSIGHT_E2E_PROXY_URL;
    const password = process.env.SQL_INSIGHT_E2E_PASSWORD;
    assert.ok(proxyUrl && password, 'the harness passes the password-checking proxy in the environment');
    const uri = file('queries/orders.sql');
    await vscode.window.showTextDocument(uri);
    await diagnostics(uri, has('seq-scan-large-table'), 'the full-scan warning before switching databases');

    await settings().update('databaseUrl', proxyUrl, vscode.ConfigurationTarget.Workspace);
    await diagnostics(uri, hasNot('seq-scan-large-table'), 'parse-only diagnostics while the database refuses the connection');

    await vscode.commands.executeCommand('sqlInsight.setDatabasePassword', password);
    await diagnostics(uri, has('seq-scan-large-table'), 'the plan-based warning once the password reached the database');

    const gone = diagnostics(uri, (ds) => ds.length === 0, 'the diagnostics to be cleared by the restart');
    await vscode.commands.executeCommand('sqlInsight.restartServer');
    await gone;
    await diagnostics(uri, has('seq-scan-large-table'), 'the plan-based warning from the restarted server, with the stored password');
  });

  it('plans against the embedded engine (PGlite) loaded with the workspace schema, and sizes it from row counts', async () => {
    // The schema only: the packaged PGlite creates its cluster, loads this file and plans on empty tables.
    await vscode.workspace.fs.writeFile(
      file('db/structure.sql'),
      Buffer.from(
        'CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(255) NOT NULL, name text NOT NULL);\n' +
          'CREATE INDEX customers_email_idx ON customers (email);\n' +
          'CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),\n' +
          '  status text NOT NULL, total numeric(12,2) NOT NULL, created_at timestamptz NOT NULL);\n',
      ),
    );
    const orders = file('queries/orders.sql');
    const customers = file('queries/customers.sql');
    await vscode.window.showTextDocument(orders);
    await settings().update('database', 'embedded', vscode.ConfigurationTarget.Workspace);
    await diagnostics(orders, hasNot('seq-scan-large-table'), 'no size finding on the empty embedded tables', 120_000);
    await vscode.window.showTextDocument(customers);
    const [wrapped] = (await diagnostics(customers, has('function-on-indexed-column'), 'the structural finding from the embedded engine', 120_000)).filter(
      (d) => codeOf(d) === 'function-on-indexed-column',
    );
    assert.match(await hoverText(customers, wrapped.range.start), /the tables are empty/);

    await settings().update('embedded.rowCounts', { orders: 5_000_000 }, vscode.ConfigurationTarget.Workspace);
    await diagnostics(orders, has('seq-scan-large-table'), 'the full-scan warning once orders has a synthetic size', 120_000);
    const [scan] = vscode.languages.getDiagnostics(orders).filter((d) => codeOf(d) === 'seq-scan-large-table');
    assert.match(scan.message, /~5,000,000 rows/);
    assert.match(await hoverText(orders, scan.range.start), /estimates are synthetic \(sqlInsight\.embedded\.rowCounts\)/);
  });
});
