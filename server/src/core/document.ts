// A document as the core sees it: regions of SQL, split into statements, each parsed on its own.
import { queryBlocks, type QueryBlock } from './ast';
import { parserLoaded, parseStatement, scanStatement, type ParseResult, type Token } from './parse';
import { LineIndex } from './positions';
import { relationKey, type QualifiedName } from './ports';
import type { SqlRegion } from './regions';
import { splitStatements } from './split';
import type { Range } from './types';

/**
 * What follows from a statement's text alone: its parse, tokens and query blocks. Shared by every statement
 * with the same text (the service keeps them between runs), so nothing may change them.
 */
export interface StatementSyntax {
  parse: ParseResult;
  tokens?: Token[];
  blocks?: QueryBlock[];
  relations?: NamedRelations;
}

/** The relations a statement names, each once: what its plan depends on besides its text. */
export interface NamedRelations {
  names: QualifiedName[];
  /** relationKey of each name, sorted; `names` is in the same order. */
  keys: string[];
}

export class ParsedStatement {
  /** Shared with every statement of the same text (see StatementSyntax). */
  readonly syntax: StatementSyntax;

  constructor(
    /** Position of this statement in the document, 0-based. */
    readonly index: number,
    readonly region: SqlRegion,
    /** UTF-16 offsets into region.text. */
    readonly start: number,
    readonly end: number,
    readonly text: string,
    syntax: ParseResult | StatementSyntax,
    /** Set when the statement is longer than limits.maxStatementChars: it was not parsed. */
    readonly oversized = false,
  ) {
    this.syntax = 'parse' in syntax ? syntax : { parse: syntax };
  }

  get parse(): ParseResult {
    return this.syntax.parse;
  }

  get tokens(): Token[] {
    this.syntax.tokens ??= scanStatement(this.text, this.parse.ok ? this.parse.conv : undefined);
    return this.syntax.tokens;
  }

  get blocks(): QueryBlock[] {
    this.syntax.blocks ??= this.parse.ok ? queryBlocks(this.parse.stmt) : [];
    return this.syntax.blocks;
  }

  get relations(): NamedRelations {
    this.syntax.relations ??= namedRelations(this);
    return this.syntax.relations;
  }

  /** Host-document offset of a statement-relative offset. */
  toHost(offset: number): number {
    return this.region.toHost(this.start + offset);
  }
}

export class ParsedDocument {
  readonly lines: LineIndex;

  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    readonly statements: ParsedStatement[],
    /** True for JS/TS documents, whose SQL lives in string and template literals. */
    readonly embedded = false,
    /** Set when the document is longer than limits.maxDocumentChars: it was not split or parsed. */
    readonly oversized = false,
  ) {
    this.lines = new LineIndex(text);
  }

  /** LSP range of statement-relative offsets. */
  range(stmt: ParsedStatement, start: number, end: number): Range {
    return { start: this.lines.positionAt(stmt.toHost(start)), end: this.lines.positionAt(stmt.toHost(end)) };
  }

  statementAt(hostOffset: number): ParsedStatement | undefined {
    return this.statements.find((s) => s.toHost(0) <= hostOffset && hostOffset <= s.toHost(s.text.length));
  }
}

function namedRelations(stmt: ParsedStatement): NamedRelations {
  let blocks: QueryBlock[];
  try {
    blocks = stmt.blocks;
  } catch {
    // Walking a pathological parse tree (thousands of levels deep) can exhaust the stack: that statement
    // then names nothing (and gets no findings), and the others are unaffected.
    blocks = [];
  }
  const byKey = new Map<string, QualifiedName>();
  for (const b of blocks) {
    for (const t of b.tables) {
      const q = { schema: t.schema, name: t.relname };
      byKey.set(relationKey(q), q);
    }
  }
  const keys = [...byKey.keys()].sort();
  return { keys, names: keys.map((k) => byKey.get(k)!) };
}

const NOT_PARSED: ParseResult = { ok: false, message: 'not parsed: too large', offset: 0 };

/**
 * Splits and parses every region. Statements longer than `maxStatementChars` are kept (so that they can be
 * reported) but not parsed. Requires loadParser(); never throws.
 */
export function parseDocument(
  uri: string,
  version: number,
  text: string,
  regions: SqlRegion[],
  embedded = false,
  maxStatementChars = Infinity,
  /** Syntax of statements seen before, by text (the service's LRU); new ones are added. */
  memo?: { get(text: string): StatementSyntax | undefined; set(text: string, syntax: StatementSyntax): void },
): ParsedDocument {
  const statements: ParsedStatement[] = [];
  for (const region of regions) {
    for (const span of splitStatements(region.text)) {
      const stmtText = region.text.slice(span.start, span.end);
      const oversized = stmtText.length > maxStatementChars;
      let syntax: StatementSyntax | undefined = oversized ? { parse: NOT_PARSED } : memo?.get(stmtText);
      if (!syntax) {
        syntax = { parse: parseStatement(stmtText) };
        if (parserLoaded()) memo?.set(stmtText, syntax);
      }
      statements.push(new ParsedStatement(statements.length, region, span.start, span.end, stmtText, syntax, oversized));
    }
  }
  return new ParsedDocument(uri, version, text, statements, embedded);
}
