// The facade of the analysis core: parse → plan → rules → fixes, returning plain LSP-shaped values.
// It never imports the protocol, vscode or a database driver; the database arrives as a Planner per call.
import type { SqlInsightSettings } from '../../../common/protocol';
import { tokenIndexAt } from './ast';
import { parseDocument, type ParsedDocument, type ParsedStatement } from './document';
import { planMarkdown } from './hover';
import { isExplainable, loadParser } from './parse';
import type { ExplainResult, Planner, QualifiedName, RelationInfo, WhatIfResult } from './ports';
import { relationKey } from './ports';
import { extractSqlRegions } from './embedded/extract';
import { startsLikeSql } from './embedded/sqlStart';
import { wholeDocumentRegion, type SqlRegion } from './regions';
import { PLAN_RULES } from './rules';
import type { Finding } from './rules/types';
import { formatNumber } from './sqlText';
import {
  Severity,
  type CodeAction,
  type Diagnostic,
  type Hover,
  type Position,
  type Range,
  type SqlTextDocument,
  type TextEdit,
  type WorkspaceEdit,
} from './types';

export interface StatementResult {
  stmt: ParsedStatement;
  explain?: ExplainResult;
  /** Why the statement was not planned, for the hover. */
  notPlanned?: string;
  findings: Finding[];
}

export interface DocumentAnalysis {
  document: ParsedDocument;
  diagnostics: Diagnostic[];
  results: StatementResult[];
  /** Findings by the id carried in their diagnostic's `data`. */
  findings: Map<string, { finding: Finding; stmt: ParsedStatement }>;
  /** What-if proofs of fixes, by finding id (filled lazily, shared by code-action requests). */
  proofs: Map<string, Promise<WhatIfResult>>;
}

export const SQL_LANGUAGE_IDS = new Set(['sql', 'pgsql', 'postgres', 'postgresql']);
/** Host languages whose string and template literals may hold SQL. */
export const EMBEDDING_LANGUAGE_IDS = new Set(['typescript', 'typescriptreact', 'javascript', 'javascriptreact']);

/** Where a code action may put new files, and the clock for their names (both from the adapter). */
export interface FixContext {
  /** URI of the workspace folder that holds the document, if any. */
  workspaceFolder?: string;
  now: Date;
}

/** How many EXPLAINs run at once; the planner's pool bounds connections anyway. */
const EXPLAIN_CONCURRENCY = 2;

export interface SqlInsightService {
  /** True when the core finds SQL in documents of this language. */
  handles(languageId: string): boolean;
  parse(document: SqlTextDocument, settings: SqlInsightSettings): Promise<ParsedDocument>;
  doValidation(
    document: ParsedDocument,
    planner: Planner | undefined,
    settings: SqlInsightSettings,
    signal?: AbortSignal,
  ): Promise<DocumentAnalysis>;
  doHover(analysis: DocumentAnalysis, position: Position): Hover | null;
  doCodeActions(
    analysis: DocumentAnalysis,
    range: Range,
    diagnostics: Diagnostic[],
    planner: Planner | undefined,
    settings: SqlInsightSettings,
    fixContext: FixContext,
  ): Promise<CodeAction[]>;
  /** Starts proving every fix in the background so that code actions answer at once. */
  proveFixes(analysis: DocumentAnalysis, planner: Planner, settings: SqlInsightSettings): Promise<void>;
}

export function createSqlInsightService(): SqlInsightService {
  return {
    handles: (languageId) => SQL_LANGUAGE_IDS.has(languageId) || EMBEDDING_LANGUAGE_IDS.has(languageId),
    parse,
    doValidation,
    doHover,
    doCodeActions,
    proveFixes,
  };
}

async function parse(document: SqlTextDocument, settings: SqlInsightSettings): Promise<ParsedDocument> {
  await loadParser();
  const text = document.getText();
  const embedded = !SQL_LANGUAGE_IDS.has(document.languageId);
  return parseDocument(document.uri, document.version, text, regionsOf(text, document.languageId, settings), embedded);
}

function regionsOf(text: string, languageId: string, settings: SqlInsightSettings): SqlRegion[] {
  if (SQL_LANGUAGE_IDS.has(languageId)) return [wholeDocumentRegion(text)];
  if (!EMBEDDING_LANGUAGE_IDS.has(languageId)) return [];
  // A tagged template that does not start like a statement is a fragment (`sql\`WHERE …\``) spliced into
  // another query at run time: on its own it is not a statement, so it is neither parsed nor planned.
  return extractSqlRegions(text, languageId, settings.embedded).filter((r) => startsLikeSql(r.text));
}

/** The interpolations of a statement whose SQL is not known statically (`${sql(table)}`, `??`). */
function unknownParts(stmt: ParsedStatement): string[] {
  const unknown = stmt.region.params.filter((p) => p.kind === 'unknown');
  if (unknown.length === 0) return [];
  const used = new Set([...stmt.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  return unknown.filter((p) => used.has(p.index)).map((p) => p.source);
}

function describeUnknown(parts: string[]): string {
  return parts.map((p) => `\`${p}\``).join(', ');
}

async function doValidation(
  doc: ParsedDocument,
  planner: Planner | undefined,
  settings: SqlInsightSettings,
  signal?: AbortSignal,
): Promise<DocumentAnalysis> {
  const analysis: DocumentAnalysis = {
    document: doc,
    diagnostics: [],
    results: doc.statements.map((stmt) => ({ stmt, findings: [] })),
    findings: new Map(),
    proofs: new Map(),
  };

  for (const r of analysis.results) {
    const p = r.stmt.parse;
    const unknown = unknownParts(r.stmt);
    if (!p.ok && unknown.length > 0) {
      // The unknown part (an identifier or SQL fragment) is what made it unparsable here, not the user's SQL.
      r.notPlanned = `part of it is not known statically (${describeUnknown(unknown)})`;
    } else if (!p.ok) {
      analysis.diagnostics.push(errorDiagnostic(doc, r.stmt, p.offset, 'syntax-error', p.message));
      r.notPlanned = 'the statement does not parse';
    } else if (!isExplainable(p.kind)) {
      r.notPlanned = `${p.kind === 'empty' ? 'empty statement' : 'only SELECT, INSERT, UPDATE, DELETE, WITH and VALUES are planned'}`;
    } else if (!planner) {
      r.notPlanned = 'no database is configured';
    }
  }
  if (!planner) return analysis;

  const plannable = analysis.results.filter((r) => !r.notPlanned);
  const ctx = { settings, signal };
  let unavailable: string | undefined;
  await forEachLimited(plannable, EXPLAIN_CONCURRENCY, async (r) => {
    if (signal?.aborted) return;
    if (unavailable) {
      r.notPlanned = unavailable;
      return;
    }
    const res = await planner.explain({ sql: r.stmt.text, paramCount: r.stmt.parse.ok ? r.stmt.parse.paramCount : 0 }, ctx);
    if (res.kind === 'unavailable') {
      unavailable = `the database is unavailable: ${res.reason}`;
      r.notPlanned = unavailable;
    } else r.explain = res;
  });

  const planned = analysis.results.filter((r) => r.explain?.kind === 'plan');
  const names = new Map<string, QualifiedName>();
  for (const r of planned)
    for (const b of r.stmt.blocks) for (const t of b.tables) names.set(relationKey({ schema: t.schema, name: t.relname }), { schema: t.schema, name: t.relname });
  const relations: Map<string, RelationInfo> =
    names.size > 0 && !signal?.aborted ? await planner.describeRelations([...names.values()], ctx) : new Map();

  for (const r of analysis.results) {
    const res = r.explain;
    if (!res) continue;
    if (res.kind === 'error') {
      if (unknownParts(r.stmt).length > 0) continue; // likely caused by the placeholder standing in for it
      const message = [res.message, res.detail, res.hint && `Hint: ${res.hint}`].filter(Boolean).join('\n');
      analysis.diagnostics.push(errorDiagnostic(doc, r.stmt, res.position, 'database-error', message));
      continue;
    }
    if (res.kind !== 'plan') continue;
    const explained = new Set<unknown>();
    for (const rule of PLAN_RULES) {
      const found = rule.check({
        stmt: r.stmt,
        plan: res.plan,
        settings,
        relation: (t) => relations.get(relationKey({ schema: t.schema, name: t.relname })),
        statistics: res.statistics,
      });
      for (const f of found) {
        if (f.table && explained.has(f.table)) continue;
        r.findings.push(f);
      }
      for (const f of found) if (f.table) explained.add(f.table);
    }
    r.findings.forEach((f, k) => {
      const id = `${doc.version}:${r.stmt.index}:${k}`;
      analysis.findings.set(id, { finding: f, stmt: r.stmt });
      analysis.diagnostics.push({
        range: doc.range(r.stmt, f.span.start, f.span.end),
        severity: f.severity,
        code: f.ruleId,
        source: 'sql-insight',
        message: f.message,
        data: { findingId: id },
      });
    });
  }
  return analysis;
}

function errorDiagnostic(
  doc: ParsedDocument,
  stmt: ParsedStatement,
  offset: number | undefined,
  code: string,
  message: string,
): Diagnostic {
  const tokens = stmt.tokens;
  let start = 0;
  let end = stmt.text.length;
  if (tokens.length > 0) {
    const at = offset === undefined ? 0 : offset >= stmt.text.length ? tokens.length - 1 : tokenIndexAt(tokens, offset);
    const tok = tokens[Math.max(0, at)];
    start = tok.start;
    end = tok.end;
  } else if (offset !== undefined) {
    start = Math.min(offset, stmt.text.length);
    end = Math.min(start + 1, stmt.text.length);
  }
  return { range: doc.range(stmt, start, end), severity: Severity.Error, code, source: 'sql-insight', message };
}

function doHover(analysis: DocumentAnalysis, position: Position): Hover | null {
  const doc = analysis.document;
  const offset = doc.lines.offsetAt(position);
  const stmt = doc.statementAt(offset);
  if (!stmt) return null;
  const result = analysis.results[stmt.index];
  const range = doc.range(stmt, 0, stmt.text.length);
  const notes: string[] = [];
  if (stmt.region.origin) notes.push(`From ${stmt.region.origin}.`);
  const unknown = unknownParts(stmt);
  if (result.explain?.kind === 'plan') {
    if (unknown.length > 0)
      notes.push(`Not known statically: ${describeUnknown(unknown)}; planned as a parameter, so the plan may differ at run time.`);
    return { contents: { kind: 'markdown', value: planMarkdown(result.explain, notes) }, range };
  }
  const why =
    result.explain?.kind === 'error'
      ? unknown.length > 0
        ? `part of it is not known statically (${describeUnknown(unknown)}), and PostgreSQL could not plan it without it`
        : `PostgreSQL rejected it: ${result.explain.message}`
      : result.notPlanned ?? 'it has not been planned yet (plans are made on open and save)';
  return { contents: { kind: 'markdown', value: `**SQL Insight** · not planned: ${why}.` }, range };
}

async function doCodeActions(
  analysis: DocumentAnalysis,
  _range: Range,
  diagnostics: Diagnostic[],
  planner: Planner | undefined,
  settings: SqlInsightSettings,
  fixContext: FixContext,
): Promise<CodeAction[]> {
  if (!planner) return [];
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    const id = d.data?.findingId;
    const entry = id ? analysis.findings.get(id) : undefined;
    const fix = entry?.finding.fix;
    if (!entry || !fix || !id) continue;
    const proof = await prove(analysis, id, planner, settings);
    if (proof.kind !== 'proven' || !proof.used || !(proof.after < proof.before)) continue;
    const ddl = fix.ddl(settings.index.concurrently);
    const cost = `cost ${formatNumber(proof.before)} → ${formatNumber(proof.after)}`;
    if (!analysis.document.embedded) {
      actions.push({
        title: `${fix.label} — ${cost}`,
        kind: 'quickfix',
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [analysis.document.uri]: [insertAbove(analysis.document, entry.stmt, ddl)] } },
      });
    } else {
      const file = migrationFile(analysis.document.uri, fix.candidate.name, settings, fixContext);
      actions.push({
        title: `${fix.label} in a new migration — ${cost}`,
        kind: 'quickfix',
        diagnostics: [d],
        isPreferred: true,
        edit: newFileEdit(file, migrationText(ddl, settings)),
      });
    }
  }
  return actions;
}

function prove(analysis: DocumentAnalysis, id: string, planner: Planner, settings: SqlInsightSettings): Promise<WhatIfResult> {
  let p = analysis.proofs.get(id);
  if (!p) {
    const entry = analysis.findings.get(id);
    const fix = entry?.finding.fix;
    if (!entry || !fix) return Promise.resolve({ kind: 'unproven', reason: 'no fix' });
    const stmt = entry.stmt;
    p = planner
      .whatIf({ sql: stmt.text, paramCount: stmt.parse.ok ? stmt.parse.paramCount : 0 }, fix.candidate, { settings })
      .catch((e: unknown): WhatIfResult => ({ kind: 'unproven', reason: String(e) }));
    analysis.proofs.set(id, p);
  }
  return p;
}

async function proveFixes(analysis: DocumentAnalysis, planner: Planner, settings: SqlInsightSettings): Promise<void> {
  for (const [id, entry] of analysis.findings) if (entry.finding.fix) await prove(analysis, id, planner, settings);
}

/** `<folder>/<migrationsDir>/<UTC timestamp>_<index name>.sql`; beside the document without a workspace folder. */
function migrationFile(documentUri: string, name: string, settings: SqlInsightSettings, ctx: FixContext): string {
  const base = (ctx.workspaceFolder ?? documentUri.slice(0, documentUri.lastIndexOf('/'))).replace(/\/+$/, '');
  const dir = (settings.migrationsDir || 'migrations').replace(/^\.?\/+|\/+$/g, '');
  const stamp = ctx.now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${base}/${dir.split('/').map(encodeURIComponent).join('/')}/${stamp}_${name}.sql`;
}

function migrationText(ddl: string, settings: SqlInsightSettings): string {
  const note = settings.index.concurrently
    ? '-- CREATE INDEX CONCURRENTLY cannot run inside a transaction: run this migration without one\n' +
      '-- (or set sqlInsight.index.concurrently to false).\n'
    : '';
  return `-- Written by SQL Insight.\n${note}${ddl}\n`;
}

function newFileEdit(uri: string, text: string): WorkspaceEdit {
  const insert: TextEdit = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: text };
  return {
    documentChanges: [
      { kind: 'create', uri, options: { ignoreIfExists: true } },
      { textDocument: { uri, version: null }, edits: [insert] },
    ],
  };
}

/** Inserts DDL as a new statement above `stmt`, keeping the statement's indentation. */
function insertAbove(doc: ParsedDocument, stmt: ParsedStatement, ddl: string) {
  const startOffset = stmt.toHost(0);
  const pos = doc.lines.positionAt(startOffset);
  const lineStart = startOffset - pos.character;
  const before = doc.text.slice(lineStart, startOffset);
  if (/^[ \t]*$/.test(before)) {
    return { range: { start: { line: pos.line, character: 0 }, end: { line: pos.line, character: 0 } }, newText: `${before}${ddl}\n` };
  }
  return { range: { start: pos, end: pos }, newText: `${ddl}\n` };
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
