// row-estimate-misleading (EXPLAIN ANALYZE): the planner expected a number of rows 10× off from what the
// node produced. Every choice above it (join method, join order, memory) was made for the wrong size.
import { columnRefsIn, resolveColumn } from '../ast';
import { walkPlan, type PlanNode } from '../plan';
import { blockPredicates, columnChecker } from '../predicates';
import { nodeSpanInStatement } from '../scans';
import { formatNumber, indexName, qualifiedName, quoteIdent } from '../sqlText';
import { sameDefault, type Finding, type AnalyzeRule, type RuleContext } from './types';

const FACTOR = 10;
/** Misestimates of a few rows do not matter; at least this many rows must be involved. */
const MIN_ROWS = 100;
const MAX_FINDINGS = 2;

export const rowEstimateMisleading: AnalyzeRule = {
  id: 'row-estimate-misleading',
  title: 'EXPLAIN ANALYZE: actual rows 10× off the estimate, so the plan was chosen for the wrong size',
  needs: 'analyze',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const off = new Set<PlanNode>();
    const stoppedEarly = new Set<PlanNode>();
    walkPlan(ctx.plan, (n, _depth, parent) => {
      // Below a LIMIT, a Merge Join or a semi/anti join a node may be stopped before it returns all its rows:
      // fewer actual rows than estimated is expected there.
      if (parent && (stoppedEarly.has(parent) || parent['Node Type'] === 'Limit' || parent['Node Type'] === 'Merge Join' || /Semi|Anti/.test(String(parent['Join Type'] ?? '')))) {
        stoppedEarly.add(n);
      }
      if (misestimate(n) && !(stoppedEarly.has(n) && Number(n['Actual Rows']) < n['Plan Rows'])) off.add(n);
    });
    // Report where a misestimate starts, not every node above it that inherits it.
    const origins = [...off].filter((n) => !(n.Plans ?? []).some((c) => subtreeHas(c, off)));
    const findings: Finding[] = [];
    for (const node of origins.slice(0, MAX_FINDINGS)) {
      const est = node['Plan Rows'];
      const act = Number(node['Actual Rows']);
      const where = nodeSpanInStatement(stmt, node, ctx.relation);
      const table = where.table;
      let advice = 'Run ANALYZE on the tables involved so that their statistics are current.';
      if (table && node['Relation Name']) {
        const cols = filterColumns(ctx, table);
        const name = qualifiedName(table.schema, table.relname);
        advice =
          cols.length >= 2
            ? `If \`ANALYZE ${name}\` does not fix it, the filtered columns are probably correlated: ` +
              `\`CREATE STATISTICS ${indexName(table.relname, [...cols, 'stats']).replace(/_idx$/, '')} (dependencies, mcv) ON ` +
              `${cols.map(quoteIdent).join(', ')} FROM ${name}; ANALYZE ${name};\``
            : `Run \`ANALYZE ${name}\` so that its statistics are current; if the estimate stays off, raise the ` +
              'column\'s statistics target (`ALTER TABLE … ALTER COLUMN … SET STATISTICS 1000`).';
      }
      findings.push({
        ruleId: this.id,
        message:
          `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}: estimated ` +
          `${formatNumber(est)} rows, actually ${formatNumber(act)}${Number(node['Actual Loops'] ?? 1) > 1 ? ' per loop' : ''} ` +
          `(${ratioText(est, act)}). The plan above it was chosen for the wrong size. ${advice}`,
        span: where.span,
        ...(table ? { table } : {}),
      });
    }
    return findings;
  },
};

function misestimate(n: PlanNode): boolean {
  if (typeof n['Actual Rows'] !== 'number' || Number(n['Actual Loops'] ?? 0) === 0) return false;
  const est = Math.max(n['Plan Rows'], 1);
  const act = Math.max(n['Actual Rows'], 1);
  const loops = Number(n['Actual Loops'] ?? 1);
  return Math.max(est, act) * loops >= MIN_ROWS && Math.max(est / act, act / est) >= FACTOR;
}

function subtreeHas(n: PlanNode, set: Set<PlanNode>): boolean {
  if (set.has(n)) return true;
  return (n.Plans ?? []).some((c) => subtreeHas(c, set));
}

function ratioText(est: number, act: number): string {
  const e = Math.max(est, 1);
  const a = Math.max(act, 1);
  return a >= e ? `${formatNumber(Math.round(a / e))}× more` : `${formatNumber(Math.round(e / a))}× fewer`;
}

/** Plain columns of `table` in its block's predicates, for extended statistics. */
function filterColumns(ctx: RuleContext, table: NonNullable<ReturnType<typeof nodeSpanInStatement>['table']>): string[] {
  const cols: string[] = [];
  for (const pred of blockPredicates(table.block)) {
    for (const ref of columnRefsIn(pred)) {
      if (resolveColumn(ref, table.block, columnChecker(ctx.relation)) === table && !cols.includes(ref.column)) cols.push(ref.column);
    }
  }
  return cols;
}
