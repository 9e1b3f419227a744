// Predicates as index advisors read them: which column is compared how, and whether it is wrapped.
import { columnRefOf, columnRefsIn, conjuncts, hasSubquery, resolveColumn, type QueryBlock, type TableRef } from './ast';
import type { AstNode } from './parse';
import type { RelationInfo } from './ports';

export type ComparisonKind = 'eq' | 'range' | 'like';

export interface Comparison {
  kind: ComparisonKind;
  /** The operand compared against values (the column side). */
  subject: AstNode;
  /** The other operands (constants, parameters, other tables' columns). */
  others: AstNode[];
  node: AstNode;
}

/** The comparisons in a predicate, each way round (`a = b` gives two: subject a, and subject b). */
export function comparisonsIn(pred: AstNode): Comparison[] {
  const e = pred?.A_Expr;
  if (!e) return [];
  const op: string | undefined = e.name?.[e.name.length - 1]?.String?.sval;
  const list = (v: AstNode): AstNode[] => (v?.List ? (v.List.items ?? []) : Array.isArray(v) ? v : [v]);
  switch (e.kind) {
    case 'AEXPR_OP':
      if (op === '=') return both('eq', e.lexpr, e.rexpr, pred);
      if (op === '<' || op === '>' || op === '<=' || op === '>=') return both('range', e.lexpr, e.rexpr, pred);
      return [];
    case 'AEXPR_OP_ANY':
      return op === '=' ? [{ kind: 'eq', subject: e.lexpr, others: [e.rexpr], node: pred }] : [];
    case 'AEXPR_IN':
      return op === '=' ? [{ kind: 'eq', subject: e.lexpr, others: list(e.rexpr), node: pred }] : [];
    case 'AEXPR_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
      return [{ kind: 'range', subject: e.lexpr, others: list(e.rexpr), node: pred }];
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE':
      return op === '~~' || op === '~~*' ? [{ kind: 'like', subject: e.lexpr, others: [e.rexpr], node: pred }] : [];
    default:
      return [];
  }
}

function both(kind: ComparisonKind, l: AstNode, r: AstNode, node: AstNode): Comparison[] {
  return [
    { kind, subject: l, others: [r], node },
    { kind, subject: r, others: [l], node },
  ];
}

/** The conjuncts of a block that filter its rows: WHERE and JOIN … ON, split on AND. */
export function blockPredicates(block: QueryBlock): AstNode[] {
  return [...conjuncts(block.where), ...block.joinQuals.flatMap(conjuncts)];
}

/** The comparisons among a block's predicates (WHERE and JOIN … ON conjuncts). */
export function blockComparisons(block: QueryBlock): Comparison[] {
  return blockPredicates(block).flatMap(comparisonsIn);
}

/** A column of `table` is compared only against values or other tables (not against itself). */
export function othersIndependentOf(
  others: AstNode[],
  table: TableRef,
  block: QueryBlock,
  relationOf: (t: TableRef) => RelationInfo | undefined,
): boolean {
  return others.every(
    (o) => !hasSubquery(o) && columnRefsIn(o).every((ref) => resolveColumn(ref, block, columnChecker(relationOf)) !== table),
  );
}

export function columnChecker(relationOf: (t: TableRef) => RelationInfo | undefined) {
  return (t: TableRef, column: string): boolean | undefined => {
    const info = relationOf(t);
    return info ? info.columns.some((c) => c.name === column) : undefined;
  };
}

/** A subject that is exactly a column (no function, cast or arithmetic around it). */
export function plainColumn(subject: AstNode): ReturnType<typeof columnRefOf> {
  return columnRefOf(subject);
}

/**
 * A subject that wraps exactly one column in a function call, cast, COALESCE or arithmetic: the shape that
 * keeps a plain index on that column from being used.
 */
export function wrappedColumn(subject: AstNode): ReturnType<typeof columnRefOf> {
  if (!subject || columnRefOf(subject)) return undefined;
  const isWrapper = subject.FuncCall || subject.TypeCast || subject.CoalesceExpr || isArithmetic(subject);
  if (!isWrapper || hasSubquery(subject)) return undefined;
  const refs = columnRefsIn(subject);
  if (refs.length !== 1) return undefined;
  return refs[0];
}

function isArithmetic(n: AstNode): boolean {
  const e = n?.A_Expr;
  if (!e || e.kind !== 'AEXPR_OP') return false;
  const op = e.name?.[e.name.length - 1]?.String?.sval;
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '||';
}
