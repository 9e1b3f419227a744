// Throwaway PostgreSQL databases for tests: each suite creates its own, fills it, and drops it at the end.
// Uses a real server: DATABASE_URL's server when set, else 127.0.0.1:5432 as user postgres.
import { Client } from 'pg';
import { SHOP_SCHEMA } from './schema';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** Runs SQL against the test database with its own short-lived connection (tests only). */
  query<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return process.env.SQL_INSIGHT_TEST_ADMIN_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

let probe: Promise<string | undefined> | undefined;

/** Why no PostgreSQL server answers at adminUrl() (undefined when one does). Probed once, with a short timeout. */
export function serverUnavailable(): Promise<string | undefined> {
  probe ??= (async () => {
    const c = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 2000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message || e.name : String(e);
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
  return probe;
}

/**
 * `before(requireServer)` in a suite that needs a PostgreSQL server: without one the suite is skipped (its
 * tests show as pending) with a line saying why, so that `npm test` passes on a machine with only Node.
 */
export async function requireServer(this: Mocha.Context): Promise<void> {
  const why = await serverUnavailable();
  if (!why) return;
  const where = new URL(adminUrl());
  console.log(`    skipped: no PostgreSQL server at ${where.hostname}:${where.port || 5432} (${why}); set DATABASE_URL to run these`);
  this.skip();
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

/** Creates an empty database named `sqli_<prefix>_<random>`; `schema` SQL (if given) is run in it. */
export async function createTestDatabase(prefix: string, schema?: string): Promise<TestDatabase> {
  const name = `sqli_${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), name);
  const query = async <T,>(sql: string, values?: unknown[]): Promise<T[]> => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query(sql, values);
      return r.rows as T[];
    } finally {
      await c.end();
    }
  };
  if (schema) await query(schema);
  return {
    url,
    name,
    query,
    async drop() {
      const a = new Client({ connectionString: adminUrl() });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** A database with the shop schema and generated rows (tens of thousands), analysed. */
export function createShopDatabase(prefix: string): Promise<TestDatabase> {
  return createTestDatabase(prefix, SHOP_SCHEMA);
}
