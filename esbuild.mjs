// Bundles the client and the server into one file each, and puts the parser's WebAssembly next to the
// server bundle (libpg-query locates it through __dirname), and so PGlite's WebAssembly, its data file and
// its extensions (PGlite's CommonJS build finds its files next to the module it is bundled into).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
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

const pgliteDist = dirname(require.resolve('@electric-sql/pglite'));
const pgliteVersion = JSON.parse(readFileSync(join(pgliteDist, '..', 'package.json'), 'utf8')).version;
const server = {
  ...common,
  external: ['pg-native'],
  // The bundle has no node_modules to read PGlite's version from; it keys the cluster cache.
  define: { 'process.env.SQL_INSIGHT_PGLITE_VERSION': JSON.stringify(pgliteVersion) },
};

// TypeScript (for SQL in JS/TS) is two thirds of the server's code but is needed only when such a file
// opens: it ships as its own file beside the bundle, so starting the server does not parse it.
const typescriptBeside = {
  name: 'typescript-beside',
  setup(build) {
    build.onResolve({ filter: /^typescript$/ }, () => ({ path: './typescript.js', external: true }));
  },
};

const builds = [
  { ...server, entryPoints: ['server/src/main.ts'], outfile: 'server/out/server.js', plugins: [typescriptBeside] },
  { ...common, sourcemap: false, entryPoints: [require.resolve('typescript')], outfile: 'server/out/typescript.js' },
  // initdb runs in a child process of the server (see server/src/db/pgliteInitdb.ts).
  { ...server, entryPoints: ['server/src/db/pgliteInitdb.ts'], outfile: 'server/out/pgliteInitdb.js' },
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/out/extension.js', external: ['vscode'] },
];

mkdirSync('server/out', { recursive: true });
const wasm = join(dirname(require.resolve('libpg-query')), 'libpg-query.wasm');
copyFileSync(wasm, 'server/out/libpg-query.wasm');
for (const f of ['pglite.wasm', 'pglite.data', 'initdb.wasm']) copyFileSync(join(pgliteDist, f), join('server/out', f));
// Apache-2.0: its licence travels with its files.
copyFileSync(join(pgliteDist, '..', 'LICENSE'), 'server/out/pglite.LICENSE');
mkdirSync('server/out/pglite-extensions', { recursive: true });
for (const f of readdirSync(pgliteDist).filter((n) => n.endsWith('.tar.gz'))) {
  copyFileSync(join(pgliteDist, f), join('server/out/pglite-extensions', f));
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
