// select-star: `SELECT *` in the result of a query that code runs. It fetches every column, today's and any
// added later, and rules out index-only scans. Off in .sql files (ad-hoc queries), on in embedded SQL.
import { nodeSpan, type QueryBlock } from '../ast';
import type { AstNode } from '../parse';
import type { Finding, StatementContext, SyntaxRule } from './types';

export const selectStar: SyntaxRule = {
  id: 'select-star',
  title: 'SELECT * in the result of a query: over-fetching',
  needs: 'syntax',
  defaults: { sql: 'off', embedded: 'information' },
  check(ctx: StatementContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    for (const block of resultBlocks(stmt.blocks)) {
      for (const target of (block.node.targetList ?? []) as AstNode[]) {
        const ref = target?.ResTarget?.val?.ColumnRef;
        const fields: AstNode[] = ref?.fields ?? [];
        if (!fields.some((f) => f.A_Star)) continue;
        const span = nodeSpan(target.ResTarget.val, stmt.tokens, stmt.parse.conv);
        if (!span) continue;
        const written = stmt.text.slice(span.start, span.end);
        findings.push({
          ruleId: this.id,
          message:
            `\`${written}\` fetches every column${fields.length > 1 ? ` of ${fields[0].String?.sval}` : ''}, including ` +
            'any added later: more data over the wire and in memory, and no index-only scans. Name the columns ' +
            'the code uses.',
          span,
        });
      }
    }
    return findings;
  },
};

/** The blocks whose rows the statement returns: the top SELECT, the branches of a top UNION, RETURNING is not a block. */
function resultBlocks(blocks: QueryBlock[]): QueryBlock[] {
  const top = blocks[0];
  if (!top || top.kind !== 'select') return [];
  if (top.node.op && top.node.op !== 'SETOP_NONE') {
    const out: QueryBlock[] = [];
    const branches = (b: QueryBlock): void => {
      for (const child of blocks.filter((x) => x.parent === b && (x.node === b.node.larg || x.node === b.node.rarg))) {
        if (child.node.op && child.node.op !== 'SETOP_NONE') branches(child);
        else out.push(child);
      }
    };
    branches(top);
    return out;
  }
  return [top];
}
