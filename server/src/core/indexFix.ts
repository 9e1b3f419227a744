// Turning an index idea into a candidate the planner can prove and DDL the user can run.
import type { TableRef } from './ast';
import type { Token } from './parse';
import { planNodes, type PlanNode } from './plan';
import type { OffsetConverter } from './positions';
import type { ColumnRefInfo } from './ast';
import { indexName, qualifiedName } from './sqlText';
import type { IndexFix } from './rules/types';

export interface IndexSpec {
  table: TableRef;
  /** Index elements as written in CREATE INDEX: `email`, `lower(email)`, `((created_at)::date)`. */
  elements: string[];
  /** Words for the index name, e.g. ['lower', 'email']. */
  nameParts: string[];
  expression: boolean;
}

export function indexFix(spec: IndexSpec): IndexFix {
  const table = qualifiedName(spec.table.schema, spec.table.relname);
  const name = indexName(spec.table.relname, spec.nameParts);
  const cols = spec.elements.join(', ');
  return {
    label: `Create ${spec.expression ? 'expression ' : ''}index on ${table} (${cols})`,
    candidate: {
      name,
      table: { schema: spec.table.schema, name: spec.table.relname },
      sql: `CREATE INDEX ${name} ON ${table} (${cols})`,
      needsRealBuild: spec.expression,
    },
    ddl: (concurrently) => `CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS ${name} ON ${table} (${cols});`,
  };
}

/**
 * The source text of an expression with table qualifiers dropped (`lower(c.email)` → `lower(email)`), as an
 * index definition needs it.
 */
export function unqualifiedSource(
  text: string,
  span: { start: number; end: number },
  refs: ColumnRefInfo[],
  tokens: Token[],
  conv: OffsetConverter,
): string {
  const cuts: { from: number; to: number }[] = [];
  for (const ref of refs) {
    if (!ref.qualifier) continue;
    const from = conv.fromUtf8(ref.location);
    // The column name is the last identifier token of the reference; cut everything before it.
    const colTok = tokens.find((t) => t.start > from && t.start < span.end && unquote(t.text) === ref.column);
    if (colTok) cuts.push({ from, to: colTok.start });
  }
  let out = '';
  let pos = span.start;
  for (const c of cuts.sort((a, b) => a.from - b.from)) {
    out += text.slice(pos, c.from);
    pos = c.to;
  }
  return out + text.slice(pos, span.end);
}

function unquote(t: string): string {
  return t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t.toLowerCase();
}

/** An index element needs its own parentheses unless it is a plain column or a function call. */
export function indexElement(source: string, isFunctionCall: boolean): string {
  return isFunctionCall ? source : `(${source})`;
}

/** The plan's scan nodes that read `table` (matched on relation name and alias). */
export function scanNodesFor(plan: PlanNode, table: TableRef): PlanNode[] {
  return planNodes(plan).filter(
    (n) =>
      n['Relation Name'] === table.relname &&
      (n.Alias === undefined || n.Alias === table.refName) &&
      (!table.schema || n.Schema === undefined || n.Schema === table.schema),
  );
}
