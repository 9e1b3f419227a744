// Measures the embedded engine as a newcomer meets it: the built language server over stdio, a workspace
// with a generated 50-table schema in migrations/, no database anywhere: the time from opening a
// query file to its first diagnostics, and the server's memory, for three starts:
//   first-ever  nothing cached (the empty cluster is made: initdb)
//   cold        the empty cluster cached, this schema new
//   warm        this schema loaded before
// Scenario 6 of `npm run bench` (bench/index.ts) runs it. With --quick: one cold start whose empty cluster is
// copied from the test suites' storage when they made one, else one first-ever start.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { envWithoutDatabase, LspClient } from '../test/helpers/lspClient';
import { processMemory } from './lsp';

export const TABLES = 50;

function schema(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= TABLES; i++) {
    const ref = i > 1 ? `,\n  parent_id bigint REFERENCES t${i - 1} (id)` : '';
    files[`migrations/${String(i).padStart(3, '0')}_t${i}.sql`] = `CREATE TABLE t${i} (
  id bigint PRIMARY KEY,
  email varchar(255) NOT NULL,
  status text NOT NULL DEFAULT 'new',
  amount numeric(12,2),
  created_at timestamptz NOT NULL DEFAULT now()${ref}
);
CREATE INDEX t${i}_email_idx ON t${i} (email);
CREATE INDEX t${i}_created_at_idx ON t${i} (created_at);
`;
  }
  return files;
}

const QUERY = Array.from({ length: 10 }, (_, i) => `SELECT id FROM t${i * 5 + 1} WHERE lower(email) = 'a@b.c' AND status = 'new';`).join('\n');

export interface EmbeddedSample {
  start: string;
  firstDiagnosticsMs: number;
  diagnostics: number;
  rssMb: number;
  peakRssMb: number;
  /** The engine's own account of its start, phase by phase. */
  engine: string;
}

async function run(start: string, root: string, storagePath: string): Promise<EmbeddedSample> {
  const client = await LspClient.start({ workspaceFolders: [pathToFileURL(root).href], env: envWithoutDatabase(), settings: {}, initializationOptions: { storagePath } });
  try {
    const uri = pathToFileURL(path.join(root, 'queries.sql')).href;
    const started = performance.now();
    const diagnostics = await client.open(uri, QUERY);
    const firstDiagnosticsMs = Math.round(performance.now() - started);
    const mem = processMemory(client.pid);
    const engine = client.logs.find((l) => l.includes('Embedded database ready'))?.replace(/^\[info\] /, '') ?? '';
    return { start, firstDiagnosticsMs, diagnostics: diagnostics.length, rssMb: Math.round(mem.rssMb), peakRssMb: Math.round(mem.peakMb), engine };
  } finally {
    await client.stop();
  }
}

/** First diagnostics and memory of the embedded engine for first-ever, cold and warm starts. */
export async function benchEmbedded(quick: boolean, testStorage: string): Promise<EmbeddedSample[]> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sqli-bench-'));
  try {
    const root = path.join(work, 'app');
    for (const [rel, text] of Object.entries(schema())) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    const storage = path.join(work, 'storage');
    if (quick) {
      const copied = existsSync(testStorage) && templateOnly(testStorage, storage);
      return [await run(copied ? 'cold' : 'first-ever', root, storage)];
    }
    const samples: EmbeddedSample[] = [await run('first-ever', root, storage)];
    for (let i = 0; i < 3; i++) samples.push(await run('cold', root, templateOnly(storage, path.join(work, `cold-${i}`)) || storage));
    for (let i = 0; i < 3; i++) samples.push(await run('warm', root, storage));
    return samples;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A storage holding only the empty cluster of `from`: the schema is new to it. Undefined when `from` has none. */
function templateOnly(from: string, to: string): string | undefined {
  let copied = false;
  for (const dir of readdirSync(from)) {
    const template = path.join(from, dir, 'template');
    if (!existsSync(template)) continue;
    cpSync(template, path.join(to, dir, 'template'), { recursive: true });
    copied = true;
  }
  return copied ? to : undefined;
}
