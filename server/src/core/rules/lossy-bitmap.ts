// lossy-bitmap (EXPLAIN ANALYZE): a bitmap heap scan's bitmap did not fit in work_mem, so it degraded to
// whole pages and every row on them had to be rechecked.
import { walkPlan } from '../plan';
import { nodeSpanInStatement } from '../scans';
import { formatNumber } from '../sqlText';
import { sameDefault, type AnalyzeRule, type Finding, type RuleContext } from './types';

export const lossyBitmap: AnalyzeRule = {
  id: 'lossy-bitmap',
  title: 'EXPLAIN ANALYZE: a bitmap heap scan went lossy (work_mem too small for the bitmap)',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    walkPlan(ctx.plan, (n) => {
      if (n['Node Type'] !== 'Bitmap Heap Scan') return;
      const lossy = Number(n['Lossy Heap Blocks'] ?? 0);
      if (lossy <= 0) return;
      const where = nodeSpanInStatement(ctx.stmt, n, ctx.relation);
      findings.push({
        ruleId: this.id,
        message:
          `Bitmap Heap Scan on ${String(n['Relation Name'] ?? 'the table')}: ${formatNumber(lossy)} lossy heap blocks ` +
          `(${formatNumber(Number(n['Exact Heap Blocks'] ?? 0))} exact). The bitmap outgrew work_mem and kept whole ` +
          `pages instead of rows, so every row on them was rechecked (${formatNumber(Number(n['Rows Removed by Index Recheck'] ?? 0))} ` +
          "removed by the recheck). Raise work_mem for this query (`SET LOCAL work_mem = '64MB'`), or make the " +
          'condition more selective.',
        span: where.span,
      });
    });
    return findings;
  },
};
