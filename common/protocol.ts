// Types shared by the VS Code client and the language server: settings and custom notifications.
// Both sides import this file; nothing here may import `vscode` or a connection.

export interface SqlInsightSettings {
  /** Connection URL of the development database; empty means "use DATABASE_URL, then libpq variables". */
  databaseUrl: string;
  /** Tables with at least this many estimated rows count as large for the full-scan rule. */
  seqScanMinRows: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  whatIf: {
    /** Index what-ifs that must build the index for real are skipped above this many rows. */
    maxTableRows: number;
  };
  index: {
    /** Write CREATE INDEX CONCURRENTLY in quick-fixes. */
    concurrently: boolean;
  };
  embedded: {
    /** Extra tag names whose template literals are SQL, e.g. `db.sql`. */
    tags: string[];
    /** Extra function names whose first argument is SQL, e.g. `db.execute`. */
    functions: string[];
    /**
     * The embedded engine (not SQL embedded in code): row counts by `table` or `schema.table`, turned into
     * synthetic statistics.
     */
    rowCounts: Record<string, number>;
  };
  /** Where index fixes for embedded SQL go, relative to the workspace folder; empty means `migrations`. */
  migrationsDir: string;
  /** `auto`: a configured server, else the embedded engine when schema files are found. */
  database: DatabaseMode;
  /** Globs (workspace-relative) of the schema files loaded into the embedded engine; empty: the usual places. */
  schemaFiles: string[];
  /** Per-rule level by rule id; a rule that is not listed keeps its default. */
  rules: Record<string, RuleLevel>;
  /**
   * How many rows tables really have (in production), by `table` or `schema.table`; every "large" test uses
   * these instead of the development database's counts.
   */
  tableSizes: Record<string, number>;
  /**
   * A statistics file with more table sizes (JSON `{ "orders": 50000000 }`, or CSV lines `orders,50000000` as
   * `SELECT relname, reltuples FROM pg_class` prints them), relative to the workspace folder; tableSizes wins.
   */
  tableSizesFile: string;
  /** TLS to the database; `mode` empty means "whatever the URL says (sslmode), else no TLS". */
  ssl: {
    mode: SslMode | '';
    /** CA certificate file (PEM) for `verify-ca` / `verify-full`; empty means the system's trusted roots. */
    caFile: string;
  };
  /** What the server takes on, so that no file or burst of edits can make it slow or large. */
  limits: {
    /** Longer documents (UTF-16 code units) get one Information diagnostic and no other analysis. */
    maxDocumentChars: number;
    /** Longer statements are neither parsed nor planned (one Information diagnostic each). */
    maxStatementChars: number;
    /** Only this many statements per document are planned; the rest are syntax-checked only. */
    maxPlannedStatements: number;
    /** EXPLAINs waiting for a database connection, all documents together; beyond it they are refused. */
    maxQueuedExplains: number;
    /** Plans kept between runs (least recently used go first); 0 turns the plan cache off. */
    planCacheEntries: number;
  };
}

export type DatabaseMode = 'auto' | 'server' | 'embedded';
const DATABASE_MODES: readonly DatabaseMode[] = ['auto', 'server', 'embedded'];

/** What a user can set a rule to. */
export type RuleLevel = 'off' | 'error' | 'warning' | 'information' | 'hint';
export const RULE_LEVELS: readonly RuleLevel[] = ['off', 'error', 'warning', 'information', 'hint'];
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const DEFAULT_SETTINGS: SqlInsightSettings = {
  databaseUrl: '',
  seqScanMinRows: 10_000,
  statementTimeoutMs: 5_000,
  lockTimeoutMs: 1_000,
  whatIf: { maxTableRows: 1_000_000 },
  index: { concurrently: true },
  embedded: { tags: [], functions: [], rowCounts: {} },
  migrationsDir: '',
  database: 'auto',
  schemaFiles: [],
  rules: {},
  tableSizes: {},
  tableSizesFile: '',
  ssl: { mode: '', caFile: '' },
  limits: { maxDocumentChars: 1_000_000, maxStatementChars: 100_000, maxPlannedStatements: 1_000, maxQueuedExplains: 1_000, planCacheEntries: 10_000 },
};

/**
 * Builds complete settings from whatever the client answered (a `workspace/configuration` answer may be
 * `null`, partial, or of the wrong type); never throws.
 */
export function normalizeSettings(raw: unknown): SqlInsightSettings {
  const r = isObject(raw) ? raw : {};
  const whatIf = isObject(r.whatIf) ? r.whatIf : {};
  const index = isObject(r.index) ? r.index : {};
  const embedded = isObject(r.embedded) ? r.embedded : {};
  const ssl = isObject(r.ssl) ? r.ssl : {};
  const limits = isObject(r.limits) ? r.limits : {};
  const d = DEFAULT_SETTINGS.limits;
  const mode = str(ssl.mode, '').trim();
  return {
    databaseUrl: str(r.databaseUrl, DEFAULT_SETTINGS.databaseUrl).trim(),
    seqScanMinRows: num(r.seqScanMinRows, DEFAULT_SETTINGS.seqScanMinRows, 0),
    statementTimeoutMs: num(r.statementTimeoutMs, DEFAULT_SETTINGS.statementTimeoutMs, 100),
    lockTimeoutMs: num(r.lockTimeoutMs, DEFAULT_SETTINGS.lockTimeoutMs, 10),
    whatIf: { maxTableRows: num(whatIf.maxTableRows, DEFAULT_SETTINGS.whatIf.maxTableRows, 0) },
    index: { concurrently: bool(index.concurrently, DEFAULT_SETTINGS.index.concurrently) },
    embedded: { tags: strings(embedded.tags), functions: strings(embedded.functions), rowCounts: rowCounts(embedded.rowCounts) },
    migrationsDir: str(r.migrationsDir, DEFAULT_SETTINGS.migrationsDir).trim(),
    database: DATABASE_MODES.find((m) => m === r.database) ?? DEFAULT_SETTINGS.database,
    schemaFiles: strings(r.schemaFiles).map((g) => g.trim()),
    rules: ruleLevels(r.rules),
    tableSizes: tableSizes(r.tableSizes),
    tableSizesFile: str(r.tableSizesFile, DEFAULT_SETTINGS.tableSizesFile).trim(),
    ssl: {
      mode: (SSL_MODES as readonly string[]).includes(mode) ? (mode as SslMode) : '',
      caFile: str(ssl.caFile, '').trim(),
    },
    limits: {
      maxDocumentChars: num(limits.maxDocumentChars, d.maxDocumentChars, 1),
      maxStatementChars: num(limits.maxStatementChars, d.maxStatementChars, 1),
      maxPlannedStatements: num(limits.maxPlannedStatements, d.maxPlannedStatements, 0),
      maxQueuedExplains: num(limits.maxQueuedExplains, d.maxQueuedExplains, 0),
      planCacheEntries: num(limits.planCacheEntries, d.planCacheEntries, 0),
    },
  };
}

/** Keeps entries with a name and a finite count ≥ 0 (rounded down). */
function rowCounts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObject(v)) return out;
  for (const [name, rows] of Object.entries(v)) {
    if (name.trim() && typeof rows === 'number' && Number.isFinite(rows) && rows >= 0) out[name.trim()] = Math.floor(rows);
  }
  return out;
}

/** Keeps valid levels only; `default` (the value the settings UI shows) and anything else mean "not set". */
function ruleLevels(v: unknown): Record<string, RuleLevel> {
  const out: Record<string, RuleLevel> = {};
  if (!isObject(v)) return out;
  for (const [id, level] of Object.entries(v)) {
    const l = typeof level === 'string' ? level.trim().toLowerCase() : '';
    if ((RULE_LEVELS as readonly string[]).includes(l)) out[id] = l as RuleLevel;
  }
  return out;
}

function tableSizes(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObject(v)) return out;
  for (const [name, rows] of Object.entries(v)) {
    if (name.trim() && typeof rows === 'number' && Number.isFinite(rows) && rows >= 0) out[name.trim()] = rows;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown, d: string): string {
  return typeof v === 'string' ? v : d;
}
function num(v: unknown, d: number, min: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : d;
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];
}
function bool(v: unknown, d: boolean): boolean {
  return typeof v === 'boolean' ? v : d;
}

/** Server → client: the state of the database connection, for the status bar. */
export const STATUS_NOTIFICATION = 'sqlInsight/status';

export type ConnectionState = 'connected' | 'connecting' | 'not-configured' | 'error';

export interface StatusParams {
  state: ConnectionState;
  /** A short label, e.g. `app_dev@localhost:5432`; never contains a password. */
  database?: string;
  /** One sentence for the tooltip / output channel; never contains a password. */
  message: string;
}

/**
 * Server → client, after the diagnostics of one analysis run are published: what the run did. Tools (the
 * benchmark, tests) wait for it instead of guessing when diagnostics are final; the VS Code client ignores it.
 */
export const ANALYSIS_DONE_NOTIFICATION = 'sqlInsight/analysisDone';

export interface AnalysisDoneParams {
  uri: string;
  version: number;
  /** `save` (also open and re-checks) plans; `change` (while typing) does not touch the database. */
  phase: 'save' | 'change';
  statements: number;
  /** Statements with a plan, new or from the plan cache. */
  planned: number;
  /** EXPLAINs sent in this run, and plans served from the cache. */
  explained: number;
  cached: number;
  diagnostics: number;
  ms: number;
}

/** What the client passes in `initialize`. */
export interface InitializationOptions {
  /** A folder the server may keep the embedded engine's databases in (the extension's global storage). */
  storagePath?: string;
  /**
   * False in an untrusted workspace (VS Code Workspace Trust): the server then connects to no database
   * named by the workspace's settings (only to one from the environment) and loads no workspace file into
   * anything that executes. Absent means trusted (editors without Workspace Trust).
   */
  trusted?: boolean;
}

/** The section the server asks for with `workspace/configuration`. */
export const CONFIGURATION_SECTION = 'sqlInsight';

/**
 * Client → server: passwords stored with "SQL Insight: Set Database Password" (in VS Code's SecretStorage),
 * each for one connection target. An empty password forgets the target's password. The same list is sent as
 * `initializationOptions.passwords` when the server starts.
 */
export const PASSWORDS_NOTIFICATION = 'sqlInsight/passwords';

export interface StoredPassword {
  /** `connectionTarget()` of the URL the password is for. */
  target: string;
  /**
   * The password in plain text (editors without the sealing key), or, from the VS Code client, `sealed`
   * instead: LSP traces (`sqlInsight.trace.server: verbose`) log every message, so the password travels
   * sealed with a key that reaches the server only through its environment (common/seal.ts).
   */
  password: string;
  sealed?: string;
}

export interface PasswordsParams {
  passwords: StoredPassword[];
}

/**
 * The database a `postgres://` URL points at, without its password: `user@host:port/database`. Stored
 * passwords are keyed by it. Undefined for anything that is not such a URL.
 */
export function connectionTarget(url: string): string | undefined {
  const p = postgresUrlParts(url.trim());
  if (!p || (p.protocol !== 'postgres:' && p.protocol !== 'postgresql:')) return undefined;
  return `${p.user}@${p.host || 'localhost'}:${p.port || '5432'}/${p.database}`;
}

export interface PostgresUrlParts {
  protocol: string;
  user: string;
  password: string;
  /** A host name, or a socket directory (`postgres:///db?host=/var/run/postgresql`); empty when absent. */
  host: string;
  port: string;
  database: string;
  params: URLSearchParams;
}

/** The libpq parts of a connection URL, percent-decoded, with libpq's query-parameter fallbacks. */
export function postgresUrlParts(url: string): PostgresUrlParts | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const dec = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const q = u.searchParams;
  return {
    protocol: u.protocol,
    user: dec(u.username) || q.get('user') || '',
    password: dec(u.password) || q.get('password') || '',
    host: dec(u.hostname) || q.get('host') || '',
    port: u.port || q.get('port') || '',
    database: dec(u.pathname.replace(/^\//, '')) || q.get('dbname') || q.get('database') || '',
    params: q,
  };
}

/** Keeps the well-formed entries of a `PasswordsParams`-like value from the wire. */
export function normalizePasswords(raw: unknown): StoredPassword[] {
  const list = isObject(raw) && Array.isArray(raw.passwords) ? raw.passwords : [];
  return list
    .filter((p) => isObject(p) && typeof p.target === 'string' && (typeof p.password === 'string' || typeof p.sealed === 'string'))
    .map((p) => ({ target: p.target as string, password: typeof p.password === 'string' ? p.password : '', ...(typeof p.sealed === 'string' ? { sealed: p.sealed } : {}) }));
}
/** Client → server: EXPLAIN ANALYZE the statement at a position (the Analyze command and code lens). */
export const ANALYZE_REQUEST = 'sqlInsight/analyze';

export interface AnalyzeParams {
  uri: string;
  position: { line: number; character: number };
  /** The user agreed to run a data-changing statement (inside a transaction that is rolled back). */
  confirmed: boolean;
}

export interface AnalyzeResult {
  /** `needs-confirmation`: the statement changes data; ask the user, then send again with `confirmed`. */
  kind: 'analyzed' | 'needs-confirmation' | 'not-analyzed';
  message: string;
}

/** Client command behind the Analyze code lens: arguments `uri`, `position`. */
export const ANALYZE_COMMAND = 'sqlInsight.analyze';
/** Client command that puts its argument on the clipboard (the "Copy CREATE INDEX" code action). */
export const COPY_COMMAND = 'sqlInsight.copyToClipboard';

/** Client → server: the user trusted the workspace. */
export const WORKSPACE_TRUSTED_NOTIFICATION = 'sqlInsight/workspaceTrusted';

