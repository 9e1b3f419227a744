// Run as a child process (node pgliteInitdb.js <dataDir>): creates an empty PGlite cluster and exits.
// initdb peaks at ~800 MB; in a process of its own that memory goes back to the system when it ends, where
// the language server would keep most of it.
// PGlite's CommonJS build: it finds its WebAssembly through __filename, which stays right when bundled.
const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');

async function main(dataDir: string | undefined): Promise<void> {
  if (!dataDir) throw new Error('usage: pgliteInitdb <dataDir>');
  // 1 MB WAL segments instead of 16: every start copies the cluster, WAL included.
  const pg = await PGlite.create({ dataDir, initDbStartParams: ['--wal-segsize=1'] });
  try {
    // Only `postgres` is ever used (CREATE DATABASE is not loaded); the templates would be half of each copy.
    for (const template of ['template1', 'template0']) {
      await pg.exec(`ALTER DATABASE ${template} IS_TEMPLATE false`);
      await pg.exec(`DROP DATABASE ${template}`);
    }
    await pg.exec('CHECKPOINT');
  } finally {
    await pg.close();
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
