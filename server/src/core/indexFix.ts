// Turning an index idea into a candidate the planner can prove and DDL the user can run.
import type { TableRef } from './ast';
import type { QualifiedName } from './ports';
import type { Token } from './parse';
import type { OffsetConverter } from './positions';
import type { ColumnRefInfo } from './ast';
import { indexName, qualifiedName, quoteIdent } from './sqlText';
import type { IndexFix } from './rules/types';

export interface IndexSpec {
  table: TableRef;
  /** Index elements as written in CREATE INDEX: `email`, `lower(email)`, `((created_at)::date)`, `email gin_trgm_ops`. */
  elements: string[];
  /** Words for the index name, e.g. ['lower', 'email']. */
  nameParts: string[];
  expression: boolean;
  /** `gin` for trigram indexes; B-tree when absent. */
  method?: string;
  /** Non-key columns for an index-only scan. */
  include?: string[];
  /** Partial-index predicate as SQL, e.g. `status = 'refunded'`. */
  where?: string;
  /** Partitions of a partitioned table: the DDL becomes ON ONLY parent + one index per partition + ATTACH. */
  partitions?: QualifiedName[];
  /** Extension the index needs (its operator class), and whether the database already has it. */
  extension?: { name: string; installed: boolean };
  unproven?: string;
}

export function indexFix(spec: IndexSpec): IndexFix {
  const table = qualifiedName(spec.table.schema, spec.table.relname);
  const name = indexName(spec.table.relname, spec.nameParts);
  const body = indexBody(spec);
  const kind = spec.method === 'gin' ? 'trigram index' : spec.where ? 'partial index' : spec.include?.length ? 'covering index' : spec.expression ? 'expression index' : 'index';
  const fix: IndexFix = {
    label: `Create ${kind} on ${table} ${body}`,
    candidate: {
      name,
      table: { schema: spec.table.schema, name: spec.table.relname },
      sql: `CREATE INDEX ${name} ON ${table} ${body}`,
      needsRealBuild: spec.expression || Boolean(spec.where) || Boolean(spec.method) || spec.partitions !== undefined,
    },
    ddl: (concurrently) => ddl(spec, name, table, body, concurrently),
    // A partitioned index cannot be dropped CONCURRENTLY; dropping the parent's drops its partitions'.
    drop: (concurrently) =>
      `DROP INDEX ${concurrently && spec.partitions === undefined ? 'CONCURRENTLY ' : ''}IF EXISTS ${qualifiedName(spec.table.schema, name)};`,
  };
  if (spec.extension) fix.candidate.extension = spec.extension.name;
  if (spec.unproven) fix.unproven = spec.unproven;
  return fix;
}

/** `USING gin (…) INCLUDE (…) WHERE …` after the table name. */
function indexBody(spec: IndexSpec): string {
  let body = `${spec.method ? `USING ${spec.method} ` : ''}(${spec.elements.join(', ')})`;
  if (spec.include?.length) body += ` INCLUDE (${spec.include.map(quoteIdent).join(', ')})`;
  if (spec.where) body += ` WHERE ${spec.where}`;
  return body;
}

function ddl(spec: IndexSpec, name: string, table: string, body: string, concurrently: boolean): string {
  const lines: string[] = [];
  if (spec.extension && !spec.extension.installed) lines.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(spec.extension.name)};`);
  const cc = concurrently ? 'CONCURRENTLY ' : '';
  if (spec.partitions === undefined) {
    lines.push(`CREATE INDEX ${cc}IF NOT EXISTS ${name} ON ${table} ${body};`);
    return lines.join('\n');
  }
  // A partitioned table cannot be indexed CONCURRENTLY: create the parent's index ON ONLY (instant, invalid
  // until every partition's index is attached), build each partition's index on its own, then attach them.
  lines.push(`CREATE INDEX IF NOT EXISTS ${name} ON ONLY ${table} ${body};`);
  for (const p of spec.partitions) {
    const partName = indexName(p.name, spec.nameParts);
    const schema = p.schema ?? spec.table.schema;
    lines.push(`CREATE INDEX ${cc}IF NOT EXISTS ${partName} ON ${qualifiedName(schema, p.name)} ${body};`);
    lines.push(`ALTER INDEX ${qualifiedName(spec.table.schema, name)} ATTACH PARTITION ${qualifiedName(schema, partName)};`);
  }
  return lines.join('\n');
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
