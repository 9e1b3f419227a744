// The core's Planner over node-postgres. Everything here is built so that planning can never change the
// user's database: read-only transactions that are always rolled back, user SQL only through the extended
// protocol (one statement, no smuggled COMMIT), timeouts on both sides, and server-side cancellation.
import { DatabaseError, Pool, type PoolClient } from 'pg';
import type { ConnectionState, SqlInsightSettings, StatusParams } from '../../../common/protocol';
import { indexesUsed } from '../core/plan';
import {
  relationKey,
  type AnalyzeRequest,
  type CallContext,
  type DatabaseInfo,
  type ExplainResult,
  type IndexCandidate,
  type Planner,
  type PlanRequest,
  type QualifiedName,
  type RelationInfo,
  type SchemaVersions,
  type WhatIfResult,
} from '../core/ports';
import { describable, lookUpRelations, readSchemaVersions } from './catalog';
import { maskSecrets, resolveConnection, tlsOptions, type ResolvedConnection } from './connection';
import {
  dbFailure,
  describeTimeout,
  explainAnalyze,
  indexNames,
  planFailure,
  planStatement,
  PLAIN_CREATE_INDEX,
  proven,
  unproven,
  usesAny,
  type PlanEnv,
} from './explain';
import { CancelledError, ConnectionLostError, Session, timeoutSetting } from './session';
import { quoteIdent, quoteQualified } from './sqlText';

export { maskSecrets, resolveConnection, withPassword } from './connection';
export type { ConnectionSource, ResolvedConnection } from './connection';

export interface PgPlannerOptions {
  /** TCP connect + authentication limit. Default 3000. */
  connectTimeoutMs?: number;
  /** First wait after a failed connection; doubles per failure up to `maxBackoffMs`. Defaults 1000 / 30000. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The client gives up on a statement this long after statement_timeout should have ended it. Default 2000. */
  queryTimeoutMarginMs?: number;
  /** How long a cancelled statement may take to report back before its connection is abandoned. Default 1000. */
  abortGraceMs?: number;
  /** Clock for the backoff (tests). */
  now?: () => number;
}

export interface Disposable {
  dispose(): void;
}

type StatusListener = (status: StatusParams) => void;
type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

interface ServerInfo {
  /** server_version_num, e.g. 150020. */
  versionNum: number;
  /** Major version, e.g. 15. */
  major: number;
  /** SQL_ASCII counts error positions in bytes, every other encoding in characters. */
  positionsInBytes: boolean;
}

const FALLBACK = Symbol('fallback');
/** Statements one connection plans in one transaction before it is handed back, so other documents get a turn. */
const BATCH_PER_SESSION = 100;
/** Connections a batch uses at once (the pool has two). */
const BATCH_CONNECTIONS = 2;
/**
 * Statements on the wire at once per connection. Measured on loopback with 200 statements over two
 * connections: one at a time 45 ms, 4 at once 28 ms, 16 at once 19 ms.
 */
const PIPELINE_DEPTH = 16;
/** Extensions a fix may need; only these are ever created, and only inside a rolled-back what-if. */
const FIX_EXTENSIONS = ['pg_trgm'];

export class PgPlanner implements Planner {
  private readonly pool?: Pool;
  private readonly listeners = new Set<StatusListener>();
  private readonly lifetime = new AbortController();
  private readonly slots = new Slots(2);
  // What-ifs (index builds, hypopg) take one connection at most, so that plans for the open documents never
  // wait behind a queue of background proofs.
  private readonly whatIfSlots = new Slots(1);
  private readonly opts: Required<PgPlannerOptions>;
  private current: StatusParams;
  private server?: ServerInfo;
  private backoffMs = 0;
  private retryAt = 0;
  private disposed = false;
  private statementCounter = 0;

  static fromSettings(settings: SqlInsightSettings, env: NodeJS.ProcessEnv = process.env, options?: PgPlannerOptions): PgPlanner {
    return new PgPlanner(resolveConnection(settings, env), options);
  }

  constructor(
    readonly connection: ResolvedConnection,
    options: PgPlannerOptions = {},
  ) {
    this.opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      queryTimeoutMarginMs: options.queryTimeoutMarginMs ?? 2000,
      abortGraceMs: options.abortGraceMs ?? 1000,
      now: options.now ?? Date.now,
    };
    if (connection.source === 'none') {
      this.current = {
        state: 'not-configured',
        message: 'No database configured: set sqlInsight.databaseUrl, DATABASE_URL or the PG* variables.',
      };
      return;
    }
    let ssl: ReturnType<typeof tlsOptions>;
    try {
      ssl = tlsOptions(connection.tls);
    } catch (e) {
      // No pool: every call answers with this, and nothing retries until the settings change.
      this.current = { state: 'error', database: connection.label, message: `Cannot use ${connection.label}: TLS: ${this.mask(errorMessage(e))}` };
      return;
    }
    this.current = { state: 'connecting', database: connection.label, message: `Connecting to ${connection.label}.` };
    this.pool = new Pool({
      ...connection.config,
      ssl,
      max: 2,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      application_name: 'sql-insight',
      // Queries are written as soon as they are made, not after the previous answer (explainBatch relies on
      // it). Everything else awaits each query before making the next, so for it nothing changes.
      pipeline: true,
      // If this process ever stalls inside one of our transactions, the server ends it (and its locks).
      idle_in_transaction_session_timeout: 15_000,
    });
    // Idle clients that lose their connection are reported here; the next call finds out for itself.
    this.pool.on('error', () => undefined);
  }

  get status(): StatusParams {
    return { ...this.current };
  }

  get state(): ConnectionState {
    return this.current.state;
  }

  /** How long until the next connection attempt is allowed (0: now); undefined when it never will be. */
  get retryInMs(): number | undefined {
    if (!this.pool || this.disposed) return undefined;
    return Math.max(0, this.retryAt - this.opts.now());
  }

  /** Called only when the state or message changes. */
  onStatus(listener: StatusListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Connects (unless backing off) to refresh the status; resolves to the status afterwards. */
  async check(signal?: AbortSignal): Promise<StatusParams> {
    await this.withSession({ signal }, 5000, async (s) => {
      await s.run('SELECT 1');
    });
    return this.status;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.lifetime.abort();
    this.listeners.clear();
    try {
      await this.pool?.end();
    } catch {
      // Already ending; nothing else to release.
    }
  }

  async explain(req: PlanRequest, ctx: CallContext): Promise<ExplainResult> {
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, async (s, server) => {
      const prepared: string[] = [];
      try {
        return await s.transaction('READ ONLY', ctx.settings, () => this.plan(s, server, req, prepared));
      } finally {
        await this.deallocate(s, prepared);
      }
    });
    return out.ok ? out.value : { kind: 'unavailable', reason: out.reason };
  }

  /**
   * Many statements over both connections, each connection planning up to BATCH_PER_SESSION of them in one
   * read-only transaction. Each EXPLAIN still goes alone through the extended protocol, between a savepoint
   * and a ROLLBACK TO it: an error leaves the transaction usable for the next statement, and whatever a
   * function did while being planned (a `set_config` of statement_timeout, a transaction-level lock) is
   * undone before the next one. The connections are pipelined: up to PIPELINE_DEPTH statements, each with
   * its ROLLBACK TO, are on the wire at once, so the server goes from one to the next without waiting for
   * us (the order of the messages keeps the savepoint between any two). A statement with parameters takes
   * several dependent steps (PREPARE, its types, EXPLAIN EXECUTE) and goes alone, after the pipe drains.
   */
  async explainBatch(reqs: PlanRequest[], ctx: CallContext): Promise<ExplainResult[]> {
    const results: Array<ExplainResult | undefined> = new Array(reqs.length);
    const workers = Math.min(BATCH_CONNECTIONS, reqs.length);
    let failure: string | undefined;
    // Statements dealt out in turn, so that each connection has its share even when one connects later.
    const worker = async (k: number): Promise<void> => {
      const mine = reqs.map((_, i) => i).filter((i) => i % workers === k);
      let at = 0;
      while (at < mine.length && failure === undefined) {
        const chunk = mine.slice(at, at + BATCH_PER_SESSION);
        at += chunk.length;
        const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, async (s, server) => {
          const prepared: string[] = [];
          try {
            await s.transaction('READ ONLY', ctx.settings, () => this.planChunk(s, server, reqs, chunk, results, prepared), [
              'SAVEPOINT sql_insight_stmt',
            ]);
          } finally {
            await this.deallocate(s, prepared);
          }
        });
        if (!out.ok) failure ??= out.reason;
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, k) => worker(k)));
    // Array.from, not map: map skips the holes of statements no connection got to.
    return Array.from(results, (r): ExplainResult => r ?? { kind: 'unavailable', reason: failure ?? 'not planned' });
  }

  /**
   * Plans `chunk` (indexes into `reqs`) inside the caller's transaction, after its SAVEPOINT, pipelined
   * (see explainBatch); results go to `results` at the same indexes.
   */
  private async planChunk(
    s: Session,
    server: ServerInfo,
    reqs: PlanRequest[],
    chunk: number[],
    results: Array<ExplainResult | undefined>,
    prepared: string[],
  ): Promise<void> {
    const pipe = new Pipe(PIPELINE_DEPTH);
    let next = 0;
    while (next < chunk.length) {
      const first = chunk[next];
      if (reqs[first].paramCount > 0) {
        await pipe.drain();
        results[first] = await this.plan(s, server, reqs[first], prepared);
        await s.run('ROLLBACK TO SAVEPOINT sql_insight_stmt');
        next++;
        continue;
      }
      // Refilled half a pipe at a time, in one write: a socket write per protocol message cost more than
      // planning a simple statement (six per statement, ~0.07 ms each).
      await pipe.room();
      s.corked(() => {
        while (next < chunk.length && reqs[chunk[next]].paramCount <= 0 && pipe.hasRoom()) {
          const i = chunk[next++];
          const explained = planStatement(s, this.planEnv(server), reqs[i], prepared, pipe.last);
          const rolledBack = s.run('ROLLBACK TO SAVEPOINT sql_insight_stmt', { after: explained });
          pipe.push(
            explained.then((r) => {
              results[i] = r;
            }),
            rolledBack,
          );
        }
      });
    }
    await pipe.drain();
  }

  async schemaVersions(names: QualifiedName[], ctx: CallContext): Promise<SchemaVersions | undefined> {
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, (s) =>
      catalogTransaction(s, ctx.settings, () => readSchemaVersions(s, names, this.connection.key, { own: this.ownAnalyzes, before: this.analyzing })),
    );
    return out.ok ? out.value : undefined;
  }

  async describeRelations(names: QualifiedName[], ctx: CallContext): Promise<Map<string, RelationInfo>> {
    const wanted = describable(names);
    if (wanted.length === 0) return new Map();
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, (s) =>
      catalogTransaction(s, ctx.settings, () => lookUpRelations(s, wanted)),
    );
    return out.ok ? out.value : new Map();
  }

  async describeDatabase(ctx: CallContext): Promise<DatabaseInfo | undefined> {
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, (s) =>
      catalogTransaction(s, ctx.settings, async () => {
        const r = await s.run<{ name: string; installed: boolean; available: boolean }>(
          `SELECT n.name,
                  EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = n.name) AS installed,
                  EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = n.name) AS available
             FROM unnest($1::text[]) AS n(name)`,
          { values: [FIX_EXTENSIONS] },
        );
        return r.rows;
      }),
    );
    if (!out.ok) return undefined;
    const extensions: DatabaseInfo['extensions'] = {};
    for (const row of out.value) extensions[row.name] = { installed: row.installed, available: row.available || row.installed };
    return { extensions };
  }

  async analyze(req: AnalyzeRequest, ctx: CallContext): Promise<ExplainResult> {
    if (req.paramCount > 0) {
      return {
        kind: 'error',
        message:
          'EXPLAIN ANALYZE runs the statement, and its $n parameters have no values here: replace them with ' +
          'literals to analyse it (the plan without ANALYZE is shown as a generic plan).',
      };
    }
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, (s, server) =>
      // Always rolled back; read-only unless the statement is known to write, so a SELECT calling a
      // writing function fails instead of writing.
      s.transaction(req.writes ? 'READ WRITE' : 'READ ONLY', ctx.settings, () => explainAnalyze(s, this.planEnv(server), req.sql)),
    );
    return out.ok ? out.value : { kind: 'unavailable', reason: out.reason };
  }

  async whatIf(req: PlanRequest, candidate: IndexCandidate, ctx: CallContext): Promise<WhatIfResult> {
    if (!PLAIN_CREATE_INDEX.test(candidate.sql)) {
      return unproven('the candidate is not a plain CREATE INDEX statement');
    }
    if (candidate.extension !== undefined && !FIX_EXTENSIONS.includes(candidate.extension)) {
      return unproven(`the extension ${candidate.extension} is not one SQL Insight creates for a what-if`);
    }
    // Real builds on one table wait for each other here, before taking a connection: two at once would each
    // hold the SHARE lock of CREATE INDEX that the other's ANALYZE waits for, until lock_timeout fails both.
    const realBuild = candidate.needsRealBuild || candidate.extension !== undefined;
    const release = realBuild ? await this.buildTurn(relationKey(candidate.table)) : undefined;
    try {
      if ((await this.whatIfSlots.acquire(ctx.signal ?? this.lifetime.signal)) !== true) return unproven('cancelled');
      try {
        return await this.whatIfInSession(req, candidate, ctx);
      } finally {
        this.whatIfSlots.release();
      }
    } finally {
      release?.();
    }
  }

  private readonly builds = new Map<string, Promise<void>>();
  /** How many times our what-ifs' ANALYZE moved each table's analyze counter (by oid); see catalog.ts. */
  private readonly ownAnalyzes = new Map<string, number>();
  /**
   * Tables a what-if is analysing (by oid), with their analyze counter from before: until the what-if has
   * counted its ANALYZE, the markers read that value, which is what they will read once it has (whether
   * the ANALYZE completes or is cancelled; no other ANALYZE can run beside the what-if's lock).
   */
  private readonly analyzing = new Map<string, number>();

  /**
   * ANALYZE inside the what-if's transaction (rolled back with it), noting how far it moved the table's
   * analyze counter, which the rollback keeps. Read under the SHARE lock of the what-if's CREATE INDEX,
   * which no other ANALYZE of the table can run beside, so the difference is ours alone.
   */
  private async analyzeRolledBack(s: Session, oid: string, table: string): Promise<void> {
    // Cleanup runs, so that an abort (a newer save) between the ANALYZE and the second reading still counts
    // what the ANALYZE did: uncounted, it would make the next save replan every statement on the table.
    const count = async (): Promise<number> => {
      // Statistics read in a transaction are kept for its rest (stats_fetch_consistency = cache).
      await s.run('SELECT pg_stat_clear_snapshot()', { cleanup: true });
      const r = await s.run<{ n: string }>('SELECT pg_stat_get_analyze_count($1::oid)::text AS n', { values: [oid], cleanup: true });
      return Number(r.rows[0]?.n ?? 0);
    };
    const before = await count();
    this.analyzing.set(oid, before);
    let failure: { e: unknown } | undefined;
    try {
      // A failed or cancelled ANALYZE is rolled back to here, which keeps the transaction (and the lock) usable.
      await s.run('SAVEPOINT sql_insight_analyze');
      await s.run(`ANALYZE ${table}`, { extended: true });
    } catch (e) {
      failure = { e };
    }
    try {
      if (failure) await s.run('ROLLBACK TO SAVEPOINT sql_insight_analyze', { cleanup: true });
      const moved = (await count()) - before;
      if (moved > 0) this.ownAnalyzes.set(oid, (this.ownAnalyzes.get(oid) ?? 0) + moved);
    } catch {
      // The connection is gone: the counter's move shows as a change, which costs a replan, never a stale plan.
    } finally {
      this.analyzing.delete(oid);
    }
    if (failure) throw failure.e;
  }

  /** Waits for the previous real-build what-if on `key` to finish; resolves to the release of this one's turn. */
  private async buildTurn(key: string): Promise<() => void> {
    const previous = this.builds.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => mine);
    this.builds.set(key, chained);
    await previous;
    return () => {
      release();
      if (this.builds.get(key) === chained) this.builds.delete(key);
    };
  }

  private async whatIfInSession(req: PlanRequest, candidate: IndexCandidate, ctx: CallContext): Promise<WhatIfResult> {
    const out = await this.withSession(ctx, ctx.settings.statementTimeoutMs, async (s, server) => {
      if (!candidate.needsRealBuild && candidate.extension === undefined) {
        const hypopg = await this.hypopgStatus(s, ctx.settings);
        if (hypopg.schema !== null || hypopg.available) {
          const r = await this.whatIfHypopg(s, server, req, candidate, ctx.settings, hypopg.schema);
          if (r !== FALLBACK) return r;
        }
      }
      return this.whatIfRollback(s, server, req, candidate, ctx.settings);
    });
    return out.ok ? out.value : unproven(out.reason);
  }

  // ---- connection, status, backoff ----

  private async withSession<T>(
    ctx: { signal?: AbortSignal; settings?: SqlInsightSettings },
    statementTimeoutMs: number,
    work: (s: Session, server: ServerInfo) => Promise<T>,
  ): Promise<Outcome<T>> {
    if (this.disposed) return { ok: false, reason: 'the planner was disposed' };
    if (!this.pool) return { ok: false, reason: this.current.message };
    const cancelled = (): Outcome<T> => ({ ok: false, reason: this.disposed ? 'the planner was disposed' : 'cancelled' });
    if (ctx.signal?.aborted) return cancelled();
    // The caller's signal or dispose(). Listeners are removed afterwards, so the planner's long-lived
    // signal does not collect one per call.
    const combined = new AbortController();
    const abort = (): void => combined.abort();
    ctx.signal?.addEventListener('abort', abort, { once: true });
    this.lifetime.signal.addEventListener('abort', abort, { once: true });
    try {
      const maxQueued = ctx.settings?.limits?.maxQueuedExplains ?? Infinity;
      return await this.withSessionSignal(combined.signal, statementTimeoutMs, maxQueued, work, cancelled);
    } finally {
      ctx.signal?.removeEventListener('abort', abort);
      this.lifetime.signal.removeEventListener('abort', abort);
    }
  }

  private async withSessionSignal<T>(
    signal: AbortSignal,
    statementTimeoutMs: number,
    maxQueued: number,
    work: (s: Session, server: ServerInfo) => Promise<T>,
    cancelled: () => Outcome<T>,
  ): Promise<Outcome<T>> {
    if (signal.aborted || !this.pool) return cancelled();
    const slot = await this.slots.acquire(signal, maxQueued);
    if (slot === 'full') {
      return { ok: false, reason: `too much work queued for the database (sqlInsight.limits.maxQueuedExplains = ${maxQueued})` };
    }
    if (!slot) return cancelled();

    let session: Session | undefined;
    try {
      const now = this.opts.now();
      if (now < this.retryAt) {
        // Backing off: answer without touching the network.
        const seconds = Math.ceil((this.retryAt - now) / 1000);
        return { ok: false, reason: `${this.current.message} Next attempt in ${seconds} s.` };
      }
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        this.noteFailure(e);
        return { ok: false, reason: this.current.message };
      }
      const limitMs = timeoutSetting(statementTimeoutMs, 5000) + this.opts.queryTimeoutMarginMs;
      session = new Session(client, limitMs, signal, this.opts.abortGraceMs);
      if (signal.aborted) return cancelled();
      const server = this.server ?? (await this.readServerInfo(session));
      this.server = server;
      this.noteConnected();
      return { ok: true, value: await work(session, server) };
    } catch (e) {
      if (e instanceof CancelledError || signal.aborted) return cancelled();
      if (e instanceof ConnectionLostError) {
        this.noteFailure(e);
        return { ok: false, reason: this.current.message };
      }
      return { ok: false, reason: this.mask(errorMessage(e)) };
    } finally {
      session?.release();
      this.slots.release();
    }
  }

  private async readServerInfo(s: Session): Promise<ServerInfo> {
    const r = await s.run<{ v: number; enc: string }>(
      "SELECT current_setting('server_version_num')::int AS v, current_setting('server_encoding') AS enc",
    );
    const versionNum = r.rows[0]?.v ?? 0;
    return { versionNum, major: Math.floor(versionNum / 10000), positionsInBytes: r.rows[0]?.enc === 'SQL_ASCII' };
  }

  private noteConnected(): void {
    this.backoffMs = 0;
    this.retryAt = 0;
    this.setStatus('connected', `Connected to ${this.connection.label}.`);
  }

  private noteFailure(e: unknown): void {
    this.server = undefined;
    const now = this.opts.now();
    // Concurrent calls failing together count as one failure, not several doublings.
    if (now >= this.retryAt) {
      this.backoffMs = this.backoffMs ? Math.min(this.backoffMs * 2, this.opts.maxBackoffMs) : this.opts.initialBackoffMs;
      this.retryAt = now + this.backoffMs;
    }
    this.setStatus('error', `Cannot use ${this.connection.label}: ${this.mask(describeFailure(e))}`);
  }

  private setStatus(state: ConnectionState, message: string): void {
    if (this.current.state === state && this.current.message === message) return;
    this.current = { state, database: this.connection.label, message };
    for (const l of [...this.listeners]) {
      try {
        l(this.status);
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  private mask(text: string): string {
    return maskSecrets(text, this.connection.secrets);
  }

  // ---- planning ----

  /** Plans `req` inside the caller's transaction. Prepared statement names are added to `prepared`. */
  private plan(s: Session, server: ServerInfo, req: PlanRequest, prepared: string[]): Promise<ExplainResult> {
    return planStatement(s, this.planEnv(server), req, prepared);
  }

  private readonly errorEnv = {
    isDbError: (e: unknown): e is DatabaseError => e instanceof DatabaseError,
    mask: (text: string) => this.mask(text),
  };

  private planEnv(server: ServerInfo): PlanEnv {
    return {
      major: server.major,
      positionsInBytes: server.positionsInBytes,
      ...this.errorEnv,
      statementName: () => `sql_insight_${process.pid}_${++this.statementCounter}`,
    };
  }

  /** PREPARE is not transactional: statements outlive the ROLLBACK and are removed here, after it. */
  private async deallocate(s: Session, names: string[]): Promise<void> {
    if (names.length === 0 || s.broken) return;
    try {
      // Our own generated names only, so one simple-protocol message for all of them.
      await s.run(names.map((name) => `DEALLOCATE ${name}`).join('; '), { cleanup: true });
    } catch {
      s.broken = true;
    }
  }

  // ---- what-if ----

  private async hypopgStatus(s: Session, settings: SqlInsightSettings): Promise<{ schema: string | null; available: boolean }> {
    return s.transaction('READ ONLY', settings, async () => {
      const r = await s.run<{ schema: string | null; available: boolean }>(
        `SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                  WHERE e.extname = 'hypopg') AS schema,
                EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg') AS available`,
      );
      return r.rows[0] ?? { schema: null, available: false };
    });
  }

  /**
   * Hypothetical index via hypopg. When hypopg is installable but not installed, it is created inside a
   * transaction that is rolled back, and the connection is then discarded (the loaded library keeps
   * per-backend state that could no longer be reset once its functions are gone).
   */
  private async whatIfHypopg(
    s: Session,
    server: ServerInfo,
    req: PlanRequest,
    candidate: IndexCandidate,
    settings: SqlInsightSettings,
    installedSchema: string | null,
  ): Promise<WhatIfResult | typeof FALLBACK> {
    const temporary = installedSchema === null;
    const prepared: string[] = [];
    let schema = installedSchema;
    let created = false;
    try {
      return await s.transaction(temporary ? 'READ WRITE' : 'READ ONLY', settings, async () => {
        if (temporary) {
          s.discard = true;
          try {
            await s.run('CREATE EXTENSION hypopg');
          } catch (e) {
            if (e instanceof DatabaseError) return FALLBACK; // e.g. not allowed to create extensions
            throw e;
          }
          const r = await s.run<{ schema: string }>(
            "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hypopg'",
          );
          schema = r.rows[0]?.schema ?? null;
          if (schema === null) return FALLBACK;
          await s.run('SET LOCAL transaction_read_only = on');
        }
        const fn = `${quoteIdent(schema as string)}.`;
        const before = await this.plan(s, server, req, prepared);
        if (before.kind !== 'plan') return planFailure(before);
        let hypo: { oid: string; name: string } | undefined;
        try {
          const r = await s.run<{ oid: string; name: string }>(
            `SELECT indexrelid::int8::text AS oid, indexname AS name FROM ${fn}hypopg_create_index($1)`,
            { values: [candidate.sql], extended: true },
          );
          hypo = r.rows[0];
        } catch (e) {
          // hypopg cannot model every index; a real build in a rolled-back transaction still can.
          if (e instanceof DatabaseError && !describeTimeout(e)) return FALLBACK;
          throw e;
        }
        created = true;
        if (!hypo) return FALLBACK;
        const after = await this.plan(s, server, req, prepared);
        if (after.kind !== 'plan') return planFailure(after);
        const marker = `<${hypo.oid}>`;
        const used = indexesUsed(after.plan).some((n) => n === hypo.name || n.startsWith(marker));
        return proven(before.plan, after.plan, used, 'hypopg');
      });
    } catch (e) {
      const reason = dbFailure(e, 'the hypothetical index could not be evaluated', this.errorEnv);
      return unproven(reason);
    } finally {
      await this.deallocate(s, prepared);
      // Hypothetical indexes live in backend memory; ROLLBACK does not remove them.
      if (created && !temporary && !s.broken) {
        try {
          await s.run(`SELECT ${quoteIdent(schema as string)}.hypopg_reset()`, { cleanup: true });
        } catch {
          s.broken = true;
        }
      }
    }
  }

  /** Builds the index for real inside a read-write transaction that is always rolled back. */
  private async whatIfRollback(
    s: Session,
    server: ServerInfo,
    req: PlanRequest,
    candidate: IndexCandidate,
    settings: SqlInsightSettings,
  ): Promise<WhatIfResult> {
    const table = quoteQualified(candidate.table);
    const tableLabel = relationKey(candidate.table);
    const maxRows = settings.whatIf.maxTableRows;
    const prepared: string[] = [];
    try {
      return await s.transaction('READ WRITE', settings, async () => {
        const rel = (
          await s.run<{ oid: string; reltuples: number; relkind: string }>(
            'SELECT c.oid::int8::text AS oid, c.reltuples::float8 AS reltuples, c.relkind::text AS relkind FROM pg_class c WHERE c.oid = to_regclass($1)',
            { values: [table] },
          )
        ).rows[0];
        if (!rel) return unproven(`table ${tableLabel} was not found`);
        if (!['r', 'p', 'm'].includes(rel.relkind)) return unproven(`${tableLabel} is not a table`);
        let rows = rel.reltuples;
        if (rows < 0) {
          // Never analysed: count, but never further than the limit.
          const c = await s.run<{ n: number }>(`SELECT count(*)::float8 AS n FROM (SELECT FROM ${table} LIMIT $1) s`, {
            values: [Math.floor(maxRows) + 1],
            extended: true,
          });
          rows = c.rows[0]?.n ?? 0;
        }
        if (rows > maxRows) {
          return {
            kind: 'unproven',
            reason:
              `${tableLabel} has about ${Math.round(rows)} rows, more than sqlInsight.whatIf.maxTableRows (${maxRows}); ` +
              'building the index for real to prove it was skipped',
            skipped: true,
          };
        }

        // The user's statement is planned in read-only mode even here; the savepoint restores read-write.
        await s.run('SAVEPOINT sql_insight_before; SET LOCAL transaction_read_only = on');
        const before = await this.plan(s, server, req, prepared);
        if (before.kind !== 'plan') return planFailure(before);
        await s.run('ROLLBACK TO SAVEPOINT sql_insight_before');

        const existing = await indexNames(s, rel.oid);
        try {
          if (candidate.extension) {
            // Rolled back with everything else; only the fixed names in FIX_EXTENSIONS get here.
            await s.run(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(candidate.extension)}`);
          }
          await s.run(candidate.sql, { extended: true });
          // Expression and partial indexes are only costed well with statistics for them.
          if (candidate.needsRealBuild) await this.analyzeRolledBack(s, rel.oid, table);
        } catch (e) {
          return unproven(dbFailure(e, 'building the index failed', this.errorEnv));
        }
        await s.run('SET LOCAL transaction_read_only = on');
        const added = (await indexNames(s, rel.oid)).filter((n) => !existing.includes(n));
        const after = await this.plan(s, server, req, prepared);
        if (after.kind !== 'plan') return planFailure(after);
        return proven(before.plan, after.plan, usesAny(after.plan, added), 'rollback');
      });
    } catch (e) {
      return unproven(dbFailure(e, 'the index could not be evaluated', this.errorEnv));
    } finally {
      await this.deallocate(s, prepared);
    }
  }
}

// ---- helpers ----

/**
 * A read-only, rolled-back transaction for our own catalog queries, with JIT off. The change-marker query
 * (catalog.ts) is estimated far above jit_above_cost (a recursive CTE with subplans per row), so with the
 * server's default jit = on every save paid ~35 ms of LLVM compilation (more under load) to run ~3 ms of
 * catalog lookups. SET LOCAL ends with the transaction. The user's statements are never planned in here:
 * their EXPLAIN output (which reports JIT) stays as the server's settings make it.
 */
function catalogTransaction<T>(s: Session, settings: SqlInsightSettings, body: () => Promise<T>): Promise<T> {
  return s.transaction('READ ONLY', settings, body, ['SET LOCAL jit = off']);
}

/** One clear sentence per kind of connection failure; the driver's message otherwise. */
function describeFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = errorMessage(e);
  if (code === 'ECONNREFUSED') return 'connection refused: is PostgreSQL running and listening there?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return `the host name could not be resolved (${message})`;
  if (code === '28P01')
    return `${message}. Set the password with "SQL Insight: Set Database Password", or put it in the URL.`;
  if (/timeout expired|connection timeout/i.test(message)) return 'no answer while connecting (connect timeout)';
  if (/certificate|self.signed|SSL|TLS/i.test(message) && !/^TLS/.test(message)) return `TLS: ${message}`;
  return message;
}

function errorMessage(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) {
    return [...new Set(e.errors.map(errorMessage))].join('; ');
  }
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

/** A tiny semaphore so that at most `max` calls hold connections; the rest queue here, not in the pool,
 * whose connect timeout would otherwise misreport a busy pool as an unreachable database. The queue is
 * bounded: past `maxQueued` waiting calls, a call is refused at once ('full') rather than kept in memory. */
class Slots {
  private readonly waiting: Array<() => void> = [];
  constructor(private free: number) {}

  acquire(signal: AbortSignal, maxQueued = Infinity): Promise<boolean | 'full'> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= maxQueued) return Promise.resolve('full');
    return new Promise((resolve) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * The statements of one pipelined connection that are sent but not yet answered, at most `depth` of them
 * (a statement counts with its ROLLBACK TO). The first failure (a lost connection, a cancellation) is
 * rethrown by the next `room` or `drain`; the statements still on the wire are answered (or fail) on their own.
 */
class Pipe {
  private readonly pending: Promise<void>[] = [];
  private failed = false;
  private failure: unknown;
  /** The last message sent, which the next statement waits behind on the server. */
  last: Promise<unknown> | undefined;

  constructor(private readonly depth: number) {}

  /** One statement's messages, sent. */
  push(...sent: Promise<unknown>[]): void {
    this.pending.push(Promise.all(sent.map((p) => this.guard(p))).then(() => undefined));
    this.last = sent[sent.length - 1];
  }

  hasRoom(): boolean {
    return this.pending.length < this.depth;
  }

  /** Waits until at most half the pipe is in flight. */
  async room(): Promise<void> {
    while (this.pending.length > this.depth / 2) await this.pending.shift();
    this.check();
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
    this.last = undefined;
    this.check();
  }

  private guard(p: Promise<unknown>): Promise<void> {
    return p.then(
      () => undefined,
      (e: unknown) => {
        if (this.failed) return;
        this.failed = true;
        this.failure = e;
      },
    );
  }

  private check(): void {
    if (this.failed) throw this.failure;
  }
}
