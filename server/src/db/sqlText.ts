// Small pieces of SQL text handling: identifier quoting and mapping PostgreSQL error positions back.
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
  let remaining = p - 1 - prefixChars;
  if (remaining < 0) return undefined;
  let offset = 0;
  for (const ch of sql) {
    if (remaining === 0) return offset;
    const units = countBytes ? Buffer.byteLength(ch, 'utf8') : 1;
    // A byte position inside a multi-byte character maps to that character's start.
    if (remaining < units) return offset;
    remaining -= units;
    offset += ch.length;
  }
  return remaining === 0 ? offset : undefined;
}
