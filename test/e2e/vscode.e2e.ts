// SQL Insight in a real VS Code: the .vsix installed into code-server, driven by Debian's Chromium through
// playwright-core, against a throwaway PostgreSQL database. Two parts share one code-server:
//  - the extension-host suite (test/e2e/host), mocha inside VS Code's extension host, using the VS Code API;
//  - a UI smoke test that looks at what a user sees: squiggle, hover, status bar, Problems, quick fix.
import * as assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startPasswordProxy, type PasswordProxy } from '../helpers/passwordProxy';
import { adminUrl, createShopDatabase, type TestDatabase } from '../helpers/testDb';
import { assertToolsInstalled, installExtension, scratchEnv, startCodeServer, type CodeServer } from './codeServer';
import { ARTIFACTS, CHROMIUM, EXTENSION_ID, ROOT, RUN, VSIX } from './paths';

const FIXTURE = path.join(ROOT, 'test/e2e/fixtures/workspace');
const PASSWORD = 'e2e-secret-ß';

describe('SQL Insight in VS Code (code-server + Chromium)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let proxy: PasswordProxy;
  let server: CodeServer;
  let browser: BrowserContext;
  let extensionPath: string;
  const log = path.join(RUN, 'code-server.log');

  /** A fresh copy of the fixture workspace whose settings point at the test database. */
  function workspace(name: string): string {
    const dir = path.join(RUN, 'workspaces', name);
    cpSync(FIXTURE, dir, { recursive: true });
    mkdirSync(path.join(dir, '.vscode'), { recursive: true });
    writeFileSync(path.join(dir, '.vscode/settings.json'), JSON.stringify({ 'sqlInsight.databaseUrl': db.url }, null, 2));
    return dir;
  }

  async function screenshotOnFailure(page: Page | undefined, test: Mocha.Test | undefined): Promise<void> {
    if (!page || page.isClosed() || test?.state !== 'failed') return;
    const file = path.join(ARTIFACTS, `failed-${test.fullTitle().replace(/[^\w.-]+/g, '_').slice(0, 120)}.png`);
    await page.screenshot({ path: file });
    console.log(`    screenshot of the failure: ${path.relative(ROOT, file)}`);
  }

  before(async function () {
    this.timeout(300_000);
    assertToolsInstalled();
    for (const dir of [RUN, ARTIFACTS]) rmSync(dir, { recursive: true, force: true });
    mkdirSync(RUN, { recursive: true });
    mkdirSync(ARTIFACTS, { recursive: true });

    db = await createShopDatabase('e2e');
    const admin = new URL(adminUrl());
    proxy = await startPasswordProxy(PASSWORD, { host: admin.hostname, port: Number(admin.port || 5432) });
    const proxyUrl = `postgres://${admin.username || 'postgres'}@127.0.0.1:${proxy.port}/${db.name}`;

    const env = scratchEnv(path.join(RUN, 'scratch'), { SQL_INSIGHT_E2E_PROXY_URL: proxyUrl, SQL_INSIGHT_E2E_PASSWORD: PASSWORD });
    const dirs = { userData: path.join(RUN, 'user-data'), extensions: path.join(RUN, 'extensions') };
    await installExtension(VSIX, dirs, env, log);
    const installed = readdirSync(dirs.extensions).find((d) => d.startsWith(`${EXTENSION_ID}-`));
    assert.ok(installed, `the .vsix did not install into ${dirs.extensions}`);
    extensionPath = path.join(dirs.extensions, installed);

    server = await startCodeServer({
      ...dirs,
      env,
      log,
      userSettings: {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.colorTheme': 'Default Dark Modern',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'update.mode': 'none',
        'git.enabled': false,
        'chat.commandCenter.enabled': false,
        'editor.hover.delay': 200,
        'editor.minimap.enabled': false,
      },
    });
    browser = await chromium.launchPersistentContext(path.join(RUN, 'chromium'), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 720 },
    });
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await server?.stop();
    await proxy?.close();
    await db?.drop();
  });

  describe('extension-host suite', () => {
    let page: Page | undefined;
    afterEach(async function () {
      await screenshotOnFailure(page, this.currentTest);
      await page?.close();
    });

    it('passes inside VS Code: diagnostics, hover, quick fix, settings, TypeScript, password, embedded engine', async function () {
      this.timeout(600_000);
      page = await browser.newPage();
      const hostLog = path.join(RUN, 'extension-host-suite.log');
      const exit = new Promise<number>((resolve) => {
        void page!.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
      });
      // Everything the workbench and the extension host log goes to the file; the mocha report also to the console.
      let reporting = false;
      await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
        const line = format(...args);
        appendFileSync(hostLog, `${type}: ${line}\n`);
        reporting ||= line.includes('SQL Insight inside VS Code');
        if (reporting) console.log(`      │ ${line.replace(/\n/g, '\n      │ ')}`);
      });
      const remote = (p: string): string => `vscode-remote://127.0.0.1:${server.port}${p}`;
      const payload = [
        ['extensionDevelopmentPath', remote(extensionPath)],
        ['extensionTestsPath', remote(path.join(ROOT, 'out/test/e2e/host/index.js'))],
      ];
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace('host'))}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
      assert.equal(await exit, 0, `the extension-host suite failed; its log is ${path.relative(ROOT, hostLog)}`);
      assert.ok(proxy.rejected > 0, 'the database refused the connection before the password was set');
      assert.ok(proxy.accepted > 0, 'the password set through the command reached the database');
    });
  });

  describe('UI smoke test against the installed .vsix', () => {
    let page: Page;
    before(async function () {
      this.timeout(120_000);
      page = await browser.newPage();
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace('ui'))}`);
      await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view').waitFor({ timeout: 60_000 });
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').fill('customers.sql');
      await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'customers.sql' }).first().waitFor();
      await page.keyboard.press('Enter');
      await page.locator('.monaco-editor .view-lines').filter({ hasText: 'lower(email)' }).waitFor();
    });
    afterEach(async function () {
      await screenshotOnFailure(page, this.currentTest);
    });
    after(async () => {
      await page?.close();
    });

    it('renders the squiggle under the wrapped column', async () => {
      await page.locator('.monaco-editor .squiggly-warning').first().waitFor({ timeout: 60_000 });
    });

    it('shows the plan cost in the hover', async () => {
      const squiggle = page.locator('.monaco-editor .squiggly-warning').first();
      const box = await squiggle.boundingBox();
      assert.ok(box, 'the squiggle has no box');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const hover = page.locator('.monaco-hover').filter({ hasText: 'total cost' });
      await hover.waitFor({ timeout: 30_000 });
      const text = await hover.innerText();
      assert.match(text, /customers_email_idx/);
      assert.match(text, /Plan · total cost [\d,.]+/);
      assert.match(text, /Seq Scan on (public\.)?customers/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });
      // The README's picture; refreshed only on request so that a test run leaves the work tree clean.
      if (process.env.SQL_INSIGHT_UPDATE_SCREENSHOT) {
        mkdirSync(path.join(ROOT, 'docs/images'), { recursive: true });
        await page.screenshot({ path: path.join(ROOT, 'docs/images/hover.png') });
      }
      await page.mouse.move(5, 5);
    });

    it('shows the connected database in the status bar', async () => {
      await page.locator('.statusbar-item').filter({ hasText: `${db.name}@127.0.0.1:5432` }).waitFor({ timeout: 30_000 });
    });

    it('lists the finding in the Problems panel', async () => {
      await page.locator('#status\\.problems').click();
      const row = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'customers_email_idx' });
      await row.first().waitFor({ timeout: 30_000 });
      assert.match(await row.first().innerText(), /lower\(email\)|customers\.email/);
    });

    it('inserts the index DDL from the quick fix menu', async () => {
      const box = await page.locator('.monaco-editor .squiggly-warning').first().boundingBox();
      assert.ok(box, 'the squiggle has no box');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.keyboard.press('Control+.');
      const item = page.locator('.action-widget .monaco-list-row').filter({ hasText: 'Create expression index on customers' });
      await item.first().waitFor({ timeout: 30_000 });
      // Keyboard, as a user would: the menu's pointer guard swallows synthetic clicks right after it opens.
      for (let i = 0; i < 5 && !(await item.first().getAttribute('class'))?.includes('focused'); i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page
        .locator('.monaco-editor .view-lines')
        .filter({ hasText: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_lower_email_idx ON customers (lower(email));' })
        .waitFor({ timeout: 30_000 });
    });
  });
});
