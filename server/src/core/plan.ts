// PostgreSQL's EXPLAIN (FORMAT JSON) plan nodes, as far as the core reads them, and helpers to walk them.

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Alias?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  'Join Filter'?: string;
  'Hash Cond'?: string;
  'Merge Cond'?: string;
  'Sort Key'?: string[];
  'Parent Relationship'?: string;
  'Parallel Aware'?: boolean;
  'Startup Cost': number;
  'Total Cost': number;
  'Plan Rows': number;
  'Plan Width': number;
  'Actual Rows'?: number;
  'Actual Total Time'?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** Visits every node, parents before children. */
export function walkPlan(root: PlanNode, visit: (node: PlanNode, depth: number, parent?: PlanNode) => void): void {
  const go = (node: PlanNode, depth: number, parent?: PlanNode): void => {
    visit(node, depth, parent);
    for (const child of node.Plans ?? []) go(child, depth + 1, node);
  };
  go(root, 0);
}

export function planNodes(root: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  walkPlan(root, (n) => out.push(n));
  return out;
}

export function isSeqScan(node: PlanNode): boolean {
  return node['Node Type'] === 'Seq Scan';
}

export function isIndexScan(node: PlanNode): boolean {
  const t = node['Node Type'];
  return t === 'Index Scan' || t === 'Index Only Scan' || t === 'Bitmap Index Scan';
}

/** Names of all indexes the plan uses. */
export function indexesUsed(root: PlanNode): string[] {
  const names: string[] = [];
  walkPlan(root, (n) => {
    if (n['Index Name']) names.push(n['Index Name']);
  });
  return names;
}
