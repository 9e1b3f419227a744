// disk-sort-or-hash (EXPLAIN ANALYZE): a Sort or a hash aggregate ran out of work_mem and spilled to disk.
import { walkPlan, type PlanNode } from '../plan';
import { nodeSpanInStatement } from '../scans';
import { formatNumber } from '../sqlText';
import { sameDefault, type AnalyzeRule, type Finding, type RuleContext } from './types';

export const diskSortOrHash: AnalyzeRule = {
  id: 'disk-sort-or-hash',
  title: 'EXPLAIN ANALYZE: a sort or hash aggregate spilled to disk (work_mem too small for it)',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    walkPlan(ctx.plan, (n) => {
      const what = spill(n);
      if (!what) return;
      const where = nodeSpanInStatement(ctx.stmt, n, ctx.relation);
      findings.push({
        ruleId: this.id,
        message:
          `${n['Node Type']} spilled to disk: ${what}. Disk is much slower than memory: raise work_mem for this ` +
          "query (`SET LOCAL work_mem = '64MB'` in its transaction), read fewer rows or columns into it, or — for a " +
          'sort — let an index deliver the rows in order.',
        span: where.span,
      });
    });
    return findings;
  },
};

function spill(n: PlanNode): string | undefined {
  const method = String(n['Sort Method'] ?? '');
  if (n['Node Type'] === 'Sort' && (n['Sort Space Type'] === 'Disk' || /external/.test(method))) {
    return `${method || 'external sort'}, ${formatNumber(Number(n['Sort Space Used'] ?? 0))} kB on disk`;
  }
  const batches = Number(n['HashAgg Batches'] ?? 0);
  const disk = Number(n['Disk Usage'] ?? 0);
  if (n['Node Type'] === 'Aggregate' && (batches > 1 || disk > 0)) {
    return `${formatNumber(batches)} batches, ${formatNumber(disk)} kB on disk`;
  }
  return undefined;
}
