// What a rule sees and what it reports. Rules are pure functions of one statement (and its plan).
import type { RuleLevel, SqlInsightSettings } from '../../../../common/protocol';
import type { Span, TableRef } from '../ast';
import type { ParsedStatement } from '../document';
import type { PlanNode } from '../plan';
import type { DatabaseInfo, IndexCandidate, PlanStatistics, RelationInfo } from '../ports';
import type { TableSize } from '../size';

/** Where the statement lives: a `.sql` file, or SQL embedded in JS/TS code (request code). */
export type Host = 'sql' | 'embedded';

export interface StatementContext {
  stmt: ParsedStatement;
  settings: SqlInsightSettings;
  host: Host;
}

export interface RuleContext extends StatementContext {
  plan: PlanNode;
  /** True when `plan` comes from EXPLAIN ANALYZE and carries actual rows, times and buffers. */
  analyzed: boolean;
  /** Catalog facts for a table reference, if the database knows it. */
  relation(table: TableRef): RelationInfo | undefined;
  /** Where the plan's row estimates come from; absent means a real database. */
  statistics?: PlanStatistics;
  /** Catalog facts for a plan node's relation (`Schema`, `Relation Name`). */
  relationByName(schema: string | undefined, name: string): RelationInfo | undefined;
  /** How many rows the table has for "large" decisions (sqlInsight.tableSizes first). */
  size(table: TableRef): TableSize | undefined;
  /** Extensions of the database, for fixes that need one. */
  database?: DatabaseInfo;
}

/** An index that would fix a finding, to be proven by a what-if before it is offered. */
export interface IndexFix {
  /** e.g. `Create expression index on customers (lower(email))`. */
  label: string;
  candidate: IndexCandidate;
  /** The DDL written into the file. */
  ddl(concurrently: boolean): string;
  /** Its undoing, for down migrations. */
  drop(concurrently: boolean): string;
  /** Known before any what-if: why this fix cannot be proven (it is then offered marked unproven). */
  unproven?: string;
  /** A refinement (INCLUDE columns) of the candidate with this name: offered only when it beats it. */
  refines?: string;
}

export interface Finding {
  ruleId: string;
  message: string;
  /** Statement-relative UTF-16 span the squiggle covers. */
  span: Span;
  /** The table the finding is about; a later rule's finding on a table an earlier one explained is dropped. */
  table?: TableRef;
  /** Candidate indexes, best guess first; each is proven before it is offered. */
  fixes?: IndexFix[];
}

interface RuleBase {
  id: string;
  /** One line for the rules table and the settings UI. */
  title: string;
  /** Level in `.sql` files and in SQL embedded in code when the user has not set `sqlInsight.rules.<id>`. */
  defaults: Record<Host, RuleLevel>;
}

/** Needs the statement only: works without a database. */
export interface SyntaxRule extends RuleBase {
  needs: 'syntax';
  check(ctx: StatementContext): Finding[];
}

/** Needs the plan (`EXPLAIN`) and the catalog. */
export interface PlanRule extends RuleBase {
  needs: 'plan';
  check(ctx: RuleContext): Finding[];
}

/** Needs the actual rows, times and buffers of `EXPLAIN ANALYZE`, which the user asks for per statement. */
export interface AnalyzeRule extends RuleBase {
  needs: 'analyze';
  check(ctx: RuleContext): Finding[];
}

export type Rule = SyntaxRule | PlanRule | AnalyzeRule;

export function sameDefault(level: RuleLevel): Record<Host, RuleLevel> {
  return { sql: level, embedded: level };
}
