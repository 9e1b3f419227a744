// count-star-large-table: an exact count(*) over a large table. PostgreSQL keeps no row count (MVCC: each
// transaction may see a different one), so it visits every row, and the query slows down as the table grows.
import { functionCallsIn, nodeSpan, type TableRef } from '../ast';
import { planNodes, type PlanNode } from '../plan';
import { scanNodesFor } from '../scans';
import { isLarge, nodeFactor } from '../size';
import { formatNumber, qualifiedName } from '../sqlText';
import type { Finding, PlanRule, RuleContext } from './types';

export const countStarLargeTable: PlanRule = {
  id: 'count-star-large-table',
  title: 'An exact count(*) over a large table, which reads every row each time',
  needs: 'plan',
  defaults: { sql: 'information', embedded: 'warning' },
  check(ctx: RuleContext): Finding[] {
    const { stmt, settings } = ctx;
    // Row counts of empty tables (the embedded engine without row counts) say nothing about size.
    if (!stmt.parse.ok || ctx.statistics === 'none') return [];
    const findings: Finding[] = [];
    for (const block of stmt.blocks) {
      if (block.kind !== 'select' || block.node.groupClause || block.tables.length !== 1) continue;
      const count = functionCallsIn(block.node.targetList).find((f) => f.name === 'count' && !f.node.FuncCall.over);
      if (!count) continue;
      const table: TableRef = block.tables[0];
      const scans = scanNodesFor(ctx.plan, table, ctx.relation);
      if (scans.length === 0) continue;
      const rows = scans.reduce((n, s) => n + rowsRead(s, ctx), 0);
      if (!isLarge({ rows, configured: false }, settings)) continue;
      const span = nodeSpan(count.node, stmt.tokens, stmt.parse.conv);
      if (!span) continue;
      const whole = !block.where;
      const name = qualifiedName(table.schema, table.relname);
      findings.push({
        ruleId: this.id,
        message:
          `Exact count over ~${formatNumber(Math.round(rows))} rows of ${table.relname}: PostgreSQL keeps no row count, ` +
          'so it visits every row each time, and this gets slower as the table grows. ' +
          (whole
            ? `If an estimate will do, read it from the statistics: \`SELECT reltuples::bigint FROM pg_class WHERE oid = '${name}'::regclass\`; `
            : 'If an estimate will do, EXPLAIN\'s row estimate is free; ') +
          'for exact counts on a hot path, keep a counter, or cap it (`SELECT count(*) FROM (SELECT 1 … LIMIT 1000) s`).',
        span,
        table,
      });
    }
    return findings;
  },
};

/** Rows a scan hands to the aggregate: per process for parallel scans, times the processes. */
function rowsRead(scan: PlanNode, ctx: RuleContext): number {
  let rows = scan['Plan Rows'] * nodeFactor(scan, ctx.relationByName, ctx.settings);
  if (scan['Parallel Aware']) {
    const gather = planNodes(ctx.plan).find((n) => /^Gather/.test(n['Node Type']) && planNodes(n).includes(scan));
    // PostgreSQL's own divisor: the workers plus what is left of the leader (30 % less per worker).
    const workers = Number(gather?.['Workers Planned'] ?? 0);
    rows *= workers + Math.max(0, 1 - 0.3 * workers);
  }
  return rows;
}
