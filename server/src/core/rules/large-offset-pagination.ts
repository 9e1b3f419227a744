// large-offset-pagination: `OFFSET 5000` (or `OFFSET $1`, which grows page by page) makes PostgreSQL produce
// and discard every skipped row; keyset pagination (`WHERE (sort key) > last seen`) reads only the page.
import { columnRefOf, nodeSpan, widenOverWords } from '../ast';
import { formatNumber } from '../sqlText';
import { sameDefault, type Finding, type StatementContext, type SyntaxRule } from './types';

/** Constant offsets from here on are reported. */
const MIN_OFFSET = 1000;

export const largeOffsetPagination: SyntaxRule = {
  id: 'large-offset-pagination',
  title: 'OFFSET with a large constant or a parameter: every skipped row is still read',
  needs: 'syntax',
  defaults: sameDefault('warning'),
  check(ctx: StatementContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    for (const block of stmt.blocks) {
      const offset = block.node.limitOffset;
      if (!offset) continue;
      const value = offset.A_Const?.ival ? Number(offset.A_Const.ival.ival ?? 0) : undefined;
      if (offset.A_Const && (value === undefined || value < MIN_OFFSET)) continue;
      const span = nodeSpan(offset, stmt.tokens, stmt.parse.conv);
      if (!span) continue;
      const keys = block.sortClause.map((s) => columnRefOf(s.SortBy?.node)?.column).filter((c): c is string => Boolean(c));
      const keyset =
        keys.length > 0
          ? `WHERE (${keys.join(', ')}) > (${keys.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY ${keys.join(', ')} LIMIT …`
          : 'WHERE (sort key, id) > (last seen) ORDER BY sort key, id LIMIT …';
      findings.push({
        ruleId: this.id,
        message:
          (value !== undefined
            ? `OFFSET ${formatNumber(value)} makes PostgreSQL read and throw away ${formatNumber(value)} rows before the page it returns`
            : `OFFSET ${stmt.text.slice(span.start, span.end)} grows with every page, and PostgreSQL reads and throws away every skipped row`) +
          `, so each page is slower than the one before. Use keyset pagination: remember the last row's sort key and ask for \`${keyset}\`` +
          (keys.length > 0 ? ' (add a unique column such as id to the key if it is not unique).' : '.'),
        span: widenOverWords(span, stmt.tokens, ['ROWS', 'ROW'], ['OFFSET']),
      });
    }
    return findings;
  },
};
