// The bench database: created once and kept, since loading a million rows takes a while. A marker table
// records what was loaded; a database whose marker differs from what this code would load is rebuilt.
import { Client } from 'pg';
import { schemaSql, tables, type TableSpec } from './generate';

const SCHEMA_VERSION = 1;

export interface BenchDatabase {
  url: string;
  name: string;
  specs: TableSpec[];
  totalRows: number;
  /** Whether this run built it (and how long that took), or found it ready. */
  created: boolean;
  setupMs: number;
}

export function serverUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function ensureBenchDatabase(scale: number, log: (line: string) => void): Promise<BenchDatabase> {
  const name = scale === 1 ? `sqli_bench_v${SCHEMA_VERSION}` : `sqli_bench_v${SCHEMA_VERSION}_s${String(scale).replace('.', '_')}`;
  const specs = tables(scale);
  const marker = `v${SCHEMA_VERSION} scale=${scale} ${specs.map((s) => `${s.name}:${s.rows}`).join(',')}`;
  const url = withDatabase(serverUrl(), name);
  const totalRows = specs.reduce((n, s) => n + s.rows, 0);
  const started = performance.now();
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (exists && (await markerOf(url)) === marker) {
      return { url, name, specs, totalRows, created: false, setupMs: performance.now() - started };
    }
    log(`Building the bench database ${name} (${totalRows.toLocaleString('en-US')} rows in ${specs.length} tables)…`);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    for (const sql of schemaSql(specs)) await db.query(sql);
    await db.query('VACUUM ANALYZE');
    await db.query('CREATE EXTENSION IF NOT EXISTS hypopg').catch(() => undefined);
    // Written last: a build interrupted half-way leaves no marker and is redone next time.
    await db.query('CREATE TABLE sqli_bench_meta (marker text NOT NULL)');
    await db.query('INSERT INTO sqli_bench_meta VALUES ($1)', [marker]);
  } finally {
    await db.end();
  }
  const setupMs = performance.now() - started;
  log(`Built ${name} in ${(setupMs / 1000).toFixed(1)} s.`);
  return { url, name, specs, totalRows, created: true, setupMs };
}

async function markerOf(url: string): Promise<string | undefined> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query<{ marker: string }>('SELECT marker FROM sqli_bench_meta')).rows[0]?.marker;
  } catch {
    return undefined;
  } finally {
    await db.end();
  }
}

/**
 * The physical floor: the same statements EXPLAINed one after another on one open connection, with the
 * EXPLAIN options the product uses. Throws on the first statement PostgreSQL rejects, since a generator bug
 * would otherwise make the product look fast (errors are cheaper than plans).
 */
export class Floor {
  private constructor(private readonly client: Client) {}

  static async connect(url: string): Promise<Floor> {
    const client = new Client({ connectionString: url });
    await client.connect();
    return new Floor(client);
  }

  /** Total milliseconds for all statements, and the median of one. */
  async explainAll(stmts: string[]): Promise<{ totalMs: number; perStatementMs: number[] }> {
    const per: number[] = [];
    const started = performance.now();
    for (const s of stmts) {
      const t = performance.now();
      try {
        await this.client.query(`EXPLAIN (FORMAT JSON, VERBOSE) ${s}`);
      } catch (e) {
        throw new Error(`The floor could not EXPLAIN a generated statement (${e instanceof Error ? e.message : String(e)}): ${s}`);
      }
      per.push(performance.now() - t);
    }
    return { totalMs: performance.now() - started, perStatementMs: per };
  }

  /**
   * Waits until no other session on the bench database is busy: after publishing, the server proves its index
   * fixes in the background (what-ifs, some building a real index in a rolled-back transaction, holding a
   * SHARE lock that makes an EXPLAIN of a write on that table wait). Measured from a quiet database, the
   * floor and the server are compared on planning alone. Returns how long it waited; gives up after `capMs`.
   */
  async quiet(capMs: number): Promise<{ ms: number; capped: boolean }> {
    const started = performance.now();
    let idleReadings = 0;
    while (performance.now() - started < capMs) {
      const busy = await this.client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'`,
      );
      idleReadings = busy.rows[0]!.n === '0' ? idleReadings + 1 : 0;
      // Two idle readings in a row: one could fall between two what-ifs of the same proof run.
      if (idleReadings >= 2) return { ms: performance.now() - started, capped: false };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { ms: performance.now() - started, capped: true };
  }

  end(): Promise<void> {
    return this.client.end();
  }
}
