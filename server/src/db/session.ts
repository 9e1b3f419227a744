// One checked-out connection for the length of one planner call: every query goes through `run`, which
// adds the client-side timeout backstop, server-side cancellation on abort, and error classification.
import { DatabaseError, type PoolClient, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { SqlInsightSettings } from '../../../common/protocol';
import { sendCancelRequest } from './cancel';
import type { RunOptions } from './explain';

/** The caller aborted (or the planner was disposed); the running statement was cancelled server-side. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** The connection is gone or stopped answering; it must not be reused and the target counts as unreachable. */
export class ConnectionLostError extends Error {}


// pg supports `queryMode` at runtime; @types/pg does not declare it.
interface ExtendedQueryConfig extends QueryConfig {
  queryMode: 'extended';
}

interface BackendIdentity {
  host?: string;
  port?: number;
  processID?: number | null;
  secretKey?: number | null;
}

/** SQLSTATEs that mean the connection or server is going away rather than that the statement is wrong. */
export function isConnectionSqlState(code: string | undefined): boolean {
  if (!code) return false;
  // 08P01 is also what a Bind with the wrong number of parameters gets (`$1` with paramCount 0); the
  // server resynchronises at the next Sync, so the connection stays usable.
  if (code === '08P01') return false;
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** How long an aborted call's running statement may still finish by itself before it is cancelled. */
export const CANCEL_DELAY_MS = 50;
/** Between two cancel requests while a pipelined connection still has statements running. */
const CANCEL_REPEAT_MS = 10;

/** Statements of our own, never user text, that may share BEGIN's simple-protocol round trip. */
export type FixedStatement = 'SAVEPOINT sql_insight_stmt' | 'SET LOCAL jit = off';

export function timeoutSetting(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

export class Session {
  /** The connection is in an unknown state (a statement may still be running on it): destroy, never reuse. */
  broken = false;
  /** Return the connection to the pool closed rather than idle (e.g. it may hold backend-local state). */
  discard = false;
  private cancelRequested = false;
  private cancelling = false;
  /** Statements sent and not yet answered (several when pipelined). */
  private active = 0;
  // What each unanswered statement does on abort: one listener on the signal for all of them, since a
  // pipelined connection has dozens at once.
  private readonly onAborts = new Set<() => void>();

  constructor(
    private readonly client: PoolClient,
    private readonly limitMs: number,
    private readonly signal: AbortSignal,
    private readonly abortGraceMs: number,
  ) {
    // A checked-out pg client has no 'error' listener of its own; without one a dropped socket crashes the process.
    client.on('error', this.onClientError);
    signal.addEventListener('abort', this.onSignal, { once: true });
  }

  private readonly onSignal = (): void => {
    for (const f of [...this.onAborts]) f();
  };

  private readonly onClientError = (): void => {
    this.broken = true;
  };

  run<R extends QueryResultRow = QueryResultRow>(text: string, opts: RunOptions = {}): Promise<QueryResult<R>> {
    if (this.broken) return Promise.reject(new ConnectionLostError('the connection is no longer usable'));
    if (this.signal.aborted && !opts.cleanup) return Promise.reject(new CancelledError());

    const config: QueryConfig | ExtendedQueryConfig = opts.extended
      ? { text, values: opts.values ?? [], queryMode: 'extended' }
      : opts.values
        ? { text, values: opts.values }
        : { text };
    if (opts.name) config.name = opts.name;

    return new Promise<QueryResult<R>>((resolve, reject) => {
      let settled = false;
      let grace: NodeJS.Timeout | undefined;
      let delay: NodeJS.Timeout | undefined;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        this.active--;
        clearTimeout(timer);
        clearTimeout(grace);
        clearTimeout(delay);
        this.onAborts.delete(onAbort);
        f();
      };
      // Backstop for a server that accepted the connection but stopped answering: statement_timeout
      // cannot help there because its error would never arrive.
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        if (settled) return;
        timer = setTimeout(() => {
          void this.cancel();
          settle(() => {
            this.broken = true;
            reject(new ConnectionLostError(`the database did not answer within ${this.limitMs} ms`));
          });
        }, this.limitMs);
      };
      if (opts.after) opts.after.then(arm, arm);
      else arm();
      const onAbort = (): void => {
        // A statement that ends by itself within CANCEL_DELAY_MS is let finish: a cancel request sent to it
        // would most likely arrive after it ended, and the connection would then have to be destroyed
        // (see release) — and the next save would pay for a new one (~30 ms connect + ~30 ms of a cold
        // backend's catalog caches). Longer statements are cancelled server-side as before.
        delay = setTimeout(() => {
          void this.cancelUntilIdle();
          // Normally the cancelled statement fails at once with 57014; if not, give up on the connection.
          grace = setTimeout(() => {
            settle(() => {
              this.broken = true;
              reject(new CancelledError());
            });
          }, this.abortGraceMs);
        }, CANCEL_DELAY_MS);
      };
      if (!opts.cleanup) this.onAborts.add(onAbort);

      this.active++;
      let pending: Promise<QueryResult<R>>;
      try {
        // node-postgres writes each protocol message on its own (five for an extended query): one write.
        pending = this.corked(() => this.client.query<R>(config));
      } catch (e) {
        settle(() => reject(e));
        return;
      }
      pending.then(
        (r) => settle(() => resolve(r)),
        (e: unknown) =>
          settle(() => {
            if (e instanceof DatabaseError) {
              if (e.code === '57014' && this.cancelRequested) reject(new CancelledError());
              else if (isConnectionSqlState(e.code)) {
                this.broken = true;
                reject(new ConnectionLostError(e.message));
              } else reject(e);
            } else {
              // Not a server error: socket closed, protocol trouble, client-side failure.
              this.broken = true;
              reject(new ConnectionLostError(e instanceof Error ? e.message : String(e)));
            }
          }),
      );
    });
  }

  /** `BEGIN <mode>` with our timeouts, `body`, and always a ROLLBACK. */
  async transaction<T>(
    mode: 'READ ONLY' | 'READ WRITE',
    settings: SqlInsightSettings,
    body: () => Promise<T>,
    /** Fixed statements of our own to run right after BEGIN, in its round trip. */
    then: FixedStatement[] = [],
  ): Promise<T> {
    try {
      await this.begin(mode, settings, then);
      return await body();
    } finally {
      await this.rollback();
    }
  }

  /** `BEGIN <mode>` with our timeouts; the caller must end it with `rollback()`. */
  async begin(mode: 'READ ONLY' | 'READ WRITE', settings: SqlInsightSettings, then: FixedStatement[] = []): Promise<void> {
    const statementTimeout = timeoutSetting(settings.statementTimeoutMs, 5000);
    const lockTimeout = timeoutSetting(settings.lockTimeoutMs, 1000);
    // Fixed text with integers only, so the simple protocol (one round trip) is fine here.
    await this.run([`BEGIN ${mode}; SET LOCAL statement_timeout = ${statementTimeout}; SET LOCAL lock_timeout = ${lockTimeout}`, ...then].join('; '));
  }

  async rollback(): Promise<void> {
    if (this.broken) return;
    try {
      // Planning runs immutable and stable functions, and such a function may take a session-level advisory
      // lock: the one thing it can do that a rollback does not undo (PostgreSQL refuses PREPARE, LISTEN,
      // cursors and DDL in non-volatile functions, and writes in read-only transactions).
      await this.run('ROLLBACK; SELECT pg_advisory_unlock_all()', { cleanup: true });
    } catch {
      this.broken = true;
    }
  }

  /**
   * Cancels statement after statement until none is left unanswered. A pipelined connection has more sent
   * behind the running one, and the server starts each of them in turn (a statement waiting for a lock
   * would wait its full lock_timeout); a cancel request only reaches the one running when it arrives, and
   * one that arrives between two statements is ignored, so the requests go on until the pipe is empty.
   */
  private async cancelUntilIdle(): Promise<void> {
    if (this.cancelling) return;
    this.cancelling = true;
    // Only while statements that an abort stops are unanswered: cleanup statements (the ROLLBACK, a what-if's
    // last bookkeeping) run after an abort on purpose.
    while (this.onAborts.size > 0 && !this.broken) {
      await this.cancel();
      if (this.onAborts.size > 0) await new Promise((resolve) => setTimeout(resolve, CANCEL_REPEAT_MS));
    }
  }

  /** Runs `send`, writing whatever it sends to the server in one go at its end. */
  corked<T>(send: () => T): T {
    const stream = (this.client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
    stream?.cork?.();
    try {
      return send();
    } finally {
      stream?.uncork?.();
    }
  }

  /** Sends a cancel request for the running statement, if any. */
  cancel(): Promise<boolean> {
    this.cancelRequested = true;
    const id = this.client as unknown as BackendIdentity;
    if (this.active === 0 || !id.host || !id.port || id.processID == null || id.secretKey == null) return Promise.resolve(false);
    return sendCancelRequest({ host: id.host, port: id.port, processID: id.processID, secretKey: id.secretKey });
  }

  release(): void {
    this.client.removeListener('error', this.onClientError);
    this.signal.removeEventListener('abort', this.onSignal);
    // After a cancel request the connection is not reused: a late cancel could hit the next caller's statement.
    const destroy = this.broken || this.discard || this.cancelRequested;
    // A pipelined client ends gracefully only once every statement it sent is answered, which a broken
    // connection may never do: cut it.
    if (this.broken && this.active > 0) (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    this.client.release(destroy ? new Error('connection discarded') : undefined);
  }
}
