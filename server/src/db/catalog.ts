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
  columns: Array<{ name: string; type: string; notNull: boolean; stats: DescribeStats | null }>;
  foreignKeys: Array<{ name: string; columns: string[]; refSchema: string; refName: string; refColumns: string[] }>;
  partitions: Array<{ schema: string; name: string }>;
  indexes: Array<Omit<IndexInfo, 'keyColumns' | 'keyDefs'> & { keyColumns: (string | null)[] | null; keyDefs: string[] | null }>;
}

interface DescribeStats {
  nullFrac: number;
  nDistinct: number;
  mcv: string[] | null;
  mcf: number[] | null;
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
                  'notNull', a.attnotnull,
                  'stats', (
                    SELECT json_build_object(
                             'nullFrac', s.null_frac,
                             'nDistinct', s.n_distinct,
                             'mcv', s.most_common_vals::text::text[],
                             'mcf', s.most_common_freqs)
                    FROM pg_stats s
                    WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
                    ORDER BY s.inherited = (c.relkind = 'p') DESC
                    LIMIT 1)) ORDER BY a.attnum)
         FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       ), '[]'::json) AS columns,
       COALESCE((
         SELECT json_agg(json_build_object(
                  'name', k.conname,
                  'columns', (SELECT json_agg(a.attname ORDER BY u.n)
                                FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
                  'refSchema', rn.nspname,
                  'refName', rc.relname,
                  'refColumns', (SELECT json_agg(a.attname ORDER BY u.n)
                                   FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, n)
                                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum))
                ORDER BY k.conname)
         FROM pg_constraint k
         JOIN pg_class rc ON rc.oid = k.confrelid
         JOIN pg_namespace rn ON rn.oid = rc.relnamespace
         WHERE k.conrelid = c.oid AND k.contype = 'f'
       ), '[]'::json) AS "foreignKeys",
       COALESCE((
         SELECT json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname) ORDER BY pc.relname)
         FROM pg_inherits h
         JOIN pg_class pc ON pc.oid = h.inhrelid
         JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE h.inhparent = c.oid AND c.relkind = 'p'
       ), '[]'::json) AS partitions,
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
    columns: row.columns.map((c) => {
      const col: RelationInfo['columns'][number] = { name: c.name, type: c.type, notNull: c.notNull };
      if (c.stats) {
        col.stats = {
          nullFrac: c.stats.nullFrac,
          nDistinct: c.stats.nDistinct,
          mostCommonValues: c.stats.mcv ?? [],
          mostCommonFreqs: c.stats.mcf ?? [],
        };
      }
      return col;
    }),
    foreignKeys: (row.foreignKeys ?? []).map((k) => ({
      name: k.name,
      columns: k.columns,
      references: { schema: k.refSchema, name: k.refName },
      referencedColumns: k.refColumns,
    })),
    partitions: (row.partitions ?? []).map((p) => ({ schema: p.schema, name: p.name })),
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
