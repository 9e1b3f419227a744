// The package a user installs: the bundles, the parser's WebAssembly next to the server bundle, the grammars,
// and nothing that only building or testing needs.
import * as assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { ROOT, VSIX } from './paths';
import { readZip, type ZipEntry } from './zip';

/** The budgets the README states: the package without PGlite's files, and those files (compressed). */
const MAX_VSIX_BYTES = 5 * 1024 * 1024;
const MAX_PGLITE_BYTES = 8 * 1024 * 1024;
const isPglite = (name: string): boolean => /^extension\/server\/out\/(pglite\.(wasm|data|LICENSE)|initdb\.wasm|pglite-extensions\/)/.test(name);

describe('the packaged .vsix', () => {
  let entries: ZipEntry[];
  const entry = (name: string): ZipEntry => {
    const e = entries.find((x) => x.name === name);
    assert.ok(e, `${name} is missing; the package holds ${entries.map((x) => x.name).join(', ')}`);
    return e;
  };

  before(() => {
    entries = readZip(readFileSync(VSIX));
  });

  it('holds the bundled client and server, the parser WebAssembly beside the server, and the grammars', () => {
    for (const name of [
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/docs/images/hover.png',
      'extension/client/out/extension.js',
      'extension/server/out/server.js',
      'extension/server/out/typescript.js',
      'extension/server/out/libpg-query.wasm',
      'extension/server/out/pgliteInitdb.js',
      'extension/server/out/pglite.wasm',
      'extension/server/out/pglite.data',
      'extension/server/out/initdb.wasm',
      'extension/server/out/pglite.LICENSE',
      'extension/server/out/pglite-extensions/pg_trgm.tar.gz',
      'extension/server/out/pglite-extensions/uuid-ossp.tar.gz',
      'extension/syntaxes/sql-injection.ts.tmLanguage.json',
      'extension/syntaxes/sql-injection.tsx.tmLanguage.json',
      'extension/syntaxes/sql-injection.js.tmLanguage.json',
      'extension/syntaxes/sql-injection.jsx.tmLanguage.json',
    ]) {
      entry(name);
    }
    const wasm = entry('extension/server/out/libpg-query.wasm').read();
    const shipped = readFileSync(path.join(ROOT, 'node_modules/libpg-query/wasm/libpg-query.wasm'));
    assert.ok(wasm.equals(shipped), 'the WebAssembly is the one libpg-query ships');
    assert.equal(wasm.subarray(0, 4).toString('latin1'), '\0asm');
    const pglite = entry('extension/server/out/pglite.wasm').read();
    assert.ok(pglite.equals(readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/dist/pglite.wasm'))), 'the PGlite WebAssembly is its own');
  });

  it('carries no node_modules, sources, source maps, tests or build scripts', () => {
    const extra = entries
      .map((e) => e.name)
      .filter((n) => /node_modules\/|\.map$|\.ts$|(^|\/)(src|test|out\/test|\.e2e|\.vscode)\/|generate\.js$|esbuild\.mjs$/.test(n));
    assert.deepEqual(extra, []);
  });

  it('bundles its dependencies: neither bundle requires anything but Node built-ins (and vscode)', () => {
    for (const [name, allowed] of [
      ['extension/client/out/extension.js', ['vscode']],
      // pg loads pg-native only when asked to.
      // PGlite's Emscripten runtime names ws for socket support it never uses; TypeScript is loaded from beside
      // the bundle when SQL in JS/TS first needs it.
      ['extension/server/out/server.js', ['pg-native', 'ws', './typescript.js']],
      // TypeScript's sys tries source-map-support inside a try.
      ['extension/server/out/typescript.js', ['source-map-support']],
      ['extension/server/out/pgliteInitdb.js', ['ws']],
    ] as const) {
      const code = entry(name).read().toString('utf8');
      const required = new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
      assert.ok(required.has('path') || required.has('node:path'), `${name}: the require() scan found nothing`);
      const foreign = [...required].filter((r) => !r.startsWith('node:') && !isBuiltin(r) && !(allowed as readonly string[]).includes(r));
      assert.deepEqual(foreign, [], name);
    }
  });

  it('admits VS Code 1.100 and starts from the bundled client', () => {
    const manifest = JSON.parse(entry('extension/package.json').read().toString('utf8')) as { engines: { vscode: string }; main: string };
    const m = /^\^1\.(\d+)\.\d+$/.exec(manifest.engines.vscode);
    assert.ok(m && Number(m[1]) <= 100, `engines.vscode ${manifest.engines.vscode} must admit 1.100`);
    assert.equal(path.posix.normalize(`extension/${manifest.main}`), 'extension/client/out/extension.js');
  });

  it(`stays within the size budgets: ${MAX_VSIX_BYTES / 1024 / 1024} MB, and ${MAX_PGLITE_BYTES / 1024 / 1024} MB for PGlite`, () => {
    const pglite = entries.filter((e) => isPglite(e.name)).reduce((n, e) => n + e.compressedSize, 0);
    const size = statSync(VSIX).size;
    assert.ok(pglite > 0 && pglite < MAX_PGLITE_BYTES, `PGlite's files take ${pglite} bytes`);
    assert.ok(size - pglite < MAX_VSIX_BYTES, `${VSIX} is ${size} bytes, ${pglite} of them PGlite's`);
  });
});

