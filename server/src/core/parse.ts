// The PostgreSQL parser (libpg-query, WebAssembly) behind a wrapper that never throws and speaks UTF-16.
// libpg-query reports node locations in UTF-8 bytes and error cursors in code points; both are converted here
// (through positions.ts) so nothing downstream sees a byte offset.
import { OffsetConverter } from './positions';

type PgQuery = typeof import('libpg-query');

let pgQuery: PgQuery | undefined;
let loading: Promise<PgQuery> | undefined;

/** Loads the WebAssembly parser on first use; later calls return at once. */
export async function loadParser(): Promise<void> {
  if (pgQuery) return;
  loading ??= (async () => {
    // Required lazily so that starting the server does not pay for the WASM until SQL appears.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('libpg-query') as PgQuery;
    await mod.loadModule();
    pgQuery = mod;
    return mod;
  })();
  await loading;
}

export function parserLoaded(): boolean {
  return pgQuery !== undefined;
}

export type StatementKind =
  | 'select'
  | 'values'
  | 'insert'
  | 'update'
  | 'delete'
  | 'merge'
  | 'utility'
  | 'empty';

/** Any parse-tree node: `{ SelectStmt: {...} }`, `{ ColumnRef: {...} }`, … */
// The tree is large and loosely typed; rules read it through ast.ts helpers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AstNode = any;

export type ParseResult =
  | { ok: true; stmt: AstNode; kind: StatementKind; paramCount: number; conv: OffsetConverter }
  | { ok: false; message: string; /** UTF-16 offset into the statement text. */ offset: number };

/** Parses one statement's text. Requires loadParser() to have finished; never throws. */
export function parseStatement(text: string): ParseResult {
  if (!pgQuery) return { ok: false, message: 'The SQL parser is not loaded yet.', offset: 0 };
  // The parser (a C library) stops reading at a NUL, and so would PostgreSQL: what it checked would not be
  // what the server receives. PostgreSQL rejects NUL in query text anyway.
  const nul = text.indexOf('\0');
  if (nul >= 0) return { ok: false, message: 'A NUL character (U+0000) cannot appear in SQL text.', offset: nul };
  const conv = new OffsetConverter(text);
  try {
    const result = pgQuery.parseSync(text);
    const stmts = result.stmts ?? [];
    if (stmts.length === 0) return { ok: true, stmt: {}, kind: 'empty', paramCount: 0, conv };
    if (stmts.length > 1) {
      const second = conv.fromUtf8(stmts[1].stmt_location ?? 0);
      return { ok: false, message: 'More than one statement here; separate statements with `;`.', offset: second };
    }
    const stmt = stmts[0].stmt ?? {};
    return { ok: true, stmt, kind: statementKind(stmt), paramCount: maxParam(stmt), conv };
  } catch (e) {
    const details = (e as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
    const message = details?.message ?? (e instanceof Error ? e.message : String(e));
    const offset = conv.fromCodePoints(details?.cursorPosition ?? 0);
    return { ok: false, message, offset };
  }
}

export interface Token {
  /** UTF-16 offsets into the statement text. */
  start: number;
  end: number;
  text: string;
}

/** Lexes a statement into tokens (UTF-16 offsets); an unlexable statement gives no tokens. */
export function scanStatement(text: string, conv: OffsetConverter = new OffsetConverter(text)): Token[] {
  if (!pgQuery || text.length === 0) return [];
  try {
    return pgQuery.scanSync(text).tokens.map((t) => {
      const start = conv.fromUtf8(t.start);
      const end = conv.fromUtf8(t.end);
      return { start, end, text: text.slice(start, end) };
    });
  } catch {
    return [];
  }
}

export function statementKind(stmt: AstNode): StatementKind {
  const key = Object.keys(stmt)[0];
  switch (key) {
    case undefined:
      return 'empty';
    case 'SelectStmt': {
      const s = stmt.SelectStmt;
      if (s.intoClause) return 'utility'; // SELECT … INTO creates a table
      return s.valuesLists && !s.fromClause && !s.targetList ? 'values' : 'select';
    }
    case 'InsertStmt':
      return 'insert';
    case 'UpdateStmt':
      return 'update';
    case 'DeleteStmt':
      return 'delete';
    case 'MergeStmt':
      return 'merge';
    default:
      return 'utility';
  }
}

/** Kinds the server EXPLAINs. MERGE stays out: the design names SELECT, INSERT, UPDATE, DELETE, WITH, VALUES. */
export function isExplainable(kind: StatementKind): boolean {
  return kind === 'select' || kind === 'values' || kind === 'insert' || kind === 'update' || kind === 'delete';
}

function maxParam(node: AstNode): number {
  let max = 0;
  // An explicit stack: the parser accepts expressions thousands of levels deep.
  const stack: AstNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
    } else if (n && typeof n === 'object') {
      if (n.ParamRef && typeof n.ParamRef.number === 'number') max = Math.max(max, n.ParamRef.number);
      for (const k in n) stack.push(n[k]);
    }
  }
  return max;
}
