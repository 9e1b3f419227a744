// The Planner over PGlite: PostgreSQL compiled to WebAssembly, running in this process with nothing in it but
// the workspace's schema (db/embeddedDatabase.ts builds and owns it). Planning is PgPlanner's (db/explain.ts,
// db/catalog.ts); what differs here:
// - one session, which calls borrow in turn (`Lend`), and no statement_timeout or lock_timeout: PGlite has no
//   timers to fire them and no other session to wait for;
// - no hypopg: what-ifs build the index in a transaction that is always rolled back (the database is ours);
// - the tables are empty, so every plan says where its estimates come from (`statistics`).
import type { PGliteInterface } from '@electric-sql/pglite';
import { planNodes, type PlanNode } from '../core/plan';
import type {
  CallContext,
  ExplainResult,
  IndexCandidate,
  Planner,
  PlanRequest,
  PlanStatistics,
  QualifiedName,
  RelationInfo,
  SchemaVersions,
  WhatIfResult,
} from '../core/ports';
import { describable, lookUpRelations, readSchemaVersions } from './catalog';
import {
  dbFailure,
  indexNames,
  planFailure,
  planStatement,
  PLAIN_CREATE_INDEX,
  proven,
  unproven,
  usesAny,
  type DbError,
  type PlanEnv,
  type StatementRunner,
} from './explain';
import { quoteQualified } from './sqlText';

/** A table given a row count (sqlInsight.embedded.rowCounts), with the statistics made from it. */
export interface SyntheticTable {
  schema: string;
  name: string;
  rows: number;
  pages: number;
}

export interface PgliteHandle {
  pg: PGliteInterface;
  /** Server major version, e.g. 18. */
  major: number;
  /** Tables with synthetic statistics, by `schema.name`. */
  synthetic: ReadonlyMap<string, SyntheticTable>;
  /**
   * What the engine was built from: the hash of the schema files (and PGlite, the loader) and the row counts.
   * Part of every plan-cache key, so that no plan survives a changed schema file.
   */
  scope: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Runs `work` with the database to itself (starting it if need be), or says why it cannot. */
export type Lend = <T>(ctx: CallContext, work: (h: PgliteHandle) => Promise<T>) => Promise<Outcome<T>>;

/**
 * What-ifs read every page of the table to build the index; on a table with synthetic statistics those are
 * zero pages, about 50,000 a second, and the language server waits meanwhile.
 */
export const MAX_WHAT_IF_PAGES = 100_000;

export class PglitePlanner implements Planner {
  private statementCounter = 0;

  constructor(private readonly lend: Lend) {}

  async explain(req: PlanRequest, ctx: CallContext): Promise<ExplainResult> {
    const out = await this.lend(ctx, async (h) => {
      const s = runner(h.pg);
      const prepared: string[] = [];
      try {
        return await transaction(s, 'READ ONLY', async () => {
          const r = await planStatement(s, this.env(h), req, prepared);
          if (r.kind === 'plan') r.statistics = statisticsOf(r.plan, h.synthetic);
          return r;
        });
      } finally {
        await deallocate(s, prepared);
      }
    });
    return out.ok ? out.value : { kind: 'unavailable', reason: out.reason };
  }

  /** One turn with the engine for all of them; a savepoint per statement keeps one error from ending the rest. */
  async explainBatch(reqs: PlanRequest[], ctx: CallContext): Promise<ExplainResult[]> {
    const out = await this.lend(ctx, async (h) => {
      const s = runner(h.pg);
      const prepared: string[] = [];
      const results: ExplainResult[] = [];
      try {
        await transaction(s, 'READ ONLY', async () => {
          await s.run('SAVEPOINT sql_insight_stmt');
          for (const req of reqs) {
            if (ctx.signal?.aborted) break;
            const r = await planStatement(s, this.env(h), req, prepared);
            if (r.kind === 'plan') r.statistics = statisticsOf(r.plan, h.synthetic);
            results.push(r);
            await s.run('ROLLBACK TO SAVEPOINT sql_insight_stmt');
          }
        });
      } finally {
        await deallocate(s, prepared);
      }
      return results;
    });
    const missing: ExplainResult = { kind: 'unavailable', reason: out.ok ? 'cancelled' : out.reason };
    return reqs.map((_, i) => (out.ok ? out.value[i] : undefined) ?? missing);
  }

  async schemaVersions(names: QualifiedName[], ctx: CallContext): Promise<SchemaVersions | undefined> {
    const out = await this.lend(ctx, (h) => {
      const s = runner(h.pg);
      return transaction(s, 'READ ONLY', () => readSchemaVersions(s, names, h.scope));
    });
    return out.ok ? out.value : undefined;
  }

  async describeRelations(names: QualifiedName[], ctx: CallContext): Promise<Map<string, RelationInfo>> {
    const wanted = describable(names);
    if (wanted.length === 0) return new Map();
    const out = await this.lend(ctx, (h) => {
      const s = runner(h.pg);
      return transaction(s, 'READ ONLY', () => lookUpRelations(s, wanted));
    });
    return out.ok ? out.value : new Map();
  }

  async whatIf(req: PlanRequest, candidate: IndexCandidate, ctx: CallContext): Promise<WhatIfResult> {
    if (!PLAIN_CREATE_INDEX.test(candidate.sql)) return unproven('the candidate is not a plain CREATE INDEX statement');
    const out = await this.lend(ctx, (h) => this.whatIfRollback(h, req, candidate));
    return out.ok ? out.value : unproven(out.reason);
  }

  private async whatIfRollback(h: PgliteHandle, req: PlanRequest, candidate: IndexCandidate): Promise<WhatIfResult> {
    const s = runner(h.pg);
    const env = this.env(h);
    const prepared: string[] = [];
    let synthetic: SyntheticTable | undefined;
    try {
      return await transaction(s, 'READ WRITE', async () => {
        const rel = (
          await s.run(
            `SELECT c.oid::int8::text AS oid, c.relkind::text AS kind, n.nspname AS schema, c.relname AS name
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
            { values: [quoteQualified(candidate.table)] },
          )
        ).rows[0] as { oid: string; kind: string; schema: string; name: string } | undefined;
        if (!rel) return unproven(`table ${quoteQualified(candidate.table)} was not found`);
        if (!['r', 'p', 'm'].includes(rel.kind)) return unproven(`${rel.name} is not a table`);
        synthetic = h.synthetic.get(`${rel.schema}.${rel.name}`);
        if (synthetic && synthetic.pages > MAX_WHAT_IF_PAGES) {
          return unproven(
            `building the index would read the ${synthetic.pages} synthetic pages of ${rel.name} ` +
              `(sqlInsight.embedded.rowCounts); the embedded engine proves fixes up to ${MAX_WHAT_IF_PAGES} pages`,
          );
        }

        // The user's statement is planned in read-only mode even here; the savepoint restores read-write.
        await s.run('SAVEPOINT sql_insight_before; SET LOCAL transaction_read_only = on');
        const before = await planStatement(s, env, req, prepared);
        if (before.kind !== 'plan') return planFailure(before);
        await s.run('ROLLBACK TO SAVEPOINT sql_insight_before');

        const existing = await indexNames(s, rel.oid);
        try {
          await s.run(candidate.sql, { extended: true });
        } catch (e) {
          return unproven(dbFailure(e, 'building the index failed', env));
        }
        // The build wrote the table's real (empty) size over the synthetic one, in place; no ANALYZE either,
        // whose statistics of empty tables would say the same.
        if (synthetic) await restoreStatistics(s, synthetic);
        await s.run('SET LOCAL transaction_read_only = on');
        const added = (await indexNames(s, rel.oid)).filter((n) => !existing.includes(n));
        const after = await planStatement(s, env, req, prepared);
        if (after.kind !== 'plan') return planFailure(after);
        return proven(before.plan, after.plan, usesAny(after.plan, added), 'rollback');
      });
    } catch (e) {
      return unproven(dbFailure(e, 'the index could not be evaluated', env));
    } finally {
      await deallocate(s, prepared);
      // An in-place write survives the ROLLBACK.
      if (synthetic) await restoreStatistics(s, synthetic);
    }
  }

  private env(h: PgliteHandle): PlanEnv {
    return {
      major: h.major,
      // PGlite's databases are UTF8, where error positions count characters.
      positionsInBytes: false,
      isDbError,
      // Nothing secret reaches an in-process database.
      mask: (text) => text,
      statementName: () => `sql_insight_${++this.statementCounter}`,
    };
  }
}

/** PGlite's errors carry the fields of the server's ErrorResponse, as node-postgres's do. */
export function isDbError(e: unknown): e is DbError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && 'severity' in e;
}

/** `real` never: `synthetic` when a scanned table has a row count, else `none`. */
export function statisticsOf(plan: PlanNode, synthetic: ReadonlyMap<string, SyntheticTable>): PlanStatistics {
  for (const n of planNodes(plan)) {
    const name = n['Relation Name'];
    if (name && synthetic.has(`${n.Schema ?? 'public'}.${name}`)) return 'synthetic';
  }
  return 'none';
}

/** Sets a table's size in the catalog (PostgreSQL 18's pg_restore_relation_stats, inside the caller's transaction or not). */
export async function restoreStatistics(s: StatementRunner, t: SyntheticTable): Promise<void> {
  await s.run(
    `SELECT pg_restore_relation_stats('schemaname', $1::text, 'relname', $2::text,
                                      'relpages', $3::int, 'reltuples', $4::real, 'relallvisible', 0::int)`,
    { values: [t.schema, t.name, t.pages, t.rows], extended: true },
  );
}

/** Statements over one PGlite instance: the extended protocol (one statement) when asked, else the simple one. */
export function runner(pg: PGliteInterface): StatementRunner {
  return {
    async run(text, opts = {}) {
      if (opts.extended || opts.values) {
        const r = await pg.query<Record<string, unknown>>(text, opts.values ?? []);
        return { rows: r.rows };
      }
      const results = await pg.exec(text);
      return { rows: (results[results.length - 1]?.rows ?? []) as Array<Record<string, unknown>> };
    },
  };
}

/** `BEGIN <mode>`, `body`, and always a ROLLBACK. */
async function transaction<T>(s: StatementRunner, mode: 'READ ONLY' | 'READ WRITE', body: () => Promise<T>): Promise<T> {
  await s.run(`BEGIN ${mode}`);
  try {
    return await body();
  } finally {
    await s.run('ROLLBACK');
  }
}

/** PREPARE is not transactional: statements outlive the ROLLBACK and are removed after it. */
async function deallocate(s: StatementRunner, names: string[]): Promise<void> {
  for (const name of names) await s.run(`DEALLOCATE ${name}`);
}
