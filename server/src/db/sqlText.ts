// Small pieces of SQL text handling: identifier quoting and mapping PostgreSQL error positions back.
import { OffsetConverter } from '../core/positions';
import type { QualifiedName } from '../core/ports';

/** Quotes an identifier the way PostgreSQL's quote_ident would when quoting is needed (always, here). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function quoteQualified(q: QualifiedName): string {
  return q.schema ? `${quoteIdent(q.schema)}.${quoteIdent(q.name)}` : quoteIdent(q.name);
}

/**
 * Converts PostgreSQL's error position (1-based, counted in characters of the server encoding, over the
 * whole text we sent) into a 0-based UTF-16 offset into the user's SQL, which followed `prefixChars`
 * characters of our own. Returns undefined when the position is not inside the user's SQL (the end of
 * the text counts as inside: "syntax error at end of input").
 * With the SQL_ASCII server encoding PostgreSQL counts bytes, so `countBytes` switches to UTF-8 bytes.
 */
export function errorPositionToOffset(
  position: string | number | undefined,
  prefixChars: number,
  sql: string,
  countBytes = false,
): number | undefined {
  const p = typeof position === 'string' ? Number.parseInt(position, 10) : position;
  if (p === undefined || !Number.isInteger(p) || p < 1) return undefined;
  // Our prefix is ASCII, so it is as many bytes as characters.
  const inSql = p - 1 - prefixChars;
  if (inSql < 0) return undefined;
  const total = countBytes ? Buffer.byteLength(sql, 'utf8') : codePointCount(sql);
  if (inSql > total) return undefined;
  const conv = new OffsetConverter(sql);
  return countBytes ? conv.fromUtf8(inSql) : conv.fromCodePoints(inSql);
}

function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}
