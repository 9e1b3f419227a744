// update-delete-without-where: an UPDATE or DELETE with no WHERE changes every row of its table. Sometimes
// meant (a migration script), rarely in request code: an Error there.
import { tableNameSpan, tokenIndexAt } from '../ast';
import type { Finding, StatementContext, SyntaxRule } from './types';

export const updateDeleteWithoutWhere: SyntaxRule = {
  id: 'update-delete-without-where',
  title: 'UPDATE or DELETE without WHERE: every row of the table',
  needs: 'syntax',
  defaults: { sql: 'warning', embedded: 'error' },
  check(ctx: StatementContext): Finding[] {
    const { stmt } = ctx;
    if (!stmt.parse.ok) return [];
    const findings: Finding[] = [];
    for (const block of stmt.blocks) {
      if ((block.kind !== 'update' && block.kind !== 'delete') || block.where) continue;
      const table = block.tables[0];
      if (!table) continue;
      const name = tableNameSpan(table, stmt.tokens, stmt.parse.conv);
      // From the UPDATE / DELETE keyword to the table name.
      let k = tokenIndexAt(stmt.tokens, name.start) - 1;
      const keyword = block.kind === 'update' ? 'UPDATE' : 'DELETE';
      while (k >= 0 && stmt.tokens[k].text.toUpperCase() !== keyword) k--;
      const span = { start: k >= 0 ? stmt.tokens[k].start : name.start, end: name.end };
      findings.push({
        ruleId: this.id,
        message:
          block.kind === 'delete'
            ? `DELETE without WHERE removes every row of ${table.relname}. If that is meant, TRUNCATE is faster; ` +
              'otherwise add the WHERE clause.'
            : `UPDATE without WHERE changes every row of ${table.relname}. If that is not meant, add the WHERE clause.`,
        span,
        table,
      });
    }
    return findings;
  },
};
