// seq-scan-large-table: the plan reads every row of a large table to apply a filter — or a SELECT sends a
// whole large table to the client with no filter and no LIMIT.
import { hasAggregate, tableNameSpan, type TableRef } from '../ast';
import { adviseIndexes } from '../advisor';
import { planNodes } from '../plan';
import { tableOfNode } from '../scans';
import { describeSize, isLarge, nodeFactor } from '../size';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

/** Filters keeping more than this share of the rows are not reported. */
const MAX_KEPT_SHARE = 0.1;

export const seqScanLargeTable: PlanRule = {
  id: 'seq-scan-large-table',
  title: 'A sequential scan reads a whole large table to apply a filter, or returns all of it',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    const used = new Set<TableRef>();
    for (const node of planNodes(ctx.plan)) {
      if (node['Node Type'] !== 'Seq Scan') continue;
      const table = tableOfNode(stmt.blocks, node, ctx.relation, used);
      if (!table) continue;
      used.add(table);
      const size = ctx.size(table) ?? { rows: node['Plan Rows'], configured: false };
      if (!isLarge(size, settings)) continue;
      const span = tableNameSpan(table, stmt.tokens, stmt.parse.conv);
      if (node.Filter) {
        // A filter that keeps most rows is no job for an index: reading the table is the right plan.
        const scanned = ctx.relationByName(node.Schema, node['Relation Name'] ?? '')?.reltuples ?? -1;
        if (scanned > 0 && node['Plan Rows'] > MAX_KEPT_SHARE * scanned) continue;
        const advice = adviseIndexes({ table, ctx });
        const covered = advice.coveredBy
          ? ` The index ${advice.coveredBy.name} already has these columns, but the planner expects too many rows for it to pay off here.`
          : '';
        findings.push({
          ruleId: this.id,
          message:
            `Seq Scan on ${table.relname}: reads all ${describeSize(size, formatNumber)} to apply the filter ` +
            `${node.Filter} (cost ${formatNumber(node['Total Cost'])}, ~${formatNumber(node['Plan Rows'])} rows kept).${covered}`,
          span,
          table,
          fixes: advice.fixes,
        });
      } else if (returnsWholeTable(ctx, table)) {
        const rows = Math.round(ctx.plan['Plan Rows'] * nodeFactor(ctx.plan, ctx.relationByName, settings));
        findings.push({
          ruleId: this.id,
          message:
            `Seq Scan on ${table.relname} with no filter and no LIMIT: the statement returns all ` +
            `~${formatNumber(rows)} rows${size.configured ? ' (sqlInsight.tableSizes)' : ''} to the client. ` +
            'Filter it, or page through it with LIMIT and keyset pagination.',
          span,
          table,
        });
      }
    }
    return findings;
  },
};

/**
 * An unfiltered scan is fine when the statement genuinely needs every row (aggregates, a join that filters,
 * INSERT … SELECT); it is a problem when a SELECT streams them all out: the top block has no WHERE, no LIMIT,
 * no aggregate or grouping, and the plan's result is itself large.
 */
function returnsWholeTable(ctx: RuleContext, table: TableRef): boolean {
  const top = ctx.stmt.blocks[0];
  if (!top || top.kind !== 'select' || table.block !== top) return false;
  const n = top.node;
  if (n.whereClause || n.limitCount || n.groupClause || n.havingClause || n.distinctClause || n.valuesLists) return false;
  if (top.joinQuals.length > 0 || top.tables.length !== 1 || hasAggregate(n.targetList)) return false;
  return isLarge({ rows: ctx.plan['Plan Rows'] * nodeFactor(ctx.plan, ctx.relationByName, ctx.settings), configured: false }, ctx.settings);
}
