// One planner per database target, created from settings on demand, and the status line the client shows.
// Without a configured server (or with sqlInsight.database = embedded) the target is the embedded engine of
// the document's workspace folder.
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { connectionTarget, type SqlInsightSettings, type StatusParams, type StoredPassword } from '../../../common/protocol';
import type { Planner } from '../core/ports';
import { withPassword } from '../db/connection';
import { EmbeddedDatabase, type SchemaNotes } from '../db/embeddedDatabase';
import { PgPlanner, resolveConnection } from '../db/pgPlanner';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export class Databases {
  private readonly planners = new Map<string, PgPlanner>();
  private readonly engines = new Map<string, EmbeddedDatabase>();
  /** Passwords from the client's SecretStorage, by `connectionTarget`. */
  private readonly passwords = new Map<string, string>();
  private lastStatus = '';
  /** Where the embedded engine keeps its clusters: the client's storage folder, else a temp folder. */
  storagePath = path.join(os.tmpdir(), `sql-insight-${os.userInfo().username}`);

  constructor(
    private readonly onStatus: (status: StatusParams) => void,
    private readonly log: Log,
    private readonly onSchemaNotes: (notes: SchemaNotes) => void = () => undefined,
  ) {}

  /**
   * The planner for the database these settings name, or undefined when there is none. `root`: the document's
   * workspace folder (a path), whose schema files the embedded engine loads.
   */
  async plannerFor(settings: SqlInsightSettings, root: string | undefined): Promise<Planner | undefined> {
    let target = resolveConnection(settings, process.env);
    if (settings.database === 'server' || (settings.database === 'auto' && target.source !== 'none')) {
      const url = typeof target.config.connectionString === 'string' ? target.config.connectionString : '';
      const stored = this.passwords.get(connectionTarget(url) ?? '');
      if (stored) target = withPassword(target, stored, process.env);
      if (target.source === 'none') {
        this.report({
          state: 'not-configured',
          message: 'No database configured: set sqlInsight.databaseUrl or DATABASE_URL. Syntax is still checked.',
        });
        return undefined;
      }
      let planner = this.planners.get(target.key);
      if (!planner) {
        planner = new PgPlanner(target);
        planner.onStatus((s) => this.report(s));
        this.planners.set(target.key, planner);
        this.log('info', `Using database ${target.label} (from ${target.source}).`);
      }
      this.report(planner.status);
      return planner;
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

  private engineFor(root: string, patterns: string[]): EmbeddedDatabase {
    const key = JSON.stringify([root, patterns]);
    let engine = this.engines.get(key);
    if (!engine) {
      const storagePath = this.storagePath;
      engine = new EmbeddedDatabase({ root, patterns, storagePath, log: this.log });
      engine.onStatus((s) => this.report(s));
      engine.onNotes((notes) => this.onSchemaNotes(notes));
      this.engines.set(key, engine);
      this.log('info', `Using the embedded database for ${root} (clusters in ${storagePath}).`);
    }
    return engine;
  }

  private report(status: StatusParams): void {
    const key = JSON.stringify(status);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.log(status.state === 'error' ? 'warn' : 'info', `Database: ${status.message}`);
    this.onStatus(status);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.planners.values()].map((p) => p.dispose()));
    await Promise.all([...this.engines.values()].map((e) => e.dispose()));
    this.planners.clear();
    this.engines.clear();
  }
}
