// Measures the embedded engine as a newcomer meets it: the built language server over stdio, a workspace
// with a generated 50-table schema in migrations/, no database anywhere. Prints the time from opening a
// query file to its first diagnostics, and the server's memory, for three starts:
//   first-ever  nothing cached (the empty cluster is made: initdb)
//   cold        the empty cluster cached, this schema new
//   warm        this schema loaded before
// Run: npm run bench (writes bench/results.json). Not a test: the numbers depend on the machine.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../test/helpers/lspClient';

const TABLES = 50;

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

interface Sample {
  start: string;
  firstDiagnosticsMs: number;
  diagnostics: number;
  rssMb: number;
  peakRssMb: number;
  /** The engine's own account of its start, phase by phase. */
  engine: string;
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

async function run(start: string, root: string, storagePath: string): Promise<Sample> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'DATABASE_URL' || k.startsWith('PG')) delete env[k];
  const client = await LspClient.start({ workspaceFolders: [pathToFileURL(root).href], env, settings: {}, initializationOptions: { storagePath } });
  try {
    const uri = pathToFileURL(path.join(root, 'queries.sql')).href;
    const started = performance.now();
    const diagnostics = await client.open(uri, QUERY);
    const firstDiagnosticsMs = Math.round(performance.now() - started);
    const mem = memory(client.pid);
    const engine = client.logs.find((l) => l.includes('Embedded database ready'))?.replace(/^\[info\] /, '') ?? '';
    return { start, firstDiagnosticsMs, diagnostics: diagnostics.length, rssMb: mem.rss, peakRssMb: mem.peak, engine };
  } finally {
    await client.stop();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sqli-bench-'));
  try {
    const root = path.join(work, 'app');
    for (const [rel, text] of Object.entries(schema())) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    const storage = path.join(work, 'storage');
    const samples: Sample[] = [await run('first-ever', root, storage)];
    for (let i = 0; i < 3; i++) samples.push(await run('cold', root, templateOnly(storage, path.join(work, `cold-${i}`))));
    for (let i = 0; i < 3; i++) samples.push(await run('warm', root, storage));
    const result = { tables: TABLES, machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => l.toFixed(2)) }, samples };
    console.table(samples.map(({ engine: _, ...numbers }) => numbers));
    for (const s of samples) console.log(`${s.start}: ${s.engine}`);
    writeFileSync(path.join(__dirname, '../../bench/results.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A storage holding only the empty cluster of `from`: the schema is new to it. */
function templateOnly(from: string, to: string): string {
  for (const dir of readdirSync(from)) cpSync(path.join(from, dir, 'template'), path.join(to, dir, 'template'), { recursive: true });
  return to;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
