// heap-fetches (EXPLAIN ANALYZE): an Index Only Scan had to visit the table for many rows, because the
// visibility map does not mark their pages all-visible — the table needs a VACUUM.
import { walkPlan } from '../plan';
import { nodeSpanInStatement } from '../scans';
import { formatNumber, qualifiedName } from '../sqlText';
import { sameDefault, type AnalyzeRule, type Finding, type RuleContext } from './types';

const MIN_FETCHES = 100;
const MIN_SHARE = 0.1;

export const heapFetches: AnalyzeRule = {
  id: 'heap-fetches',
  title: 'EXPLAIN ANALYZE: an index-only scan fetched many rows from the table (needs VACUUM)',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    walkPlan(ctx.plan, (n) => {
      if (n['Node Type'] !== 'Index Only Scan') return;
      const loops = Number(n['Actual Loops'] ?? 1);
      // Heap Fetches is a total over all loops; Actual Rows is per loop.
      const fetches = Number(n['Heap Fetches'] ?? 0);
      const rows = Number(n['Actual Rows'] ?? 0) * loops;
      if (fetches < MIN_FETCHES || fetches < MIN_SHARE * rows) return;
      const where = nodeSpanInStatement(ctx.stmt, n, ctx.relation);
      const table = where.table ? qualifiedName(where.table.schema, where.table.relname) : String(n['Relation Name'] ?? 'the table');
      findings.push({
        ruleId: this.id,
        message:
          `Index Only Scan using ${String(n['Index Name'] ?? 'an index')} fetched ${formatNumber(fetches)} of ` +
          `${formatNumber(rows)} rows from the table: their pages are not marked all-visible, so the index alone ` +
          `could not answer. \`VACUUM ${table}\` updates the visibility map; if it keeps happening, make autovacuum ` +
          'visit the table more often (autovacuum_vacuum_insert_scale_factor / autovacuum_vacuum_scale_factor).',
        span: where.span,
      });
    });
    return findings;
  },
};
