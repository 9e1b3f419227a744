// Matching plan nodes to the statement's table references: by relation name and alias, and for a
// partitioned table by its partitions (whose nodes are named after the partition, aliased `events_1`, …).
import { tableNameSpan, type QueryBlock, type Span, type TableRef } from './ast';
import type { ParsedStatement } from './document';
import { planNodes, type PlanNode } from './plan';
import type { RelationInfo } from './ports';

type RelationOf = (t: TableRef) => RelationInfo | undefined;

export function nodeReads(node: PlanNode, table: TableRef, relationOf: RelationOf): boolean {
  const rel = node['Relation Name'];
  if (!rel) return false;
  if (rel === table.relname) {
    return (node.Alias === undefined || node.Alias === table.refName) && (!table.schema || node.Schema === undefined || node.Schema === table.schema);
  }
  const info = relationOf(table);
  return info?.kind === 'p' && (info.partitions ?? []).some((p) => p.name === rel && (node.Schema === undefined || p.schema === undefined || p.schema === node.Schema));
}

/** The plan's scan nodes that read `table` (its partitions included). */
export function scanNodesFor(plan: PlanNode, table: TableRef, relationOf: RelationOf): PlanNode[] {
  return planNodes(plan).filter((n) => nodeReads(n, table, relationOf));
}

/** The table reference a scan node reads; each reference is matched once unless `used` is omitted. */
export function tableOfNode(blocks: QueryBlock[], node: PlanNode, relationOf: RelationOf, used?: Set<TableRef>): TableRef | undefined {
  for (const block of blocks) {
    for (const t of block.tables) {
      if (used?.has(t)) continue;
      if (nodeReads(node, t, relationOf)) return t;
    }
  }
  return undefined;
}

/** Where a finding about a plan node goes: the name of the table it reads (directly or below), else the statement's first word. */
export function nodeSpanInStatement(
  stmt: ParsedStatement,
  node: PlanNode,
  relationOf: RelationOf,
): { span: Span; table?: TableRef } {
  if (stmt.parse.ok) {
    for (const n of planNodes(node)) {
      const table = n['Relation Name'] ? tableOfNode(stmt.blocks, n, relationOf) : undefined;
      if (table) return { span: tableNameSpan(table, stmt.tokens, stmt.parse.conv), table };
    }
  }
  const first = stmt.tokens[0];
  return { span: first ? { start: first.start, end: first.end } : { start: 0, end: Math.min(1, stmt.text.length) } };
}
