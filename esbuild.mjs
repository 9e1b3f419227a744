// Bundles the client and the server into one file each, and puts the parser's WebAssembly next to the
// server bundle (libpg-query locates it through __dirname).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

// PGlite stays in node_modules (shipped in the package): it finds its WebAssembly, data and extension files
// next to its own modules.
const server = { ...common, external: ['pg-native', '@electric-sql/pglite'] };

const builds = [
  { ...server, entryPoints: ['server/src/main.ts'], outfile: 'server/out/server.js' },
  // initdb runs in a child process of the server (see server/src/db/pgliteInitdb.ts).
  { ...server, entryPoints: ['server/src/db/pgliteInitdb.ts'], outfile: 'server/out/pgliteInitdb.js' },
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/out/extension.js', external: ['vscode'] },
];

mkdirSync('server/out', { recursive: true });
const wasm = join(dirname(require.resolve('libpg-query')), 'libpg-query.wasm');
copyFileSync(wasm, 'server/out/libpg-query.wasm');

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
