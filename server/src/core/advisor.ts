// The index advisor: candidate indexes for one table of a statement, built the way a B-tree is read —
// equality columns first, then one range column or the sort columns — plus a partial variant for a rare
// constant and a covering (INCLUDE) variant for a narrow select list. Candidates an existing index already
// covers are dropped and that index is named instead. Proving them is the service's job (what-ifs).
import { columnRefOf, columnRefsIn, resolveColumn, type QueryBlock, type TableRef } from './ast';
import { indexFix, type IndexSpec } from './indexFix';
import type { AstNode } from './parse';
import type { ColumnInfo, IndexInfo, QualifiedName, RelationInfo } from './ports';
import { blockComparisons, columnChecker, othersIndependentOf, plainColumn } from './predicates';
import type { IndexFix, RuleContext } from './rules/types';
import { quoteIdent } from './sqlText';

/** A value below this share of the rows is rare enough for a partial index. */
const RARE_FREQUENCY = 0.1;
/** …on a column where some value is this common (skewed), … */
const DOMINANT_FREQUENCY = 0.3;
/** …with at most this many distinct values (a status-like column). */
const MAX_DISTINCT_FOR_PARTIAL = 100;
/** INCLUDE at most this many columns; wider select lists are not worth an index-only scan. */
const MAX_INCLUDE = 3;
const MAX_KEY_COLUMNS = 4;

export interface AdviceRequest {
  table: TableRef;
  ctx: RuleContext;
  /** Key for sort-without-index: equality columns, then the ORDER BY columns (not a range column). */
  sort?: boolean;
  /** Key for join-without-index: exactly these columns (the join key). */
  keys?: string[];
}

export interface Advice {
  fixes: IndexFix[];
  /** An existing index that already has the leading columns of the best candidate. */
  coveredBy?: IndexInfo;
}

export interface RareConstant {
  column: string;
  /** SQL literal as written into a partial-index predicate. */
  literal: string;
  frequency: number;
  /** The comparison in the statement. */
  node?: AstNode;
}

interface KeyColumn {
  column: string;
  desc?: boolean;
}

export function adviseIndexes(req: AdviceRequest): Advice {
  const { table, ctx } = req;
  const info = ctx.relation(table);
  const block = table.block;
  const preds = tablePredicates(table, ctx);
  const keys: KeyColumn[] = [];
  const add = (k: KeyColumn): void => {
    if (!keys.some((x) => x.column === k.column)) keys.push(k);
  };
  if (req.keys) req.keys.forEach((column) => add({ column }));
  else {
    preds.eq.forEach((column) => add({ column }));
    const sort = sortColumns(block, table, ctx);
    const range = preds.range.find((c) => !keys.some((k) => k.column === c));
    if (req.sort && sort) sort.forEach(add);
    else if (range) add({ column: range });
    else if (sort) sort.forEach(add);
  }
  const key = keys.slice(0, MAX_KEY_COLUMNS);
  if (key.length === 0) return { fixes: [] };

  const base = specBase(table, info);
  const specs: IndexSpec[] = [{ ...base, elements: key.map(element), nameParts: key.map((k) => k.column), expression: false }];

  if (!req.keys && info) {
    for (const rare of preds.rare) {
      const rest = key.filter((k) => k.column !== rare.column);
      if (rest.length === 0) continue;
      specs.push({
        ...base,
        elements: rest.map(element),
        nameParts: [...rest.map((k) => k.column), rare.literal.replace(/'/g, '')],
        expression: false,
        where: `${quoteIdent(rare.column)} = ${rare.literal}`,
      });
    }
    const include = includeColumns(block, table, ctx, key);
    if (include) {
      specs.push({
        ...base,
        elements: key.map(element),
        nameParts: [...key.map((k) => k.column), 'incl', ...include],
        expression: false,
        include,
      });
    }
  }

  const fixes: IndexFix[] = [];
  let coveredBy: IndexInfo | undefined;
  const plainName = indexFix(specs[0]).candidate.name;
  for (const spec of specs) {
    const covering = info ? coveringIndex(info, spec) : undefined;
    if (covering) {
      coveredBy ??= covering;
      continue;
    }
    const fix = indexFix(spec);
    if (spec.include) fix.refines = plainName;
    fixes.push(fix);
  }
  return coveredBy ? { fixes, coveredBy } : { fixes };
}

/** The parts every candidate on this table shares: partitions for a partitioned table. */
export function specBase(table: TableRef, info: RelationInfo | undefined): Pick<IndexSpec, 'table' | 'partitions'> {
  if (info?.kind !== 'p') return { table };
  const partitions: QualifiedName[] = (info.partitions ?? []).map((p) =>
    !table.schema && p.schema === info.schema ? { name: p.name } : p,
  );
  return { table, partitions };
}

function element(k: KeyColumn): string {
  return k.desc ? `${quoteIdent(k.column)} DESC` : quoteIdent(k.column);
}

export interface TablePredicates {
  /** Plain columns compared with `=` / `IN` / `= ANY` against values or other tables, in written order. */
  eq: string[];
  range: string[];
  /** Equality with a constant that pg_stats says is rare on a skewed column. */
  rare: RareConstant[];
}

export function tablePredicates(table: TableRef, ctx: RuleContext): TablePredicates {
  const block = table.block;
  const out: TablePredicates = { eq: [], range: [], rare: [] };
  const info = ctx.relation(table);
  for (const cmp of blockComparisons(block)) {
    if (cmp.kind === 'like') continue;
    const ref = plainColumn(cmp.subject);
    if (!ref || resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) continue;
    if (!othersIndependentOf(cmp.others, table, block, ctx.relation)) continue;
    const list = cmp.kind === 'eq' ? out.eq : out.range;
    if (!list.includes(ref.column)) list.push(ref.column);
    if (cmp.kind === 'eq' && cmp.others.length === 1 && cmp.node.A_Expr?.kind === 'AEXPR_OP' && info) {
      const rare = rareConstant(info, ref.column, cmp.others[0]);
      if (rare && !out.rare.some((r) => r.column === rare.column)) out.rare.push({ ...rare, node: cmp.node });
    }
  }
  return out;
}

/** `status = 'refunded'` where pg_stats says 'refunded' is rare and some other value dominates. */
export function rareConstant(info: RelationInfo, column: string, valueNode: AstNode): RareConstant | undefined {
  const value = constantValue(valueNode);
  if (!value) return undefined;
  const col = info.columns.find((c) => c.name === column);
  const frequency = col ? valueFrequency(col, value.text, info.reltuples) : undefined;
  if (frequency === undefined || frequency > RARE_FREQUENCY) return undefined;
  return { column, literal: value.literal, frequency };
}

function valueFrequency(col: ColumnInfo, value: string, reltuples: number): number | undefined {
  const st = col.stats;
  if (!st || st.mostCommonFreqs.length === 0) return undefined;
  const distinct = st.nDistinct >= 0 ? st.nDistinct : -st.nDistinct * Math.max(reltuples, 0);
  if (distinct > MAX_DISTINCT_FOR_PARTIAL) return undefined;
  if (Math.max(...st.mostCommonFreqs) < DOMINANT_FREQUENCY) return undefined;
  const i = st.mostCommonValues.indexOf(value);
  if (i >= 0) return st.mostCommonFreqs[i];
  const rest = 1 - st.nullFrac - st.mostCommonFreqs.reduce((a, b) => a + b, 0);
  const others = Math.max(1, distinct - st.mostCommonValues.length);
  return Math.max(0, rest) / others;
}

/** A literal (`'refunded'`, `42`, `true`, `'x'::text`) as text and as SQL. */
export function constantValue(node: AstNode): { text: string; literal: string } | undefined {
  const n = node?.TypeCast ? node.TypeCast.arg : node;
  const c = n?.A_Const;
  if (!c || c.isnull) return undefined;
  if (c.sval) return { text: c.sval.sval ?? '', literal: `'${String(c.sval.sval ?? '').replace(/'/g, "''")}'` };
  if (c.ival) return { text: String(c.ival.ival ?? 0), literal: String(c.ival.ival ?? 0) };
  if (c.fval) return { text: String(c.fval.fval), literal: String(c.fval.fval) };
  if (c.boolval) return { text: c.boolval.boolval ? 't' : 'f', literal: c.boolval.boolval ? 'true' : 'false' };
  return undefined;
}

/** ORDER BY columns when all of them are plain columns of `table`. */
export function sortColumns(block: QueryBlock, table: TableRef, ctx: RuleContext): KeyColumn[] | undefined {
  if (block.sortClause.length === 0) return undefined;
  const out: KeyColumn[] = [];
  for (const item of block.sortClause) {
    const sb = item?.SortBy;
    const ref = columnRefOf(sb?.node);
    if (!ref || resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) return undefined;
    out.push({ column: ref.column, desc: sb.sortby_dir === 'SORTBY_DESC' });
  }
  // One direction can be read backwards; only mixed directions need DESC in the index.
  if (out.every((k) => k.desc)) out.forEach((k) => (k.desc = false));
  return out;
}

/** Columns to INCLUDE so that the block reads `table` from the index alone, when few enough. */
function includeColumns(block: QueryBlock, table: TableRef, ctx: RuleContext, key: KeyColumn[]): string[] | undefined {
  if (block.kind !== 'select' || block.tables.length !== 1) return undefined;
  const n = block.node;
  const parts: AstNode[] = [n.targetList, n.whereClause, n.sortClause, n.groupClause, n.havingClause];
  const targets: AstNode[] = n.targetList ?? [];
  if (targets.some((t) => t?.ResTarget?.val?.ColumnRef?.fields?.some((f: AstNode) => f.A_Star))) return undefined;
  const cols = new Set<string>();
  for (const part of parts) {
    for (const ref of columnRefsIn(part)) {
      if (resolveColumn(ref, block, columnChecker(ctx.relation)) !== table) return undefined;
      cols.add(ref.column);
    }
  }
  const extra = [...cols].filter((c) => !key.some((k) => k.column === c));
  return extra.length >= 1 && extra.length <= MAX_INCLUDE ? extra : undefined;
}

/** An existing B-tree whose leading keys are exactly the candidate's keys (and the same partial predicate). */
function coveringIndex(info: RelationInfo, spec: IndexSpec): IndexInfo | undefined {
  const want = spec.elements.map(normalizeKey);
  return info.indexes.find((ix) => {
    if (ix.method !== (spec.method ?? 'btree')) return false;
    if ((ix.predicate === null) !== (spec.where === undefined)) return false;
    if (ix.predicate !== null && spec.where !== undefined && normalizeKey(ix.predicate) !== normalizeKey(spec.where)) return false;
    const have = ix.keyDefs.map(normalizeKey);
    if (have.length < want.length || !want.every((w, i) => have[i] === w)) return false;
    if (spec.include?.length) return spec.include.every((c) => ix.definition.includes(c));
    return true;
  });
}

/** Compares index keys as written with PostgreSQL's printing: `lower((email)::text)` ≈ `lower(email)`. */
export function normalizeKey(s: string): string {
  return s
    .toLowerCase()
    .replace(/::\s*(text|character varying|varchar|bpchar)\b/g, '')
    .replace(/["()\s]/g, '');
}
