// The catalog lookup every Planner shares: relations by name, with columns and indexes, in one round trip.
import { relationKey, type IndexInfo, type QualifiedName, type RelationInfo, type SchemaVersions } from '../core/ports';
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

/**
 * Change markers for the named relations and for the database as a whole, in one round trip, inside the
 * caller's transaction. `scope` is prefixed to the global marker.
 */
export async function readSchemaVersions(
  s: StatementRunner,
  names: QualifiedName[],
  scope: string,
  /**
   * Our own rolled-back what-ifs' ANALYZE runs, which are not changes (see below): how far they moved each
   * table's analyze counter (`own`), and the counter from before for a table being analysed right now.
   */
  analyzes: { own: ReadonlyMap<string, number>; before: ReadonlyMap<string, number> } = { own: new Map(), before: new Map() },
): Promise<SchemaVersions> {
  const wanted = describable(names);
  const { own, before } = analyzes;
  const r = await s.run(SCHEMA_VERSIONS_SQL, {
    values: [wanted.map(quoteQualified), [...own.keys()], [...own.values()], [...before.keys()], [...before.values()]],
    name: 'sql_insight_markers',
  });
  const relations = new Map<string, string>();
  let global = '';
  for (const row of r.rows as unknown as Array<{ ord: number; marker: string }>) {
    if (row.ord === 0) global = row.marker;
    const input = wanted[row.ord - 1];
    if (input) relations.set(relationKey(input), row.marker);
  }
  return { scope: `${scope}|${global}`, relations };
}

// What a plan reads from the catalog, and what changes it, per relation — the named one plus, recursively,
// its partitions and inheritance children and the relations a view's query reads:
// - the pg_class row's xmin: every transactional update of the row (ALTER TABLE … that touches it, RENAME,
//   a rewrite that assigns a new relfilenode, REFRESH MATERIALIZED VIEW);
// - reltuples, relpages, relallvisible: VACUUM, ANALYZE and CREATE INDEX update these *in place*, which
//   leaves xmin alone, so they are read themselves;
// - the analyze counters: ANALYZE rewrites pg_statistic (not readable by everyone) even when the sizes stay.
//   A what-if's ANALYZE (inside a transaction that is rolled back) changes no statistics, but the counter
//   is not transactional and counts it all the same: those runs, counted by the planner, are subtracted,
//   and while one runs, the counter from before it stands in for the live one;
// - pg_attribute rows' xmin: ADD/DROP COLUMN, ALTER COLUMN TYPE / SET NOT NULL / SET STATISTICS, RENAME COLUMN;
// - each index (pg_index row and the index's pg_class row, its size): CREATE INDEX and DROP INDEX change the
//   list, REINDEX and ALTER INDEX the rows;
// - pg_constraint rows (join removal, constraint exclusion) and pg_rewrite rows (CREATE OR REPLACE VIEW).
// A frozen tuple reads as xmin 2: one needless replan, never a stale plan.
// Global (ord 0): the server version, the database's oid (dropped and recreated under the same name), and
// every user-defined function and extension (an inlined SQL function, a new overload, CREATE EXTENSION).
// Functions made after initdb are those with oids from FirstNormalObjectId (16384) on: a range scan of
// pg_proc's oid index instead of reading all of its ~3,000 built-in rows on every save.
// The query is a named prepared statement, planned once per connection: planning it cost more than
// running it (2.7 ms of ~8). Together: ~2.5 ms a save instead of ~8.
const SCHEMA_VERSIONS_SQL = `
WITH RECURSIVE input AS (
  SELECT i.ord::int AS ord, to_regclass(i.ref) AS oid
  FROM unnest($1::text[]) WITH ORDINALITY AS i(ref, ord)
), closure(ord, oid) AS (
  SELECT ord, oid::oid FROM input WHERE oid IS NOT NULL
  UNION
  SELECT c.ord, n.oid
  FROM closure c
  CROSS JOIN LATERAL (
    SELECT h.inhrelid FROM pg_inherits h WHERE h.inhparent = c.oid
    UNION
    SELECT d.refobjid FROM pg_rewrite r
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
     WHERE r.ev_class = c.oid AND d.refobjid <> c.oid
  ) AS n(oid)
)
SELECT c.ord,
       md5(string_agg(concat_ws(':',
         r.oid, r.xmin, r.relfilenode, r.reltuples, r.relpages, r.relallvisible,
         coalesce((SELECT b.n FROM unnest($4::oid[], $5::int8[]) AS b(oid, n) WHERE b.oid = r.oid), pg_stat_get_analyze_count(r.oid))
           + pg_stat_get_autoanalyze_count(r.oid)
           - coalesce((SELECT o.n FROM unnest($2::oid[], $3::int8[]) AS o(oid, n) WHERE o.oid = r.oid), 0),
         (SELECT string_agg(a.xmin::text, '.' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0),
         (SELECT string_agg(concat_ws('/', x.indexrelid, x.xmin, ic.xmin, ic.relpages, ic.reltuples), '.' ORDER BY x.indexrelid)
            FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = r.oid),
         (SELECT string_agg(k.oid || '/' || k.xmin, '.' ORDER BY k.oid) FROM pg_constraint k WHERE k.conrelid = r.oid),
         (SELECT string_agg(w.oid || '/' || w.xmin, '.' ORDER BY w.oid) FROM pg_rewrite w WHERE w.ev_class = r.oid)
       ), ',' ORDER BY r.oid)) AS marker
FROM closure c JOIN pg_class r ON r.oid = c.oid
GROUP BY c.ord
UNION ALL
SELECT 0, md5(concat_ws(':',
  current_setting('server_version_num'),
  (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()),
  (SELECT string_agg(p.oid || '/' || p.xmin, '.' ORDER BY p.oid) FROM pg_proc p WHERE p.oid >= 16384),
  (SELECT string_agg(e.oid || '/' || e.xmin, '.' ORDER BY e.oid) FROM pg_extension e)))`;
