// What a rule sees and what it reports. Rules are pure functions of one planned statement.
import type { SqlInsightSettings } from '../../../../common/protocol';
import type { Span, TableRef } from '../ast';
import type { ParsedStatement } from '../document';
import type { PlanNode } from '../plan';
import type { IndexCandidate, PlanStatistics, RelationInfo } from '../ports';
import type { Severity } from '../types';

export interface RuleContext {
  stmt: ParsedStatement;
  plan: PlanNode;
  settings: SqlInsightSettings;
  /** Catalog facts for a table reference, if the database knows it. */
  relation(table: TableRef): RelationInfo | undefined;
  /** Where the plan's row estimates come from; absent means a real database. */
  statistics?: PlanStatistics;
}

/** An index that would fix a finding, to be proven by a what-if before it is offered. */
export interface IndexFix {
  /** e.g. `Create expression index on customers (lower(email))`. */
  label: string;
  candidate: IndexCandidate;
  /** The DDL written into the file. */
  ddl(concurrently: boolean): string;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  /** Statement-relative UTF-16 span the squiggle covers. */
  span: Span;
  table?: TableRef;
  fix?: IndexFix;
}

export interface Rule {
  id: string;
  defaultSeverity: Severity;
  check(ctx: RuleContext): Finding[];
}
