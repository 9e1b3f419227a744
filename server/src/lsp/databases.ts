// One planner per database target, created from settings on demand, and the status line the client shows.
import { connectionTarget, type SqlInsightSettings, type StatusParams, type StoredPassword } from '../../../common/protocol';
import { withPassword } from '../db/connection';
import { PgPlanner, resolveConnection } from '../db/pgPlanner';

export class Databases {
  private readonly planners = new Map<string, PgPlanner>();
  /** Passwords from the client's SecretStorage, by `connectionTarget`. */
  private readonly passwords = new Map<string, string>();
  private lastStatus = '';

  constructor(
    private readonly onStatus: (status: StatusParams) => void,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  /** The planner for the database these settings name, or undefined when none is configured. */
  plannerFor(settings: SqlInsightSettings): PgPlanner | undefined {
    let target = resolveConnection(settings, process.env);
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

  setPasswords(passwords: readonly StoredPassword[]): void {
    for (const p of passwords) {
      if (p.password) this.passwords.set(p.target, p.password);
      else this.passwords.delete(p.target);
    }
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
    this.planners.clear();
  }
}
