// Run as a child process (node pgliteInitdb.js <dataDir>): creates an empty PGlite cluster and exits.
// initdb peaks at ~800 MB; in a process of its own that memory goes back to the system when it ends, where
// the language server would keep most of it.
import { PGlite } from '@electric-sql/pglite';

async function main(dataDir: string | undefined): Promise<void> {
  if (!dataDir) throw new Error('usage: pgliteInitdb <dataDir>');
  // 1 MB WAL segments instead of 16: every start copies the cluster, WAL included.
  const pg = await PGlite.create({ dataDir, initDbStartParams: ['--wal-segsize=1'] });
  await pg.close();
}

main(process.argv[2]).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
