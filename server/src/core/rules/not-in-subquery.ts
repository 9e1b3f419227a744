// not-in-subquery: `x NOT IN (SELECT col …)` where `col` can be NULL. One NULL in the subquery makes the
// predicate NULL for every row (no rows at all), and NOT IN is never planned as an anti-join; NOT EXISTS
// has neither problem.
import { columnRefOf, conjuncts, nodeSpan, resolveColumn, type QueryBlock } from '../ast';
import type { AstNode } from '../parse';
import { planNodes } from '../plan';
import { columnChecker } from '../predicates';
import { sameDefault, type Finding, type PlanRule, type RuleContext } from './types';

export const notInSubquery: PlanRule = {
  id: 'not-in-subquery',
  title: 'NOT IN (SELECT …) on a nullable column: wrong results with NULLs, and no anti-join',
  needs: 'plan',
  defaults: sameDefault('warning'),
  check(ctx: RuleContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    const subplan = planNodes(ctx.plan).some((n) => /SubPlan/.test(String(n.Filter ?? '')) || n['Parent Relationship'] === 'SubPlan');
    for (const block of stmt.blocks) {
      for (const pred of conjuncts(block.where)) {
        const sub = notInSubLink(pred);
        if (!sub) continue;
        const inner = stmt.blocks.find((b) => b.node === sub.subselect?.SelectStmt);
        const target = inner?.node.targetList?.length === 1 ? inner.node.targetList[0]?.ResTarget?.val : undefined;
        const ref = columnRefOf(target);
        if (!inner || !ref) continue;
        const table = resolveColumn(ref, inner, columnChecker(ctx.relation));
        const column = table && ctx.relation(table)?.columns.find((c) => c.name === ref.column);
        if (!table || !column || column.notNull || excludesNulls(inner, ref.column)) continue;
        const span = nodeSpan(pred, stmt.tokens, stmt.parse.conv);
        if (!span) continue;
        const outer = outerTable(block, sub.testexpr, ctx);
        findings.push({
          ruleId: this.id,
          message:
            `NOT IN over ${table.relname}.${ref.column}, which can be NULL: if the subquery returns a single NULL, ` +
            'NOT IN is NULL for every row and the query returns nothing. NOT IN also cannot become an anti-join' +
            `${subplan ? ' (the plan runs a SubPlan instead)' : ''}. Write it as \`NOT EXISTS (SELECT 1 FROM ` +
            `${table.relname} WHERE ${table.relname}.${ref.column} = …)\`, or filter the NULLs out in the subquery.`,
          span,
          table: outer,
        });
      }
    }
    return findings;
  },
};

function notInSubLink(pred: AstNode): AstNode | undefined {
  const b = pred?.BoolExpr;
  if (b?.boolop !== 'NOT_EXPR' || b.args?.length !== 1) return undefined;
  const s = b.args[0]?.SubLink;
  return s?.subLinkType === 'ANY_SUBLINK' ? s : undefined;
}

/** `WHERE col IS NOT NULL` in the subquery makes it safe. */
function excludesNulls(block: QueryBlock, column: string): boolean {
  return conjuncts(block.where).some((c) => c?.NullTest?.nulltesttype === 'IS_NOT_NULL' && columnRefOf(c.NullTest.arg)?.column === column);
}

/** The outer table whose rows are filtered, so that a full-scan finding on it is not repeated. */
function outerTable(block: QueryBlock, testexpr: AstNode, ctx: RuleContext) {
  const ref = columnRefOf(testexpr);
  return ref ? resolveColumn(ref, block, columnChecker(ctx.relation)) : undefined;
}
