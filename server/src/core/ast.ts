// Reading libpg-query parse trees: query blocks with their tables, predicates, column references, and the
// source span of any expression (the parser gives starts only; ends come from the token stream).
import type { AstNode, Token } from './parse';
import type { OffsetConverter } from './positions';

export interface TableRef {
  relname: string;
  schema?: string;
  alias?: string;
  /** The name used to refer to it in this block: alias, else relname. */
  refName: string;
  /** UTF-8 byte offset of the RangeVar in the statement. */
  location: number;
  block: QueryBlock;
}

export interface QueryBlock {
  kind: 'select' | 'update' | 'delete' | 'insert';
  node: AstNode;
  tables: TableRef[];
  /** The WHERE clause, if any. */
  where?: AstNode;
  /** JOIN … ON conditions of this block. */
  joinQuals: AstNode[];
  sortClause: AstNode[];
  hasLimit: boolean;
  parent?: QueryBlock;
}

export interface ColumnRefInfo {
  qualifier?: string;
  column: string;
  /** Byte offset of the reference. */
  location: number;
  node: AstNode;
}

/** Every query block of a statement (subqueries and CTE bodies included), outermost first. */
export function queryBlocks(stmt: AstNode): QueryBlock[] {
  const blocks: QueryBlock[] = [];
  const cteNames = new Set<string>();
  collectCteNames(stmt, cteNames);

  const visit = (n: AstNode, parent: QueryBlock | undefined): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x, parent);
      return;
    }
    if (!n || typeof n !== 'object') return;
    for (const key of Object.keys(n)) {
      const v = n[key];
      const kind = blockKind(key);
      if (kind && v && typeof v === 'object' && !Array.isArray(v)) {
        const block: QueryBlock = {
          kind,
          node: v,
          tables: [],
          where: v.whereClause,
          joinQuals: [],
          sortClause: v.sortClause ?? [],
          hasLimit: Boolean(v.limitCount),
          parent,
        };
        blocks.push(block);
        if (v.relation?.relname) addTable(block, v.relation, cteNames);
        for (const item of [...(v.fromClause ?? []), ...(v.usingClause ?? [])]) collectFromItem(item, block, cteNames);
        for (const k of Object.keys(v)) if (k !== 'relation') visit(v[k], block);
      } else {
        visit(v, parent);
      }
    }
  };
  visit(stmt, undefined);
  return blocks;
}

function blockKind(key: string): QueryBlock['kind'] | undefined {
  switch (key) {
    case 'SelectStmt':
      return 'select';
    case 'UpdateStmt':
      return 'update';
    case 'DeleteStmt':
      return 'delete';
    case 'InsertStmt':
      return 'insert';
    default:
      return undefined;
  }
}

function collectCteNames(n: AstNode, out: Set<string>): void {
  if (Array.isArray(n)) {
    for (const x of n) collectCteNames(x, out);
  } else if (n && typeof n === 'object') {
    if (n.CommonTableExpr?.ctename) out.add(n.CommonTableExpr.ctename);
    for (const k in n) collectCteNames(n[k], out);
  }
}

function collectFromItem(item: AstNode, block: QueryBlock, cteNames: Set<string>): void {
  if (item?.RangeVar) addTable(block, item.RangeVar, cteNames);
  else if (item?.JoinExpr) {
    const j = item.JoinExpr;
    collectFromItem(j.larg, block, cteNames);
    collectFromItem(j.rarg, block, cteNames);
    if (j.quals) block.joinQuals.push(j.quals);
  }
}

function addTable(block: QueryBlock, rv: AstNode, cteNames: Set<string>): void {
  if (!rv.schemaname && cteNames.has(rv.relname)) return;
  const alias = rv.alias?.aliasname as string | undefined;
  block.tables.push({
    relname: rv.relname,
    schema: rv.schemaname,
    alias,
    refName: alias ?? rv.relname,
    location: rv.location ?? 0,
    block,
  });
}

/** Splits an expression on top-level AND. */
export function conjuncts(expr: AstNode | undefined): AstNode[] {
  if (!expr) return [];
  if (expr.BoolExpr?.boolop === 'AND_EXPR') return (expr.BoolExpr.args ?? []).flatMap(conjuncts);
  return [expr];
}

export function columnRefOf(node: AstNode): ColumnRefInfo | undefined {
  const c = node?.ColumnRef;
  if (!c) return undefined;
  const fields: AstNode[] = c.fields ?? [];
  const names = fields.map((f) => f.String?.sval).filter((s): s is string => typeof s === 'string');
  if (names.length === 0 || names.length !== fields.length) return undefined; // `*` or `t.*`
  return {
    column: names[names.length - 1],
    qualifier: names.length >= 2 ? names[names.length - 2] : undefined,
    location: c.location ?? 0,
    node,
  };
}

/** All column references inside `node`, not descending into subqueries. */
export function columnRefsIn(node: AstNode): ColumnRefInfo[] {
  const out: ColumnRefInfo[] = [];
  const visit = (n: AstNode): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    if (n.SubLink || n.SelectStmt) return;
    const ref = columnRefOf(n);
    if (ref) {
      out.push(ref);
      return;
    }
    for (const k in n) visit(n[k]);
  };
  visit(node);
  return out;
}

export function hasSubquery(node: AstNode): boolean {
  let found = false;
  const visit = (n: AstNode): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (n.SubLink || n.SelectStmt) {
      found = true;
      return;
    }
    for (const k in n) visit(n[k]);
  };
  visit(node);
  return found;
}

/** Resolves a column reference to a table of `block` or an enclosing block. */
export function resolveColumn(
  ref: ColumnRefInfo,
  block: QueryBlock,
  hasColumn: (table: TableRef, column: string) => boolean | undefined,
): TableRef | undefined {
  for (let b: QueryBlock | undefined = block; b; b = b.parent) {
    if (ref.qualifier) {
      const t = b.tables.find((x) => x.refName === ref.qualifier);
      if (t) return t;
      continue;
    }
    const candidates = b.tables.filter((t) => hasColumn(t, ref.column) !== false);
    const known = candidates.filter((t) => hasColumn(t, ref.column) === true);
    if (known.length === 1) return known[0];
    if (known.length === 0 && candidates.length === 1 && b.tables.length === 1) return candidates[0];
  }
  return undefined;
}

export interface Span {
  /** UTF-16 offsets into the statement text. */
  start: number;
  end: number;
}

/** Byte offsets of every `location` inside `node`. */
function locationsIn(node: AstNode, out: number[] = []): number[] {
  if (Array.isArray(node)) {
    for (const x of node) locationsIn(x, out);
  } else if (node && typeof node === 'object') {
    for (const k in node) {
      const v = node[k];
      if (k === 'location' && typeof v === 'number' && v >= 0) out.push(v);
      else if (v && typeof v === 'object') locationsIn(v, out);
    }
  }
  return out;
}

/**
 * The source span of an expression: from its first token to its last, with parentheses balanced (so
 * `lower(email)` ends after `)`, `CAST(x AS date)` after `)`, `created_at::date` after `date`).
 */
export function nodeSpan(node: AstNode, tokens: Token[], conv: OffsetConverter): Span | undefined {
  const locs = locationsIn(node);
  if (locs.length === 0) return undefined;
  const start = conv.fromUtf8(Math.min(...locs));
  const last = conv.fromUtf8(Math.max(...locs));
  if (tokens.length === 0) return { start, end: Math.max(start, last) + 1 };
  let si = tokenIndexAt(tokens, start);
  let ei = tokenIndexAt(tokens, last);
  if (si < 0 || ei < 0) return undefined;
  // Qualified names and dotted tails: `c.email`, `public.customers`.
  while (ei + 2 < tokens.length && tokens[ei + 1].text === '.' && isIdentLike(tokens[ei + 2].text)) ei += 2;
  // A function call with no arguments has no location inside its parentheses.
  if (node?.FuncCall && tokens[ei + 1]?.text === '(') ei++;
  let depth = 0;
  for (let k = si; k <= ei; k++) depth += parenDelta(tokens[k].text);
  while (depth > 0 && ei + 1 < tokens.length) {
    ei++;
    depth += parenDelta(tokens[ei].text);
  }
  // A span that opened inside parentheses it does not close, e.g. `(a` of `(a)::int`: widen to the left.
  while (depth < 0 && si > 0) {
    si--;
    depth += parenDelta(tokens[si].text);
  }
  return { start: tokens[si].start, end: tokens[ei].end };
}

/** Span of a table reference's name (`customers`, `public.customers`), without its alias. */
export function tableNameSpan(table: TableRef, tokens: Token[], conv: OffsetConverter): Span {
  const start = conv.fromUtf8(table.location);
  const si = tokenIndexAt(tokens, start);
  if (si < 0) return { start, end: start + table.relname.length };
  let ei = si;
  while (ei + 2 < tokens.length && tokens[ei + 1].text === '.' && isIdentLike(tokens[ei + 2].text)) ei += 2;
  return { start: tokens[si].start, end: tokens[ei].end };
}

/** Index of the token that starts at `offset`, else the last token starting before it. */
export function tokenIndexAt(tokens: Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].start <= offset) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

function parenDelta(t: string): number {
  return t === '(' ? 1 : t === ')' ? -1 : 0;
}

function isIdentLike(t: string): boolean {
  return /^("|[A-Za-z_\u0080-\uffff])/.test(t);
}

/** Function calls inside `node` (not descending into subqueries), by their unqualified lower-case name. */
export function functionCallsIn(node: AstNode): { name: string; node: AstNode }[] {
  const out: { name: string; node: AstNode }[] = [];
  const visit = (n: AstNode): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    if (n.SubLink || n.SelectStmt) return;
    if (n.FuncCall) {
      const parts: AstNode[] = n.FuncCall.funcname ?? [];
      const name = parts[parts.length - 1]?.String?.sval;
      if (typeof name === 'string') out.push({ name: name.toLowerCase(), node: n });
    }
    for (const k in n) visit(n[k]);
  };
  visit(node);
  return out;
}

const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'json_object_agg',
  'jsonb_object_agg', 'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'variance', 'percentile_cont',
  'percentile_disc', 'mode',
]);

/** An aggregate call (without OVER) inside `node`. */
export function hasAggregate(node: AstNode): boolean {
  return functionCallsIn(node).some((f) => AGGREGATES.has(f.name) && !f.node.FuncCall.over);
}

/** The span from the first to the last of several expressions. */
export function spanOfNodes(nodes: AstNode[], tokens: Token[], conv: OffsetConverter): Span | undefined {
  const spans = nodes.map((n) => nodeSpan(n, tokens, conv)).filter((s): s is Span => s !== undefined);
  if (spans.length === 0) return undefined;
  return { start: Math.min(...spans.map((s) => s.start)), end: Math.max(...spans.map((s) => s.end)) };
}

/** Widens a span over the keywords that follow it (`DESC`, `NULLS LAST`) or precede it (`OFFSET`). */
export function widenOverWords(span: Span, tokens: Token[], after: string[], before: string[] = []): Span {
  let { start, end } = span;
  let i = tokens.findIndex((t) => t.start >= end);
  while (i >= 0 && i < tokens.length && after.includes(tokens[i].text.toUpperCase())) end = tokens[i++].end;
  let j = tokenIndexAt(tokens, start) - 1;
  while (j >= 0 && before.includes(tokens[j].text.toUpperCase())) start = tokens[j--].start;
  return { start, end };
}
