// What every Planner shares, whatever carries its statements (node-postgres, PGlite): how a statement is
// planned, plainly or as a generic plan; how EXPLAIN's JSON and the database's errors become ExplainResults;
// how a what-if's outcome is told.
import { performance } from 'perf_hooks';
import { indexesUsed, type PlanNode } from '../core/plan';
import type { ExplainResult, PlanRequest, WhatIfResult } from '../core/ports';
import { errorPositionToOffset } from './sqlText';

export interface RunOptions {
  values?: unknown[];
  /** Parse/Bind/Execute, which refuses more than one statement. Required for any text containing user SQL. */
  extended?: boolean;
  /** Cleanup statements (ROLLBACK, DEALLOCATE, hypopg_reset) still run after an abort. */
  cleanup?: boolean;
  /**
   * The statement was sent behind this one on a pipelined connection: the server starts on it only once
   * `after` is answered, so that is when its time starts to count.
   */
  after?: Promise<unknown>;
  /**
   * A name for a fixed query text of ours: prepared on the first run per connection, then only executed.
   * Never for user SQL (a name binds one text for the connection's life).
   */
  name?: string;
}

/** One connection's worth of statements. */
export interface StatementRunner {
  run(text: string, opts?: RunOptions): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** An error the database reported about a statement, as both drivers shape it. */
export interface DbError {
  message: string;
  code?: string;
  /** 1-based, in characters of the server encoding (bytes for SQL_ASCII), over the whole text sent. */
  position?: string;
  detail?: string;
  hint?: string;
}

export interface PlanEnv {
  /** Major version, e.g. 15. */
  major: number;
  /** SQL_ASCII counts error positions in bytes, every other encoding in characters. */
  positionsInBytes: boolean;
  /** True for a statement's error; anything else (lost connection, cancellation) is rethrown. */
  isDbError(e: unknown): e is DbError;
  /** Scrubs secrets from text shown to the user. */
  mask(text: string): string;
  /** A prepared-statement name not used before on this connection. */
  statementName(): string;
}

export const EXPLAIN_OPTIONS = 'FORMAT JSON, VERBOSE, SUMMARY';
const ANALYZE_OPTIONS = 'ANALYZE, BUFFERS, FORMAT JSON, VERBOSE, SUMMARY';

// `CREATE [UNIQUE] INDEX` but not CONCURRENTLY (which cannot run in a transaction and would not roll back).
export const PLAIN_CREATE_INDEX = /^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY\b)/i;

/**
 * Plans `req` inside the caller's transaction; prepared statement names are added to `prepared`, for the
 * caller to deallocate after its ROLLBACK (PREPARE is not transactional).
 *
 * A statement with `$n` is prepared and EXPLAIN EXECUTEd with NULLs under force_generic_plan, on every
 * version: `EXPLAIN (GENERIC_PLAN)` would need the simple protocol, because through the extended one the
 * server infers the parameters at Parse and then wants values at Bind (and plans for those values).
 */
export async function planStatement(
  s: StatementRunner,
  env: PlanEnv,
  req: PlanRequest,
  prepared: string[],
  /** Pipelining (statements without parameters only): the statement sent just before this one. */
  after?: Promise<unknown>,
): Promise<ExplainResult> {
  // Sent before this function first awaits, which pipelining callers rely on for the order on the wire.
  if (req.paramCount <= 0) return runExplain(s, env, `EXPLAIN (${EXPLAIN_OPTIONS}) `, req.sql, req.sql, false, [], after);
  const name = env.statementName();
  const preparePrefix = `PREPARE ${name} AS `;
  // Without this, EXECUTE with NULLs would be planned as a custom plan for those NULLs ("One-Time Filter: false").
  await s.run('SET LOCAL plan_cache_mode = force_generic_plan');
  try {
    await s.run(preparePrefix + req.sql, { extended: true });
  } catch (e) {
    return statementError(e, env, { prefixChars: preparePrefix.length, sql: req.sql });
  }
  prepared.push(name);
  const typesRow = await s.run('SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = $1', {
    values: [name],
  });
  const types = (typesRow.rows[0]?.types as string[] | null | undefined) ?? [];
  const args = types.length > 0 ? `(${types.map(() => 'NULL').join(', ')})` : '';
  return runExplain(s, env, `EXPLAIN (${EXPLAIN_OPTIONS}) EXECUTE ${name}${args}`, '', undefined, true, types);
}

/** EXPLAIN ANALYZE of a statement without parameters, inside the caller's transaction (which must roll back). */
export function explainAnalyze(s: StatementRunner, env: PlanEnv, sql: string): Promise<ExplainResult> {
  return runExplain(s, env, `EXPLAIN (${ANALYZE_OPTIONS}) `, sql, sql, false, []);
}

async function runExplain(
  s: StatementRunner,
  env: PlanEnv,
  prefix: string,
  userSql: string,
  /** The original SQL when `userSql` is it (for error positions); undefined when the text holds no user SQL. */
  originalSql: string | undefined,
  generic: boolean,
  paramTypes: string[],
  after?: Promise<unknown>,
): Promise<ExplainResult> {
  let started = performance.now();
  const turn = (): void => {
    started = performance.now();
  };
  after?.then(turn, turn);
  let rows: Array<Record<string, unknown>>;
  try {
    rows = (await s.run(prefix + userSql, after ? { extended: true, after } : { extended: true })).rows;
  } catch (e) {
    return statementError(e, env, originalSql === undefined ? undefined : { prefixChars: prefix.length, sql: originalSql });
  }
  const elapsedMs = performance.now() - started;
  const doc = rows[0]?.['QUERY PLAN'];
  const top = Array.isArray(doc)
    ? (doc[0] as { Plan?: PlanNode; 'Planning Time'?: number; 'Execution Time'?: number } | undefined)
    : undefined;
  if (!top?.Plan) return { kind: 'unavailable', reason: 'EXPLAIN returned no plan' };
  const result: ExplainResult = { kind: 'plan', plan: top.Plan, elapsedMs, generic, paramTypes, serverVersion: env.major };
  if (typeof top['Planning Time'] === 'number') result.planningTimeMs = top['Planning Time'];
  if (typeof top['Execution Time'] === 'number') result.executionTimeMs = top['Execution Time'];
  return result;
}

/** Turns a statement's database error into data; connection trouble and cancellation are rethrown. */
export function statementError(e: unknown, env: PlanEnv, mapping?: { prefixChars: number; sql: string }): ExplainResult {
  if (!env.isDbError(e)) throw e;
  const timeout = describeTimeout(e);
  if (timeout) return { kind: 'unavailable', reason: timeout };
  const out: ExplainResult = { kind: 'error', message: env.mask(e.message) };
  if (e.code) out.sqlState = e.code;
  if (e.detail) out.detail = env.mask(e.detail);
  if (e.hint) out.hint = env.mask(e.hint);
  if (mapping) {
    const pos = errorPositionToOffset(e.position, mapping.prefixChars, mapping.sql, env.positionsInBytes);
    if (pos !== undefined) out.position = pos;
  }
  return out;
}

export function describeTimeout(e: DbError): string | undefined {
  if (e.code === '57014') return 'statement_timeout was reached (sqlInsight.statementTimeoutMs)';
  if (e.code === '55P03') return 'a lock was not granted within lock_timeout (sqlInsight.lockTimeoutMs)';
  if (e.code === '40P01') return 'deadlock detected';
  return undefined;
}

/** A reason for a database error; anything else is rethrown. */
export function dbFailure(e: unknown, what: string, env: Pick<PlanEnv, 'isDbError' | 'mask'>): string {
  if (!env.isDbError(e)) throw e;
  return `${what}: ${describeTimeout(e) ?? env.mask(e.message)}`;
}

/** Names of the indexes on a table (by oid) and its partitions, to tell which one a what-if added. */
export async function indexNames(s: StatementRunner, tableOid: string): Promise<string[]> {
  const r = await s.run(
    // A partitioned table's plan uses its partitions' indexes, which CREATE INDEX on the parent creates too.
    `SELECT c.relname AS name FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
      WHERE x.indrelid = $1::oid OR x.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::oid)`,
    { values: [tableOid] },
  );
  return r.rows.map((row) => String(row.name));
}

/** Whether `after` uses one of the indexes named in `added`. */
export function usesAny(after: PlanNode, added: string[]): boolean {
  return indexesUsed(after).some((n) => added.includes(n));
}

export function proven(before: PlanNode, after: PlanNode, used: boolean, method: 'hypopg' | 'rollback'): WhatIfResult {
  return { kind: 'proven', before: before['Total Cost'], after: after['Total Cost'], used, method };
}

export function unproven(reason: string): WhatIfResult {
  return { kind: 'unproven', reason };
}

export function planFailure(r: Exclude<ExplainResult, { kind: 'plan' }>): WhatIfResult {
  return unproven(r.kind === 'error' ? `the statement could not be planned: ${r.message}` : r.reason);
}
