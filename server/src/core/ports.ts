// The one door between the pure core and the database. The core calls these; the LSP adapter passes an
// implementation (server/src/db/pgPlanner.ts) in. The core itself does no I/O.
import type { SqlInsightSettings } from '../../../common/protocol';
import type { PlanNode } from './plan';

export interface QualifiedName {
  schema?: string;
  name: string;
}

export interface PlanRequest {
  /** Exactly one statement, already confirmed by the parser to be explainable. */
  sql: string;
  /** Highest `$n` used in the statement; > 0 means a generic plan is needed. */
  paramCount: number;
}

export interface AnalyzeRequest extends PlanRequest {
  /** The statement changes data (INSERT, UPDATE, DELETE, or a data-modifying WITH): it runs read-write, still rolled back. */
  writes: boolean;
}

export type ExplainResult =
  | {
      kind: 'plan';
      plan: PlanNode;
      planningTimeMs?: number;
      /** Wall-clock time of the EXPLAIN round trip as measured by the client. */
      elapsedMs: number;
      /** True when parameters were planned as a generic plan. */
      generic: boolean;
      /** Inferred parameter types, `$1` first (generic plans only). */
      paramTypes: string[];
      /** Server major version, e.g. 15. */
      serverVersion: number;
      /**
       * Where the row estimates come from: `real` (absent) a database with data, `synthetic` statistics made
       * from configured row counts, `none` empty tables (the embedded engine), whose sizes mean nothing.
       */
      statistics?: PlanStatistics;
      /** EXPLAIN ANALYZE only: the statement's execution time on the server. */
      executionTimeMs?: number;
    }
  | {
      kind: 'error';
      message: string;
      /** 0-based UTF-16 offset into `PlanRequest.sql`, when PostgreSQL reported one. */
      position?: number;
      sqlState?: string;
      detail?: string;
      hint?: string;
    }
  | { kind: 'unavailable'; reason: string };

export type PlanStatistics = 'real' | 'synthetic' | 'none';

export interface ColumnInfo {
  name: string;
  type: string;
  notNull: boolean;
  /** The planner's statistics for the column (`pg_stats`), when the table was analysed. */
  stats?: ColumnStats;
}

export interface ColumnStats {
  nullFrac: number;
  /** pg_stats.n_distinct: > 0 a count, < 0 minus the fraction of rows (-1: unique). */
  nDistinct: number;
  /** Most common values as text, with their frequencies (same order). */
  mostCommonValues: string[];
  mostCommonFreqs: number[];
}

export interface ForeignKeyInfo {
  name: string;
  columns: string[];
  references: QualifiedName;
  referencedColumns: string[];
}

export interface IndexInfo {
  name: string;
  unique: boolean;
  primary: boolean;
  method: string;
  /** Key columns in order: a column name, or null for an expression key. */
  keyColumns: (string | null)[];
  /** Key definitions in order as PostgreSQL prints them (`email`, `lower((email)::text)`). */
  keyDefs: string[];
  /** The partial-index predicate, if any. */
  predicate: string | null;
  definition: string;
}

export interface RelationInfo {
  schema: string;
  name: string;
  /** `r` table, `p` partitioned table, `v` view, `m` materialized view, `f` foreign table. */
  kind: string;
  /** pg_class.reltuples; -1 when never analysed. */
  reltuples: number;
  relpages: number;
  columns: ColumnInfo[];
  indexes: IndexInfo[];
  foreignKeys?: ForeignKeyInfo[];
  /** Direct partitions of a partitioned table (`kind` `p`). */
  partitions?: QualifiedName[];
}

export interface DatabaseInfo {
  /** Extensions by name, for those SQL Insight's fixes can use (pg_trgm, …). */
  extensions: Record<string, { installed: boolean; available: boolean }>;
}

/** A candidate index for a what-if. `sql` is a plain `CREATE INDEX name ON table (...)` without CONCURRENTLY. */
export interface IndexCandidate {
  name: string;
  table: QualifiedName;
  sql: string;
  /** Expression and partial indexes need real statistics: hypothetical indexes cannot prove them. */
  needsRealBuild: boolean;
  /** An extension the index needs (an operator class of `pg_trgm`); created inside the rolled-back what-if when missing. */
  extension?: string;
}

export type WhatIfResult =
  | { kind: 'proven'; before: number; after: number; used: boolean; method: 'hypopg' | 'rollback' }
  | {
      kind: 'unproven';
      reason: string;
      /** Not attempted because proving it would cost too much (table above whatIf.maxTableRows): offer it, marked. */
      skipped?: boolean;
    };

/**
 * Change markers for a statement's plan, read in one catalog round trip on each run (see db/catalog.ts for
 * what they cover). Two runs that get the same scope and the same marker for every relation a statement
 * names would get the same plan for it.
 */
export interface SchemaVersions {
  /** The database and everything global a plan depends on (server version, user functions, the embedded schema). */
  scope: string;
  /** A marker per `relationKey` of each requested name that resolves; names that do not resolve are absent. */
  relations: Map<string, string>;
}

export interface CallContext {
  settings: SqlInsightSettings;
  signal?: AbortSignal;
}

export interface Planner {
  explain(req: PlanRequest, ctx: CallContext): Promise<ExplainResult>;
  /** Looks relations up by name (search_path applies to unqualified names); unknown names are left out. */
  describeRelations(names: QualifiedName[], ctx: CallContext): Promise<Map<string, RelationInfo>>;
  /** Plans `req` with and without the candidate index, inside a transaction that is always rolled back. */
  whatIf(req: PlanRequest, candidate: IndexCandidate, ctx: CallContext): Promise<WhatIfResult>;
  /** Extensions the fixes may use. */
  describeDatabase?(ctx: CallContext): Promise<DatabaseInfo | undefined>;
  /**
   * `EXPLAIN (ANALYZE, BUFFERS)`: runs the statement inside a transaction that is always rolled back, with
   * statement_timeout. Statements with `$n` parameters cannot run and come back as an error.
   */
  analyze?(req: AnalyzeRequest, ctx: CallContext): Promise<ExplainResult>;
  /** Change markers of the named relations; undefined when they cannot be read (then nothing is cached). */
  schemaVersions?(names: QualifiedName[], ctx: CallContext): Promise<SchemaVersions | undefined>;
  /**
   * Plans many statements with as few round trips as the planner can (several per transaction, over its small
   * pool); one result per request, in order. Each statement is still planned on its own, as by `explain`.
   */
  explainBatch?(reqs: PlanRequest[], ctx: CallContext): Promise<ExplainResult[]>;
}

/** Map key for a relation: `schema.name` when schema-qualified, else `name`. */
export function relationKey(q: QualifiedName): string {
  return q.schema ? `${q.schema}.${q.name}` : q.name;
}
