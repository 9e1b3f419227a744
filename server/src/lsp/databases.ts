// One planner per database target, created from settings on demand, and the status line the client shows.
// Without a configured server (or with sqlInsight.database = embedded) the target is the embedded engine of
// the document's workspace folder. Also where the workspace's trust, stored passwords and reconnection come in.
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { connectionTarget, type SqlInsightSettings, type StatusParams, type StoredPassword } from '../../../common/protocol';
import type { Planner } from '../core/ports';
import { withPassword } from '../db/connection';
import { EmbeddedDatabase, type SchemaNotes } from '../db/embeddedDatabase';
import { PgPlanner, resolveConnection, type PgPlannerOptions } from '../db/pgPlanner';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface DatabasesOptions {
  onStatus(status: StatusParams): void;
  log: Log;
  onSchemaNotes?(notes: SchemaNotes): void;
  /** A warning for the user; called at most once per cause. */
  warn?(message: string): void;
  /** A database that could not be used answers again: diagnostics made without it are out of date. */
  onReconnected?(): void;
  env?: NodeJS.ProcessEnv;
  planner?: PgPlannerOptions;
}

export class Databases {
  /**
   * False in an untrusted workspace: a database named by the settings is not used and the embedded engine
   * (which would run the workspace's schema files) is not started.
   */
  trusted = true;
  private readonly planners = new Map<string, PgPlanner>();
  private readonly engines = new Map<string, EmbeddedDatabase>();
  /** Passwords from the client's SecretStorage, by `connectionTarget`. */
  private readonly passwords = new Map<string, string>();
  private readonly retries = new Map<PgPlanner, NodeJS.Timeout>();
  private readonly warned = new Set<string>();
  private lastStatus = '';
  private disposed = false;
  /** Where the embedded engine keeps its clusters: the client's storage folder, else a temp folder. */
  storagePath = path.join(os.tmpdir(), `sql-insight-${os.userInfo().username}`);

  constructor(private readonly opts: DatabasesOptions) {}

  private get log(): Log {
    return this.opts.log;
  }

  /**
   * The planner for the database these settings name, or undefined when there is none. `root`: the document's
   * workspace folder (a path), whose schema files the embedded engine loads.
   */
  async plannerFor(settings: SqlInsightSettings, root: string | undefined): Promise<Planner | undefined> {
    const env = this.opts.env ?? process.env;
    const ignored = !this.trusted && (settings.databaseUrl !== '' || settings.ssl.caFile !== '');
    const effective = ignored ? { ...settings, databaseUrl: '', ssl: { ...settings.ssl, caFile: '' } } : settings;
    if (ignored) this.once('restricted', () => this.log('info', 'Restricted Mode: the workspace is not trusted, so sqlInsight.databaseUrl and sqlInsight.ssl.caFile from its settings are ignored.'));
    let target = resolveConnection(effective, env);
    if (settings.database === 'server' || (settings.database === 'auto' && target.source !== 'none')) {
      if (target.source === 'none') {
        this.report({
          state: 'not-configured',
          message: ignored
            ? "Restricted Mode: the database named in this untrusted workspace's settings is not used. Trust the workspace to plan; syntax is still checked."
            : 'No database configured: set sqlInsight.databaseUrl or DATABASE_URL. Syntax is still checked.',
        });
        return undefined;
      }
      if (target.source === 'setting' && target.hasPassword) {
        this.once(`url-password:${target.key}`, () =>
          this.opts.warn?.(
            `SQL Insight: sqlInsight.databaseUrl for ${target.label} contains a password. Settings files are often shared or ` +
              'committed; use "SQL Insight: Set Database Password" (kept in the OS keychain) and remove it from the URL.',
          ),
        );
      }
      const url = typeof target.config.connectionString === 'string' ? target.config.connectionString : '';
      const stored = this.passwords.get(connectionTarget(url) ?? '');
      if (stored) target = withPassword(target, stored, env);
      let planner = this.planners.get(target.key);
      if (!planner) {
        planner = this.create(target);
        this.planners.set(target.key, planner);
        this.log('info', `Using database ${target.label} (from ${target.source}${target.tls.mode !== 'disable' ? `, sslmode ${target.tls.mode}` : ''}).`);
      }
      this.report(planner.status);
      return planner;
    }

    if (!this.trusted) {
      // The embedded engine would execute the workspace's schema files.
      this.report({
        state: 'not-configured',
        message: 'Restricted Mode: the embedded database is not started in an untrusted workspace (it would run its schema files). Syntax is still checked.',
      });
      return undefined;
    }
    if (!root) {
      this.report({
        state: 'not-configured',
        message: 'No database configured, and no workspace folder to find schema files in. Syntax is still checked.',
      });
      return undefined;
    }
    const engine = this.engineFor(root, settings.schemaFiles);
    if (settings.database === 'auto' && !(await engine.discover())) {
      this.report({
        state: 'not-configured',
        message:
          'No database configured (sqlInsight.databaseUrl, DATABASE_URL) and no schema files found for the embedded one ' +
          '(db/structure.sql, schema.sql, migrations/, … or sqlInsight.schemaFiles). Syntax is still checked.',
      });
      return undefined;
    }
    this.report(engine.status);
    // A SQL document is about to be planned: start the database while the document is parsed.
    engine.warmUp(settings.embedded.rowCounts);
    return engine.planner;
  }

  setPasswords(passwords: readonly StoredPassword[]): void {
    for (const p of passwords) {
      if (p.password) this.passwords.set(p.target, p.password);
      else this.passwords.delete(p.target);
    }
  }

  /**
   * Files changed on disk (workspace/didChangeWatchedFiles): the embedded databases of their folders look for
   * their schema files again on the next call. True when one did, so that documents are analysed again.
   */
  filesChanged(uris: string[]): boolean {
    const paths = uris.flatMap((u) => {
      try {
        return [fileURLToPath(u)];
      } catch {
        return [];
      }
    });
    let any = false;
    for (const engine of this.engines.values()) {
      if (paths.some((p) => engine.covers(p))) {
        engine.invalidate();
        any = true;
      }
    }
    return any;
  }

  private create(target: ReturnType<typeof resolveConnection>): PgPlanner {
    const planner = new PgPlanner(target, this.opts.planner);
    let failing = planner.state === 'error';
    planner.onStatus((s) => {
      this.report(s);
      if (s.state === 'error') {
        failing = true;
        this.scheduleRetry(planner);
      } else if (s.state === 'connected' && failing) {
        failing = false;
        this.log('info', `Database ${target.label} answers again; re-checking open documents.`);
        this.opts.onReconnected?.();
      }
    });
    return planner;
  }

  /** While a database cannot be used, one quiet connection attempt each time its backoff ends. */
  private scheduleRetry(planner: PgPlanner): void {
    const wait = planner.retryInMs;
    if (this.disposed || wait === undefined || this.retries.has(planner)) return;
    const timer = setTimeout(() => {
      this.retries.delete(planner);
      void planner.check().then((s) => {
        if (s.state === 'error') this.scheduleRetry(planner);
      });
    }, Math.max(wait, 20));
    timer.unref();
    this.retries.set(planner, timer);
  }

  private engineFor(root: string, patterns: string[]): EmbeddedDatabase {
    const key = JSON.stringify([root, patterns]);
    let engine = this.engines.get(key);
    if (!engine) {
      const storagePath = this.storagePath;
      engine = new EmbeddedDatabase({ root, patterns, storagePath, log: this.log });
      engine.onStatus((s) => this.report(s));
      engine.onNotes((notes) => this.opts.onSchemaNotes?.(notes));
      this.engines.set(key, engine);
      this.log('info', `Using the embedded database for ${root} (clusters in ${storagePath}).`);
    }
    return engine;
  }

  private once(key: string, fn: () => void): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    fn();
  }

  private report(status: StatusParams): void {
    const key = JSON.stringify(status);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.log(status.state === 'error' ? 'warn' : 'info', `Database: ${status.message}`);
    this.opts.onStatus(status);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    await Promise.all([...this.planners.values()].map((p) => p.dispose()));
    await Promise.all([...this.engines.values()].map((e) => e.dispose()));
    this.planners.clear();
    this.engines.clear();
  }
}
