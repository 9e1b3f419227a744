// Decides whether a string handed to a generic method such as `.query(…)` is SQL at all: `cache.query('user:1')`
// must never reach the database. Only the first keyword is looked at, after whitespace, comments and parentheses.

const STATEMENT_KEYWORDS = new Set([
  'select', 'with', 'insert', 'update', 'delete', 'values', 'table', 'merge', 'explain',
  'create', 'alter', 'drop', 'truncate', 'copy', 'grant', 'revoke', 'comment', 'analyze',
  'vacuum', 'refresh', 'reindex', 'cluster', 'call',
]);

export function startsLikeSql(text: string): boolean {
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (/\s/.test(text[i]) || text[i] === '(')) i++;
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return false;
      i = nl + 1;
    } else if (text.startsWith('/*', i)) {
      // PostgreSQL block comments nest.
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      } while (depth > 0 && i < n);
      if (depth > 0) return false;
    } else {
      break;
    }
  }
  // The keyword must be followed by what follows a keyword in SQL (space, `(`, `*`, `;` or the end), so keys
  // such as `select-from-cache` or `update:1` are not taken for statements.
  const m = /^[A-Za-z]+(?=$|[\s(*;])/.exec(text.slice(i, i + 16));
  return m !== null && STATEMENT_KEYWORDS.has(m[0].toLowerCase());
}
