// sort-without-index: the plan sorts many rows for an ORDER BY (often only to keep the first few: top-N),
// where a B-tree on the equality columns followed by the sort columns would return them in order.
import { spanOfNodes, widenOverWords, type TableRef } from '../ast';
import { adviseIndexes, sortColumns } from '../advisor';
import { walkPlan, type PlanNode } from '../plan';
import { isLarge, nodeFactor } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

export const sortWithoutIndex: PlanRule = {
  id: 'sort-without-index',
  title: 'A large Sort (often feeding a LIMIT) that an index on the sort key would make unnecessary',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    // Row counts of empty tables (the embedded engine without row counts) say nothing about size.
    if (!stmt.parse.ok || ctx.statistics === 'none') return [];
    const findings: Finding[] = [];
    const sorts: { node: PlanNode; parent?: PlanNode }[] = [];
    walkPlan(ctx.plan, (node, _depth, parent) => {
      if (node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort') sorts.push({ node, parent });
    });
    for (const block of stmt.blocks) {
      if (block.sortClause.length === 0) continue;
      for (const table of block.tables) {
        const keys = sortColumns(block, table, ctx);
        if (!keys) continue;
        const sort = sorts.find((s) => keys.every((k) => (s.node['Sort Key'] ?? []).some((sk) => sortKeyIs(sk, table, k.column))));
        if (!sort) continue;
        const rows = sort.node['Plan Rows'] * nodeFactor(sort.node, ctx.relationByName, settings);
        if (!isLarge({ rows, configured: false }, settings)) continue;
        const span = spanOfNodes(block.sortClause.map((s) => s.SortBy?.node), stmt.tokens, stmt.parse.conv);
        if (!span) continue;
        const limit = sort.parent?.['Node Type'] === 'Limit' ? sort.parent : undefined;
        const advice = adviseIndexes({ table, ctx, sort: true });
        const what = limit
          ? `sorts ~${formatNumber(Math.round(rows))} rows to return the first ${formatNumber(limit['Plan Rows'])} (top-N)`
          : `sorts ~${formatNumber(Math.round(rows))} rows`;
        const covered = advice.coveredBy
          ? ` The index ${advice.coveredBy.name} has these columns, but the planner did not use it for the order.`
          : ' An index on the equality columns followed by the sort columns returns the rows already in order.';
        findings.push({
          ruleId: this.id,
          message:
            `ORDER BY on ${table.relname}: the plan ${what} (${sort.node['Node Type']}, cost ` +
            `${formatNumber(sort.node['Total Cost'])}, key ${(sort.node['Sort Key'] ?? []).join(', ')}).${covered}`,
          span: widenOverWords(span, stmt.tokens, ['ASC', 'DESC', 'NULLS', 'FIRST', 'LAST']),
          table,
          fixes: advice.fixes,
        });
      }
    }
    return findings;
  },
};

/** A Sort Key entry (`orders.created_at DESC`, `o.created_at`) names this table's column. */
function sortKeyIs(key: string, table: TableRef, column: string): boolean {
  const k = key.replace(/\s+(ASC|DESC|NULLS\s+(FIRST|LAST)|USING\s+\S+)\b/gi, '').trim();
  const bare = k.replace(/"/g, '');
  const partitionAlias = new RegExp(`^${escape(table.refName)}_\\d+\\.`);
  return bare === column || bare === `${table.refName}.${column}` || (partitionAlias.test(bare) && bare.endsWith(`.${column}`));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
