// The catalog lookup every Planner shares: relations by name, with columns and indexes, in one round trip.
import { relationKey, type IndexInfo, type QualifiedName, type RelationInfo } from '../core/ports';
import type { StatementRunner } from './explain';
import { quoteQualified } from './sqlText';

/** Describes the named relations inside the caller's transaction; unknown names are left out. */
export async function lookUpRelations(s: StatementRunner, names: QualifiedName[]): Promise<Map<string, RelationInfo>> {
  const result = new Map<string, RelationInfo>();
  const wanted = describable(names);
  if (wanted.length === 0) return result;
  const r = await s.run(DESCRIBE_SQL, { values: [wanted.map(quoteQualified)] });
  for (const row of r.rows as unknown as DescribeRow[]) {
    const input = wanted[row.ord - 1];
    if (input) result.set(relationKey(input), toRelationInfo(row));
  }
  return result;
}

/** Empty identifiers cannot be quoted ("" is a syntax error for to_regclass) and name nothing anyway. */
export function describable(names: QualifiedName[]): QualifiedName[] {
  return names.filter((n) => n.name !== '' && n.schema !== '');
}

interface DescribeRow {
  ord: number;
  schema: string;
  name: string;
  kind: string;
  reltuples: number;
  relpages: number;
  columns: Array<{ name: string; type: string; notNull: boolean }>;
  indexes: Array<Omit<IndexInfo, 'keyColumns' | 'keyDefs'> & { keyColumns: (string | null)[] | null; keyDefs: string[] | null }>;
}

// One round trip for all names. The names arrive as quoted identifiers, so to_regclass resolves exactly
// what SQL would (unqualified names through search_path) and never fails on odd characters.
const DESCRIBE_SQL = `
WITH input AS (
  SELECT i.ord::int AS ord, to_regclass(i.ref) AS oid
  FROM unnest($1::text[]) WITH ORDINALITY AS i(ref, ord)
)
SELECT i.ord,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       c.reltuples::float8 AS reltuples,
       c.relpages::int AS relpages,
       COALESCE((
         SELECT json_agg(json_build_object(
                  'name', a.attname,
                  'type', format_type(a.atttypid, a.atttypmod),
                  'notNull', a.attnotnull) ORDER BY a.attnum)
         FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       ), '[]'::json) AS columns,
       COALESCE((
         SELECT json_agg(json_build_object(
                  'name', ic.relname,
                  'unique', x.indisunique,
                  'primary', x.indisprimary,
                  'method', am.amname,
                  'keyColumns', (
                    SELECT json_agg(a.attname ORDER BY k.n)
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum <> 0
                    WHERE k.n <= x.indnkeyatts),
                  'keyDefs', (
                    SELECT json_agg(pg_get_indexdef(x.indexrelid, k.n, true) ORDER BY k.n)
                    FROM generate_series(1, x.indnkeyatts::int) AS k(n)),
                  'predicate', pg_get_expr(x.indpred, x.indrelid, true),
                  'definition', pg_get_indexdef(x.indexrelid)) ORDER BY ic.relname)
         FROM pg_index x
         JOIN pg_class ic ON ic.oid = x.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         WHERE x.indrelid = c.oid
       ), '[]'::json) AS indexes
FROM input i
JOIN pg_class c ON c.oid = i.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY i.ord`;

function toRelationInfo(row: DescribeRow): RelationInfo {
  return {
    schema: row.schema,
    name: row.name,
    kind: row.kind,
    reltuples: row.reltuples,
    relpages: row.relpages,
    columns: row.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })),
    indexes: row.indexes.map((x) => ({
      name: x.name,
      unique: x.unique,
      primary: x.primary,
      method: x.method,
      keyColumns: x.keyColumns ?? [],
      keyDefs: x.keyDefs ?? [],
      predicate: x.predicate ?? null,
      definition: x.definition,
    })),
  };
}
