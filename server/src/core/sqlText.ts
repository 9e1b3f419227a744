// Small helpers for writing SQL text: identifiers, index names, number formatting.

const PLAIN_IDENT = /^[a-z_][a-z0-9_$]*$/;

/** Quotes an identifier when PostgreSQL would not read it back unchanged. */
export function quoteIdent(name: string): string {
  return PLAIN_IDENT.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedName(schema: string | undefined, name: string): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
}

/** `<table>_<parts>_idx`, lower-case, at most 63 bytes (PostgreSQL's identifier limit). */
export function indexName(table: string, parts: string[]): string {
  const slug = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  let name = [slug(table), ...parts.map(slug).filter(Boolean), 'idx'].join('_');
  if (name.length > 63) name = name.slice(0, 59).replace(/_+$/, '') + '_idx';
  return name;
}

/** `4,927` for large numbers, `8.4` for small ones: costs as a person reads them. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // toLocaleString builds a formatter per call (about 0.1 ms each); findings format several numbers apiece.
  numberFormats ??= [0, 1, 2].map((digits) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }));
  return numberFormats[Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 1 ? 1 : 2].format(n);
}

let numberFormats: Intl.NumberFormat[] | undefined;

// Reserved keywords that cannot be bare identifiers (enough for table and column names people use).
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable ' +
    'desc distinct do else end except false fetch for foreign from grant group having in initially intersect ' +
    'into lateral leading limit localtime localtimestamp not null offset on only or order placing primary ' +
    'references returning select session_user some symmetric system_user table then to trailing true union ' +
    'unique user using variadic when where window with'
  ).split(' '),
);
