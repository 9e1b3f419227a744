// n-plus-one: a query inside a loop of the host code that filters on a parameter — one round trip per item
// (the N+1 problem). One query for all items (`= ANY($1)` with an array, or a join) does the same work once.
import { nodeSpan } from '../ast';
import type { AstNode } from '../parse';
import { blockComparisons, plainColumn } from '../predicates';
import { sameDefault, type Finding, type StatementContext, type SyntaxRule } from './types';

export const nPlusOne: SyntaxRule = {
  id: 'n-plus-one',
  title: 'A query inside a loop of JS/TS code, once per item (N+1 queries)',
  needs: 'syntax',
  // Only JS/TS regions are ever in a loop; the level is the same everywhere.
  defaults: sameDefault('warning'),
  check(ctx: StatementContext): Finding[] {
    const { stmt } = ctx;
    const loop = stmt.region.loop;
    if (!loop || !stmt.parse.ok) return [];
    for (const block of stmt.blocks) {
      for (const cmp of blockComparisons(block)) {
        if (cmp.kind !== 'eq' || cmp.node.A_Expr?.kind !== 'AEXPR_OP' || !plainColumn(cmp.subject)) continue;
        if (!cmp.others.some(isParam)) continue;
        const span = nodeSpan(cmp.node, stmt.tokens, stmt.parse.conv);
        if (!span) continue;
        const column = plainColumn(cmp.subject)!.column;
        return [
          {
            ruleId: this.id,
            message:
              `This query runs once per iteration of the ${loop.kind} loop on line ${loop.line + 1}, each time for one ` +
              `${column}: N items cost N round trips (the N+1 problem). Fetch them in one query — ` +
              `\`WHERE ${column} = ANY($1)\` with an array of the values, or a join — and group the rows in code.`,
            span,
          },
        ];
      }
    }
    return [];
  },
};

function isParam(n: AstNode): boolean {
  const v = n?.TypeCast ? n.TypeCast.arg : n;
  return Boolean(v?.ParamRef);
}
