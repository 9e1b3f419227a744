// hash-batches (EXPLAIN ANALYZE): a hash join's hash table did not fit in work_mem and was split into
// batches written to temporary files.
import { walkPlan } from '../plan';
import { nodeSpanInStatement } from '../scans';
import { formatNumber } from '../sqlText';
import { sameDefault, type AnalyzeRule, type Finding, type RuleContext } from './types';

export const hashBatches: AnalyzeRule = {
  id: 'hash-batches',
  title: 'EXPLAIN ANALYZE: a hash join needed more than one batch (its hash table spilled to disk)',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    walkPlan(ctx.plan, (n) => {
      if (n['Node Type'] !== 'Hash') return;
      const batches = Number(n['Hash Batches'] ?? 0);
      if (batches <= 1) return;
      const planned = Number(n['Original Hash Batches'] ?? batches);
      const where = nodeSpanInStatement(ctx.stmt, n, ctx.relation);
      findings.push({
        ruleId: this.id,
        message:
          `The hash of ${where.table ? where.table.relname : 'the inner side'} needed ${formatNumber(batches)} batches` +
          `${planned !== batches ? ` (planned ${formatNumber(planned)})` : ''}, peak memory ` +
          `${formatNumber(Number(n['Peak Memory Usage'] ?? 0))} kB: the rest went through temporary files. Raise ` +
          "work_mem for this query (`SET LOCAL work_mem = '64MB'`), or hash fewer rows or narrower ones (filter " +
          'that side first, select fewer columns).',
        span: where.span,
      });
    });
    return findings;
  },
};
