// Matching plan nodes to the statement's table references: by relation name and alias, and for a
// partitioned table by its partitions (whose nodes are named after the partition, aliased `events_1`, …).
import type { QueryBlock, TableRef } from './ast';
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
