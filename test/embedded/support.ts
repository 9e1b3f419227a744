// Workspaces on disk for the embedded-engine tests, and the one cluster cache they share.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where the tests keep PGlite clusters. It outlives the run on purpose: the empty cluster (initdb, several
 * seconds) is made once per machine, and each test schema is loaded once and then reopened from its copy.
 */
export const TEST_STORAGE = process.env.SQL_INSIGHT_TEST_STORAGE || path.join(os.tmpdir(), 'sql-insight-test-storage');

export interface Workspace {
  root: string;
  /** Absolute path of a workspace-relative file. */
  file(relative: string): string;
  write(relative: string, text: string): string;
  remove(): void;
}

/** A temporary workspace folder holding `files` (workspace-relative path → text). */
export function makeWorkspace(files: Record<string, string> = {}): Workspace {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sqli-ws-'));
  const ws: Workspace = {
    root,
    file: (relative) => path.join(root, ...relative.split('/')),
    write(relative, text) {
      const abs = ws.file(relative);
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, text);
      return abs;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [rel, text] of Object.entries(files)) ws.write(rel, text);
  return ws;
}

/** The environment without any database: no DATABASE_URL, no libpq variables. */
export function envWithoutDatabase(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'DATABASE_URL' || k.startsWith('PG')) delete env[k];
  return env;
}

/** A small shop schema as migrations would hold it (no rows). */
export const SHOP_MIGRATIONS: Record<string, string> = {
  'migrations/001_customers.up.sql': `CREATE TABLE customers (
  id          bigint PRIMARY KEY,
  email       varchar(255) NOT NULL,
  name        text NOT NULL,
  country     text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX customers_email_idx ON customers (email);
CREATE INDEX customers_created_at_idx ON customers (created_at);
`,
  'migrations/001_customers.down.sql': 'DROP TABLE customers;\n',
  'migrations/002_orders.up.sql': `CREATE TABLE orders (
  id           bigint PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES customers (id),
  status       text NOT NULL,
  total        numeric(12,2) NOT NULL,
  created_at   timestamptz NOT NULL
);
`,
  'migrations/002_orders.down.sql': 'DROP TABLE orders;\n',
};
