// or-across-columns: `a = x OR b = y` on different columns of a large table. One B-tree cannot serve both
// sides; with an index on each column PostgreSQL combines them (BitmapOr), without one it scans everything.
import { conjuncts, nodeSpan, resolveColumn, type TableRef } from '../ast';
import { specBase } from '../advisor';
import { indexFix } from '../indexFix';
import type { AstNode } from '../parse';
import { blockPredicates, columnChecker, comparisonsIn, othersIndependentOf, plainColumn } from '../predicates';
import { scanNodesFor } from '../scans';
import { describeSize, isLarge } from '../size';
import { formatNumber, quoteIdent } from '../sqlText';
import { sameDefault, type Finding, type IndexFix, type PlanRule, type RuleContext } from './types';

export const orAcrossColumns: PlanRule = {
  id: 'or-across-columns',
  title: 'OR across different columns forces a full scan where separate indexes or a UNION would serve',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    for (const block of stmt.blocks) {
      for (const pred of blockPredicates(block)) {
        if (pred?.BoolExpr?.boolop !== 'OR_EXPR') continue;
        const sides = orSides(pred, ctx, block);
        if (!sides) continue;
        const { table, columns } = sides;
        if (columns.length < 2) continue;
        const info = ctx.relation(table);
        const size = ctx.size(table);
        if (!info || !isLarge(size, ctx.settings)) continue;
        const scan = scanNodesFor(ctx.plan, table, ctx.relation).find((n) => n['Node Type'] === 'Seq Scan' && /\bOR\b/.test(String(n.Filter ?? '')));
        if (!scan) continue;
        const missing = columns.filter((c) => !info.indexes.some((ix) => ix.keyColumns[0] === c && ix.predicate === null));
        if (missing.length === 0) continue;
        const span = nodeSpan(pred, stmt.tokens, stmt.parse.conv);
        if (!span) continue;
        const fixes: IndexFix[] =
          missing.length === 1
            ? [indexFix({ ...specBase(table, info), elements: [quoteIdent(missing[0])], nameParts: [missing[0]], expression: false })]
            : [];
        findings.push({
          ruleId: this.id,
          message:
            `\`${stmt.text.slice(span.start, span.end)}\` spans the columns ${columns.join(', ')} of ${table.relname}: one ` +
            `index cannot serve both sides, and ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no index, ` +
            `so Seq Scan on ${table.relname} reads ${describeSize(size, formatNumber)} (cost ${formatNumber(scan['Total Cost'])}). ` +
            `With an index on each column PostgreSQL combines them (BitmapOr); or split the query into a UNION of ` +
            'one indexed lookup per column.',
          span,
          table,
          fixes,
        });
      }
    }
    return findings;
  },
};

/** The columns an OR compares, when every branch compares one plain column of the same table with values. */
function orSides(pred: AstNode, ctx: RuleContext, block: TableRef['block']): { table: TableRef; columns: string[] } | undefined {
  let table: TableRef | undefined;
  const columns: string[] = [];
  for (const arg of pred.BoolExpr.args ?? []) {
    const parts = conjuncts(arg);
    let branchHasColumn = false;
    for (const part of parts) {
      const cmp = comparisonsIn(part).find((c) => plainColumn(c.subject));
      if (!cmp) continue;
      const ref = plainColumn(cmp.subject)!;
      const t = resolveColumn(ref, block, columnChecker(ctx.relation));
      if (!t || (table && t !== table) || !othersIndependentOf(cmp.others, t, block, ctx.relation)) return undefined;
      table = t;
      branchHasColumn = true;
      if (!columns.includes(ref.column)) columns.push(ref.column);
      break;
    }
    if (!branchHasColumn) return undefined;
  }
  return table ? { table, columns } : undefined;
}
