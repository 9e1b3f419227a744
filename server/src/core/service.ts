// The facade of the analysis core: parse → plan → rules → fixes, returning plain LSP-shaped values.
// It never imports the protocol, vscode or a database driver; the database arrives as a Planner per call.
import type { SqlInsightSettings } from '../../../common/protocol';
import { tokenIndexAt } from './ast';
import { ParsedDocument, parseDocument, type ParsedStatement, type StatementSyntax } from './document';
import { planMarkdown } from './hover';
import { isExplainable, loadParser } from './parse';
import type { CallContext, DatabaseInfo, ExplainResult, Planner, PlanRequest, QualifiedName, RelationInfo, SchemaVersions, WhatIfResult } from './ports';
import { Lru, PlanCache, planContext, planKey, relationCacheKey } from './planCache';
import { relationKey } from './ports';
import { extractSqlRegions } from './embedded/extract';
import { annotateLoops } from './embedded/loops';
import { migrationFiles, type MigrationDirListing } from './migrations';
import { startsLikeSql } from './embedded/sqlStart';
import { wholeDocumentRegion, type SqlRegion } from './regions';
import { RULES } from './rules';
import type { Finding, Host, IndexFix, Rule, RuleContext } from './rules/types';
import { tableSize } from './size';
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
import { COPY_COMMAND, type RuleLevel } from '../../../common/protocol';

export interface StatementResult {
  stmt: ParsedStatement;
  explain?: ExplainResult;
  /** The EXPLAIN ANALYZE result, when the user asked for one. */
  analyzed?: ExplainResult;
  /** Why the statement was not planned, for the hover. */
  notPlanned?: string;
  findings: Finding[];
  /** What its plan-cache key holds besides its text (planCache.ts planContext), for the document's next run. */
  planContext?: string;
}

export interface DocumentAnalysis {
  document: ParsedDocument;
  diagnostics: Diagnostic[];
  results: StatementResult[];
  /** Findings by the id carried in their diagnostic's `data`. */
  findings: Map<string, { finding: Finding; stmt: ParsedStatement }>;
  /** What-if proofs of fixes, by finding id and fix index (filled lazily, shared by code-action requests). */
  proofs: Map<string, Promise<WhatIfResult>>;
  /** Catalog facts used by the rules, kept for re-running them after EXPLAIN ANALYZE. */
  relations: Map<string, RelationInfo>;
  database?: DatabaseInfo;
  settings?: SqlInsightSettings;
  /** A database took part (or, for a run that carried plans over, took part in the run they came from). */
  withDatabase?: boolean;
}

export interface ValidationOptions {
  /**
   * Plan nothing: statements whose text is unchanged since `previous` keep its plans (their findings are made
   * again at their new positions), the others get syntax findings only. For runs on every change.
   */
  carryPlans?: boolean;
}

/** The outcome of the Analyze command for one statement. */
export type AnalyzeOutcome =
  | { kind: 'analyzed'; executionTimeMs?: number; rows: number; diagnostics: Diagnostic[] }
  | { kind: 'needs-confirmation'; message: string }
  | { kind: 'not-analyzed'; message: string };

export interface ServiceOptions {
  /** Base URL of docs/rules.md; each diagnostic's codeDescription links to `<base>#<rule-id>`. */
  rulesDocUrl?: string;
}

/** What the plan cache saved in the last doValidation (for logs and tests). */
export interface PlanStats {
  statements: number;
  cached: number;
  planned: number;
}

export const SQL_LANGUAGE_IDS = new Set(['sql', 'pgsql', 'postgres', 'postgresql']);
/** Host languages whose string and template literals may hold SQL. */
export const EMBEDDING_LANGUAGE_IDS = new Set(['typescript', 'typescriptreact', 'javascript', 'javascriptreact']);

/** Where a code action may put new files, and the clock for their names (both from the adapter). */
export interface FixContext {
  /** URI of the workspace folder that holds the document, if any. */
  workspaceFolder?: string;
  now: Date;
  /** What the migrations folder (`migrationsFolder(…)`) holds, when it exists: decides the file style. */
  migrations?: MigrationDirListing;
}

/** How many EXPLAINs run at once; the planner's pool bounds connections anyway. */
const EXPLAIN_CONCURRENCY = 2;

export interface SqlInsightService {
  /** True when the core finds SQL in documents of this language. */
  handles(languageId: string): boolean;
  /**
   * Splits and parses; `settings` bring the embedded-SQL options and the size limits. Statements whose text
   * is in `previous` (the document's last parse) reuse its parse trees.
   */
  parse(document: SqlTextDocument, settings: SqlInsightSettings, previous?: ParsedDocument): Promise<ParsedDocument>;
  doValidation(
    document: ParsedDocument,
    planner: Planner | undefined,
    settings: SqlInsightSettings,
    signal?: AbortSignal,
    /** The document's previous analysis: EXPLAIN ANALYZE results of statements whose text is unchanged carry over. */
    previous?: DocumentAnalysis,
    options?: ValidationOptions,
  ): Promise<DocumentAnalysis>;
  /** Counts of the last doValidation that planned. */
  readonly lastPlanStats: PlanStats;
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
  proveFixes(analysis: DocumentAnalysis, planner: Planner, settings: SqlInsightSettings, signal?: AbortSignal): Promise<void>;
  /**
   * EXPLAIN ANALYZE of the statement at `offset` (host-document UTF-16), inside a transaction that is always
   * rolled back. Data-changing statements need `confirmed`. On success the analysis's diagnostics are updated.
   */
  analyzeStatement(
    analysis: DocumentAnalysis,
    offset: number,
    planner: Planner | undefined,
    settings: SqlInsightSettings,
    options?: { confirmed?: boolean; signal?: AbortSignal },
  ): Promise<AnalyzeOutcome>;
  /** Statements the Analyze code lens is shown on, with whether they change data. */
  analyzableStatements(analysis: DocumentAnalysis): { range: Range; offset: number; writes: boolean; analyzed?: string }[];
}

export function createSqlInsightService(options: ServiceOptions = {}): SqlInsightService {
  const docs = options.rulesDocUrl;
  // Plans and catalog facts survive between runs, keyed by the versions the planner reports (planCache.ts).
  const cache = new PlanCache();
  const stats: PlanStats = { statements: 0, cached: 0, planned: 0 };
  const findings: FindingsMemo = new WeakMap();
  // Parse results by statement text: a save re-parses only what changed.
  const syntax = new Lru<StatementSyntax>(2 * SYNTAX_MEMO_ENTRIES, (text) => SYNTAX_BYTES_PER_CHAR * text.length, 2 * SYNTAX_MEMO_BYTES);
  return {
    handles: (languageId) => SQL_LANGUAGE_IDS.has(languageId) || EMBEDDING_LANGUAGE_IDS.has(languageId),
    parse: (document, settings, previous) => parse(document, settings, syntax, previous),
    doValidation: (document, planner, settings, signal, previous, opts) =>
      doValidation(document, planner, settings, signal, docs, previous, opts ?? {}, cache, stats, findings),
    get lastPlanStats() {
      return { ...stats };
    },
    doHover,
    doCodeActions,
    proveFixes,
    analyzeStatement: (analysis, offset, planner, settings, opts) => analyzeStatement(analysis, offset, planner, settings, opts ?? {}, docs),
    analyzableStatements,
  };
}

// Parse trees of statements no longer in an open document (those reuse their last parse), kept for sure
// (Lru holds up to twice as much): 5,000 statements or ~100,000 characters of SQL.
const SYNTAX_MEMO_ENTRIES = 5_000;
// A parse tree and its query blocks hold ~31 bytes per character of SQL (measured over 5,000 statements);
// tokens, when a finding needed them, add some.
const SYNTAX_BYTES_PER_CHAR = 40;
const SYNTAX_MEMO_BYTES = 4 * 1024 * 1024;

async function parse(
  document: SqlTextDocument,
  settings: SqlInsightSettings,
  memo: Lru<StatementSyntax>,
  previous: ParsedDocument | undefined,
): Promise<ParsedDocument> {
  await loadParser();
  const text = document.getText();
  const embedded = !SQL_LANGUAGE_IDS.has(document.languageId);
  if (text.length > settings.limits.maxDocumentChars) return new ParsedDocument(document.uri, document.version, text, [], embedded, true);
  const regions = regionsOf(text, document.languageId, settings);
  // The document's own last parse first: an open document's parse trees are held by its analysis anyway,
  // so the shared memo only needs to remember what is no longer open.
  const before = new Map<string, StatementSyntax>();
  for (const s of previous?.statements ?? []) if (!s.oversized) before.set(s.text, s.syntax);
  const lookup = previous ? { get: (t: string) => before.get(t) ?? memo.get(t), set: (t: string, v: StatementSyntax) => memo.set(t, v) } : memo;
  return parseDocument(document.uri, document.version, text, regions, embedded, settings.limits.maxStatementChars, lookup);
}

function regionsOf(text: string, languageId: string, settings: SqlInsightSettings): SqlRegion[] {
  if (SQL_LANGUAGE_IDS.has(languageId)) return [wholeDocumentRegion(text)];
  if (!EMBEDDING_LANGUAGE_IDS.has(languageId)) return [];
  // A tagged template that does not start like a statement is a fragment (`sql\`WHERE …\``) spliced into
  // another query at run time: on its own it is not a statement, so it is neither parsed nor planned.
  const regions = extractSqlRegions(text, languageId, settings.embedded).filter((r) => startsLikeSql(r.text));
  if (settings.rules['n-plus-one'] !== 'off') annotateLoops(text, languageId, regions);
  return regions;
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
  signal: AbortSignal | undefined,
  docs: string | undefined,
  previous: DocumentAnalysis | undefined,
  options: ValidationOptions,
  cache: PlanCache,
  stats: PlanStats,
  memo: FindingsMemo,
): Promise<DocumentAnalysis> {
  const carry = options.carryPlans === true;
  if (carry) planner = undefined;
  const withDatabase = carry ? previous?.withDatabase === true : planner !== undefined;
  const analysis: DocumentAnalysis = {
    document: doc,
    diagnostics: [],
    results: doc.statements.map((stmt) => ({ stmt, findings: [] })),
    findings: new Map(),
    proofs: new Map(),
    relations: new Map(),
    settings,
    withDatabase,
  };

  const limits = settings.limits;
  if (doc.oversized) {
    analysis.diagnostics.push(
      information(
        doc.lines.range(0, lineEnd(doc.text, 0)),
        `File too large for plan analysis: ${formatNumber(doc.text.length)} characters, more than ` +
          `sqlInsight.limits.maxDocumentChars (${formatNumber(limits.maxDocumentChars)}). It is not checked at all.`,
      ),
    );
    return analysis;
  }

  let explainable = 0;
  for (const r of analysis.results) {
    const p = r.stmt.parse;
    const unknown = unknownParts(r.stmt);
    if (r.stmt.oversized) {
      r.notPlanned = 'the statement is too large for plan analysis';
      const start = r.stmt.toHost(0);
      analysis.diagnostics.push(
        information(
          doc.lines.range(start, lineEnd(doc.text, start)),
          `Statement too large for plan analysis: ${formatNumber(r.stmt.text.length)} characters, more than ` +
            `sqlInsight.limits.maxStatementChars (${formatNumber(limits.maxStatementChars)}).`,
        ),
      );
    } else if (!p.ok && unknown.length > 0) {
      // The unknown part (an identifier or SQL fragment) is what made it unparsable here, not the user's SQL.
      r.notPlanned = `part of it is not known statically (${describeUnknown(unknown)})`;
    } else if (!p.ok) {
      analysis.diagnostics.push(errorDiagnostic(doc, r.stmt, p.offset, 'syntax-error', p.message));
      r.notPlanned = 'the statement does not parse';
    } else if (!isExplainable(p.kind)) {
      r.notPlanned = `${p.kind === 'empty' ? 'empty statement' : 'only SELECT, INSERT, UPDATE, DELETE, WITH and VALUES are planned'}`;
    } else if (!withDatabase) {
      r.notPlanned = 'no database is configured';
    } else if (++explainable > limits.maxPlannedStatements) {
      r.notPlanned = `only the first ${formatNumber(limits.maxPlannedStatements)} statements of a file are planned (sqlInsight.limits.maxPlannedStatements)`;
      if (explainable === limits.maxPlannedStatements + 1) {
        const start = r.stmt.toHost(0);
        analysis.diagnostics.push(
          information(doc.lines.range(start, lineEnd(doc.text, start)), `Not planned from here on: ${r.notPlanned}.`),
        );
      }
    }
  }
  if (carry && previous) carryPlans(analysis, previous);
  else if (planner) await plan(analysis, planner, { settings, signal }, cache, stats, previous);

  let inputKey: string | undefined;
  const runKey = (): string => (inputKey ??= rulesInputKey(analysis));
  const analyzedBefore = new Map<string, ExplainResult>();
  for (const p of previous?.results ?? []) if (p.analyzed) analyzedBefore.set(p.stmt.text, p.analyzed);
  for (const r of analysis.results) {
    const carried = analyzedBefore.get(r.stmt.text);
    if (carried && r.explain?.kind === 'plan') r.analyzed = carried;
    const res = r.explain;
    // An error caused by the placeholder standing in for a part not known statically is not the user's.
    if (res?.kind === 'error' && unknownParts(r.stmt).length === 0) {
      const message = [res.message, res.detail, res.hint && `Hint: ${res.hint}`].filter(Boolean).join('\n');
      analysis.diagnostics.push(errorDiagnostic(doc, r.stmt, res.position, 'database-error', message));
    }
    r.findings = memoFindings(memo, analysis, r, runKey) ?? runRules(analysis, r, settings);
  }
  publishFindings(analysis, docs);
  return analysis;
}

/**
 * Findings of a planned statement by its plan (the plan cache hands out the same object while nothing
 * changed) and everything else the rules read: settings, catalog facts, extensions. Findings are
 * statement-relative, so they hold wherever the statement moved. Only for `.sql` statements: embedded ones
 * also depend on their host code (interpolations, loops).
 */
type FindingsMemo = WeakMap<ExplainResult, Map<string, Finding[]>>;

function memoFindings(memo: FindingsMemo, analysis: DocumentAnalysis, r: StatementResult, runKey: () => string): Finding[] | undefined {
  if (r.explain?.kind !== 'plan' || r.analyzed || r.stmt.region.origin !== undefined || analysis.settings === undefined) return undefined;
  let byRun = memo.get(r.explain);
  if (!byRun) memo.set(r.explain, (byRun = new Map()));
  const key = runKey();
  let found = byRun.get(key);
  if (!found) {
    // One entry per plan is enough: an older key (settings or catalog since changed) is not coming back often.
    byRun.clear();
    found = runRules(analysis, r, analysis.settings);
    byRun.set(key, found);
  }
  return found;
}

const relationIds = new WeakMap<RelationInfo, number>();
let nextRelationId = 0;

/** What the rules read besides the statement and its plan, as a string (RelationInfo objects by identity). */
function rulesInputKey(analysis: DocumentAnalysis): string {
  const rels = [...analysis.relations].map(([k, info]) => {
    let id = relationIds.get(info);
    if (id === undefined) relationIds.set(info, (id = ++nextRelationId));
    return `${k}#${id}`;
  });
  return JSON.stringify([analysis.settings, rels.sort(), analysis.database ?? null]);
}

function planRequest(r: StatementResult): PlanRequest {
  return { sql: r.stmt.text, paramCount: r.stmt.parse.ok ? r.stmt.parse.paramCount : 0 };
}

/**
 * Plans the plannable statements: one catalog round trip for the change markers of every relation they
 * name, then only the statements whose cache key (text, parameters, database, markers) missed, in one batch.
 */
async function plan(
  analysis: DocumentAnalysis,
  planner: Planner,
  ctx: CallContext,
  cache: PlanCache,
  stats: PlanStats,
  /** The document's last run: its plans are found there first, under the same keys. */
  previous?: DocumentAnalysis,
): Promise<void> {
  const { settings, signal } = ctx;
  cache.resize(settings.limits.planCacheEntries);
  const plannable = analysis.results.filter((r) => !r.notPlanned);
  const names = relationsOf(plannable);
  let versions: SchemaVersions | undefined;
  if (plannable.length > 0 && settings.limits.planCacheEntries > 0 && planner.schemaVersions) {
    versions = await planner.schemaVersions([...names.values()], ctx);
  }
  // An open document's plans are held by its last analysis anyway: they are looked up there first, so that
  // a large file's plans never depend on the shared cache's budget (which is for documents no longer open).
  // Keyed by text, then compared on the rest of the key: a save of a large file builds no full key (and
  // hashes none) for the statements it finds there.
  const before = new Map<string, StatementResult>();
  if (versions) for (const p of previous?.results ?? []) if (p.planContext !== undefined && p.explain?.kind === 'plan') before.set(p.stmt.text, p);
  const todo: { r: StatementResult; req: PlanRequest; key?: string }[] = [];
  for (const r of plannable) {
    const req = planRequest(r);
    const context = versions ? planContext(req, r.stmt.relations.keys, versions) : undefined;
    r.planContext = context;
    if (context === undefined) {
      todo.push({ r, req });
      continue;
    }
    const prev = before.get(r.stmt.text);
    let hit = prev?.planContext === context && prev.explain?.kind === 'plan' ? prev.explain : undefined;
    const key = hit ? undefined : planKey(context, req.sql);
    hit ??= key === undefined ? undefined : cache.plans.get(key);
    if (hit) r.explain = hit;
    else todo.push({ r, req, key });
  }
  stats.statements = plannable.length;
  stats.cached = plannable.length - todo.length;
  stats.planned = todo.length;
  if (todo.length > 0 && !signal?.aborted) {
    const results = planner.explainBatch
      ? await planner.explainBatch(todo.map((t) => t.req), ctx)
      : await explainEach(planner, todo.map((t) => t.req), ctx);
    todo.forEach(({ r, key }, i) => {
      const res = results[i] ?? { kind: 'unavailable', reason: 'not planned' };
      if (res.kind === 'unavailable') r.notPlanned = `the database is unavailable: ${res.reason}`;
      else {
        r.explain = res;
        // A cut-short run's results are not cached: one of them may be a cancellation in disguise.
        if (res.kind === 'plan' && key !== undefined && !signal?.aborted) cache.plans.set(key, res);
      }
    });
  }

  const wanted = relationsOf(analysis.results.filter((r) => r.explain?.kind === 'plan' && !r.notPlanned));
  if (wanted.size > 0 && !signal?.aborted) {
    const missing: QualifiedName[] = [];
    for (const [k, q] of wanted) {
      const ck = versions && relationCacheKey(k, versions);
      const info = ck === undefined ? undefined : cache.relations.get(ck);
      if (info) analysis.relations.set(k, info);
      else missing.push(q);
    }
    if (missing.length > 0) {
      const found = await planner.describeRelations(missing, ctx);
      for (const [k, info] of found) {
        analysis.relations.set(k, info);
        const ck = versions && relationCacheKey(k, versions);
        if (ck !== undefined && !signal?.aborted) cache.relations.set(ck, info);
      }
    }
  }
  const planned = analysis.results.some((r) => r.explain?.kind === 'plan');
  if (planned && !signal?.aborted && planner.describeDatabase) {
    const known = versions && cache.databases.get(versions.scope);
    analysis.database = known ?? (await planner.describeDatabase(ctx));
    if (!known && versions && analysis.database && !signal?.aborted) cache.databases.set(versions.scope, analysis.database);
  }
}

/** The relations the statements name, each once, by key. */
function relationsOf(results: StatementResult[]): Map<string, QualifiedName> {
  const out = new Map<string, QualifiedName>();
  for (const r of results) {
    const { keys, names } = r.stmt.relations;
    keys.forEach((k, i) => out.set(k, names[i]));
  }
  return out;
}

/** For planners without `explainBatch`: two at a time, and nothing more sent once the database is unavailable. */
async function explainEach(planner: Planner, reqs: PlanRequest[], ctx: CallContext): Promise<ExplainResult[]> {
  const results: ExplainResult[] = new Array(reqs.length);
  let unavailable: ExplainResult | undefined;
  await forEachLimited(
    reqs.map((req, i) => ({ req, i })),
    EXPLAIN_CONCURRENCY,
    async ({ req, i }) => {
      if (ctx.signal?.aborted) unavailable ??= { kind: 'unavailable', reason: 'cancelled' };
      if (unavailable) {
        results[i] = unavailable;
        return;
      }
      const res = await planner.explain(req, ctx);
      if (res.kind === 'unavailable') unavailable ??= res;
      results[i] = res;
    },
  );
  return results;
}

/** A run on change: unchanged statements keep the previous run's plans (and errors) and catalog facts; nothing is sent. */
function carryPlans(analysis: DocumentAnalysis, previous: DocumentAnalysis): void {
  const before = new Map<string, StatementResult>();
  for (const p of previous.results) {
    if (p.explain) before.set(`${planRequest(p).paramCount}\u0000${p.stmt.text}`, p);
  }
  for (const r of analysis.results) {
    if (r.notPlanned || !r.stmt.parse.ok) continue;
    const carried = before.get(`${planRequest(r).paramCount}\u0000${r.stmt.text}`);
    if (carried) {
      r.explain = carried.explain;
      r.planContext = carried.planContext;
    }
  }
  analysis.relations = previous.relations;
  analysis.database = previous.database;
}

/** Where a statement lives decides some rules' defaults (select-star is for request code, not scripts). */
export function hostOf(stmt: ParsedStatement): Host {
  return stmt.region.origin !== undefined ? 'embedded' : 'sql';
}

/** The level a rule runs at for this statement: the user's setting, else the rule's default for the host. */
export function ruleLevel(rule: Rule, settings: SqlInsightSettings, host: Host): RuleLevel {
  return settings.rules[rule.id] ?? rule.defaults[host];
}

const SEVERITY: Record<Exclude<RuleLevel, 'off'>, Severity> = {
  error: Severity.Error,
  warning: Severity.Warning,
  information: Severity.Information,
  hint: Severity.Hint,
};

/** Syntax rules always; plan rules on a plan; analyze rules on an EXPLAIN ANALYZE plan. */
function runRules(analysis: DocumentAnalysis, r: StatementResult, settings: SqlInsightSettings): Finding[] {
  if (!r.stmt.parse.ok) return [];
  const host = hostOf(r.stmt);
  const enabled = RULES.filter((rule) => ruleLevel(rule, settings, host) !== 'off');
  const findings: Finding[] = [];
  for (const rule of enabled) if (rule.needs === 'syntax') findings.push(...(contained(() => rule.check({ stmt: r.stmt, settings, host })) ?? []));

  const relations = analysis.relations;
  const relation = (schema: string | undefined, name: string): RelationInfo | undefined =>
    relations.get(relationKey({ schema, name })) ??
    (schema ? [...relations.values()].find((i) => i.schema === schema && i.name === name) : undefined);
  const context = (plan: ExplainResult | undefined, analyzed: boolean): RuleContext | undefined => {
    if (plan?.kind !== 'plan') return undefined;
    const ctx: RuleContext = {
      stmt: r.stmt,
      settings,
      host,
      plan: plan.plan,
      analyzed,
      relation: (t) => relations.get(relationKey({ schema: t.schema, name: t.relname })),
      relationByName: (schema, name) => relation(schema, name) ?? (schema === undefined ? undefined : relations.get(name)),
      size: (t) => {
        const info = relations.get(relationKey({ schema: t.schema, name: t.relname }));
        // Empty tables (the embedded engine without row counts) have no size, and their plans say nothing
        // about one; with synthetic statistics only the tables that were given a row count have one.
        if (plan.statistics === 'none') return undefined;
        const size = tableSize(info, settings);
        if (plan.statistics === 'synthetic' && !size?.configured && !(info && info.reltuples >= 0)) return undefined;
        return size;
      },
      database: analysis.database,
    };
    if (plan.statistics) ctx.statistics = plan.statistics;
    return ctx;
  };

  // Plan rules read the analysed plan when there is one: it has the same shape, plus actual rows.
  const planCtx = context(r.analyzed?.kind === 'plan' ? r.analyzed : r.explain, r.analyzed?.kind === 'plan');
  if (planCtx) {
    const explained = new Set<unknown>();
    for (const rule of enabled) {
      if (rule.needs === 'syntax' || (rule.needs === 'analyze' && !planCtx.analyzed)) continue;
      // A pathological parse tree can exhaust the stack in a rule: that rule finds nothing here.
      const found = contained(() => rule.check(planCtx)) ?? [];
      // What EXPLAIN ANALYZE measured is its own news, even on a table a plan rule already explained.
      if (rule.needs === 'analyze') {
        findings.push(...found);
        continue;
      }
      for (const f of found) {
        if (f.table && explained.has(f.table)) continue;
        findings.push(f);
      }
      for (const f of found) if (f.table) explained.add(f.table);
    }
  }
  return findings;
}

function publishFindings(analysis: DocumentAnalysis, docs: string | undefined): void {
  const doc = analysis.document;
  const settings = analysis.settings;
  if (!settings) return;
  for (const r of analysis.results) {
    const host = hostOf(r.stmt);
    r.findings.forEach((f, k) => {
      const rule = RULES.find((x) => x.id === f.ruleId);
      const level = rule ? ruleLevel(rule, settings, host) : 'warning';
      if (level === 'off') return;
      const id = `${doc.version}:${r.stmt.index}:${k}`;
      analysis.findings.set(id, { finding: f, stmt: r.stmt });
      const d: Diagnostic = {
        range: doc.range(r.stmt, f.span.start, f.span.end),
        severity: SEVERITY[level],
        code: f.ruleId,
        source: 'sql-insight',
        message: f.message,
        data: { findingId: id },
      };
      if (docs) d.codeDescription = { href: `${docs}#${f.ruleId}` };
      analysis.diagnostics.push(d);
    });
  }
}

function information(range: Range, message: string): Diagnostic {
  return { range, severity: Severity.Information, code: 'too-large', source: 'sql-insight', message };
}

/** Offset of the end of the line that holds `offset`. */
function lineEnd(text: string, offset: number): number {
  const nl = text.slice(offset, offset + 1000).search(/[\r\n]/);
  return nl < 0 ? Math.min(text.length, offset + 1000) : offset + nl;
}

/** Runs one statement's share of the analysis; a failure there costs that statement its findings only. */
function contained<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
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
  if (result.analyzed?.kind === 'plan') {
    return { contents: { kind: 'markdown', value: planMarkdown(result.analyzed, notes) }, range };
  }
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
    const fixes = entry?.finding.fixes ?? [];
    if (!entry || !id || fixes.length === 0) continue;
    const proofs = await Promise.all(fixes.map((_, i) => prove(analysis, id, i, planner, settings)));
    const proven: { fix: IndexFix; before: number; after: number }[] = [];
    const unproven: { fix: IndexFix; reason: string }[] = [];
    fixes.forEach((fix, i) => {
      const p = proofs[i];
      if (fix.unproven) unproven.push({ fix, reason: fix.unproven });
      else if (p.kind === 'proven' && p.used && p.after < p.before) proven.push({ fix, before: p.before, after: p.after });
      else if (p.kind === 'unproven' && p.skipped) unproven.push({ fix, reason: p.reason });
    });
    const afterOf = new Map(proven.map((p) => [p.fix.candidate.name, p.after]));
    for (let i = proven.length - 1; i >= 0; i--) {
      const base = proven[i].fix.refines;
      if (base !== undefined && !(proven[i].after < (afterOf.get(base) ?? Infinity))) proven.splice(i, 1);
    }
    proven.sort((a, b) => a.after - b.after);
    const concurrently = settings.index.concurrently;
    // A .sql file gets the DDL above the statement; embedded SQL — or any SQL once a migrations folder is
    // set — gets a new migration file.
    const toMigration = analysis.document.embedded || settings.migrationsDir !== '';
    const where = toMigration ? ' in a new migration' : '';
    const edit = (fix: IndexFix): WorkspaceEdit =>
      toMigration
        ? migrationEdit(analysis.document.uri, fix, settings, fixContext)
        : { changes: { [analysis.document.uri]: [insertAbove(analysis.document, entry.stmt, fix.ddl(concurrently))] } };
    proven.forEach(({ fix, before, after }, i) => {
      actions.push({
        title: `${fix.label}${where} — cost ${formatNumber(before)} → ${formatNumber(after)}`,
        kind: 'quickfix',
        diagnostics: [d],
        isPreferred: i === 0,
        edit: edit(fix),
      });
    });
    for (const { fix, reason } of unproven) {
      actions.push({ title: `${fix.label}${where} — unproven: ${reason}`, kind: 'quickfix', diagnostics: [d], edit: edit(fix) });
    }
    for (const { fix } of [...proven, ...unproven]) {
      actions.push({
        title: `Copy CREATE INDEX ${fix.candidate.name}`,
        kind: 'quickfix',
        diagnostics: [d],
        command: { title: 'Copy CREATE INDEX', command: COPY_COMMAND, arguments: [fix.ddl(concurrently)] },
      });
    }
  }
  return actions;
}

function prove(
  analysis: DocumentAnalysis,
  id: string,
  index: number,
  planner: Planner,
  settings: SqlInsightSettings,
  signal?: AbortSignal,
): Promise<WhatIfResult> {
  const key = `${id}#${index}`;
  let p = analysis.proofs.get(key);
  if (!p) {
    const entry = analysis.findings.get(id);
    const fix = entry?.finding.fixes?.[index];
    if (!entry || !fix) return Promise.resolve({ kind: 'unproven', reason: 'no fix' });
    if (fix.unproven) return Promise.resolve({ kind: 'unproven', reason: fix.unproven });
    const stmt = entry.stmt;
    p = planner
      .whatIf({ sql: stmt.text, paramCount: stmt.parse.ok ? stmt.parse.paramCount : 0 }, fix.candidate, { settings, signal })
      .catch((e: unknown): WhatIfResult => ({ kind: 'unproven', reason: String(e) }));
    analysis.proofs.set(key, p);
    // A proof cut short by a superseded run is not a verdict: a later code-action request tries again.
    if (signal) void p.then((r) => r.kind === 'unproven' && signal.aborted && analysis.proofs.get(key) === p && analysis.proofs.delete(key));
  }
  return p;
}

async function proveFixes(analysis: DocumentAnalysis, planner: Planner, settings: SqlInsightSettings, signal?: AbortSignal): Promise<void> {
  for (const [id, entry] of analysis.findings) {
    const n = entry.finding.fixes?.length ?? 0;
    for (let i = 0; i < n; i++) {
      if (signal?.aborted) return;
      await prove(analysis, id, i, planner, settings, signal);
    }
  }
}

async function analyzeStatement(
  analysis: DocumentAnalysis,
  offset: number,
  planner: Planner | undefined,
  settings: SqlInsightSettings,
  opts: { confirmed?: boolean; signal?: AbortSignal },
  docs: string | undefined,
): Promise<AnalyzeOutcome> {
  const stmt = analysis.document.statementAt(offset);
  if (!stmt) return { kind: 'not-analyzed', message: 'There is no statement here.' };
  const r = analysis.results[stmt.index];
  if (!planner) return { kind: 'not-analyzed', message: 'No database is configured.' };
  if (!planner.analyze || (r.explain?.kind === 'plan' && r.explain.statistics !== undefined && r.explain.statistics !== 'real')) {
    return { kind: 'not-analyzed', message: 'EXPLAIN ANALYZE needs a database with data; the embedded engine has none.' };
  }
  if (!stmt.parse.ok || !isExplainable(stmt.parse.kind)) {
    return { kind: 'not-analyzed', message: 'Only SELECT, INSERT, UPDATE, DELETE, WITH and VALUES can be analysed.' };
  }
  const writes = changesData(stmt);
  if (writes && !opts.confirmed) {
    return {
      kind: 'needs-confirmation',
      message:
        'EXPLAIN ANALYZE runs the statement. It changes data: it will run inside a transaction that is rolled back ' +
        'afterwards, but it takes its locks, fires triggers and advances sequences while it runs. Run it?',
    };
  }
  const res = await planner.analyze({ sql: stmt.text, paramCount: stmt.parse.paramCount, writes }, { settings, signal: opts.signal });
  if (res.kind !== 'plan') {
    return { kind: 'not-analyzed', message: res.kind === 'error' ? `PostgreSQL: ${res.message}` : `The database is unavailable: ${res.reason}` };
  }
  r.analyzed = res;
  rebuildDiagnostics(analysis, settings, docs);
  return {
    kind: 'analyzed',
    executionTimeMs: res.executionTimeMs,
    rows: Number(res.plan['Actual Rows'] ?? 0),
    diagnostics: analysis.diagnostics,
  };
}

/** Re-runs the rules (after EXPLAIN ANALYZE) and rebuilds the diagnostics, keeping error diagnostics. */
function rebuildDiagnostics(analysis: DocumentAnalysis, settings: SqlInsightSettings, docs: string | undefined): void {
  analysis.diagnostics = analysis.diagnostics.filter((d) => d.code === 'syntax-error' || d.code === 'database-error');
  analysis.findings.clear();
  analysis.proofs.clear();
  for (const r of analysis.results) r.findings = runRules(analysis, r, settings);
  publishFindings(analysis, docs);
}

/** INSERT, UPDATE, DELETE anywhere in the statement (a data-modifying WITH included). */
export function changesData(stmt: ParsedStatement): boolean {
  if (!stmt.parse.ok) return false;
  const k = stmt.parse.kind;
  return k === 'insert' || k === 'update' || k === 'delete' || stmt.blocks.some((b) => b.kind !== 'select');
}

function analyzableStatements(analysis: DocumentAnalysis): { range: Range; offset: number; writes: boolean; analyzed?: string }[] {
  const out: { range: Range; offset: number; writes: boolean; analyzed?: string }[] = [];
  for (const r of analysis.results) {
    if (r.explain?.kind !== 'plan') continue;
    // Running a statement against empty tables (the embedded engine) measures nothing.
    if (r.explain.statistics !== undefined && r.explain.statistics !== 'real') continue;
    if (r.stmt.parse.ok && r.stmt.parse.paramCount > 0) continue;
    const item: { range: Range; offset: number; writes: boolean; analyzed?: string } = {
      range: analysis.document.range(r.stmt, 0, 0),
      offset: r.stmt.toHost(0),
      writes: changesData(r.stmt),
    };
    if (r.analyzed?.kind === 'plan') {
      const ms = r.analyzed.executionTimeMs;
      item.analyzed = `${ms === undefined ? '' : `${formatNumber(ms)} ms · `}${formatNumber(Number(r.analyzed.plan['Actual Rows'] ?? 0))} rows`;
    }
    out.push(item);
  }
  return out;
}

/** The migrations folder: `<workspace folder>/<migrationsDir or "migrations">`, beside the document without a folder. */
export function migrationsFolder(documentUri: string, settings: SqlInsightSettings, workspaceFolder?: string): string {
  const base = (workspaceFolder ?? documentUri.slice(0, documentUri.lastIndexOf('/'))).replace(/\/+$/, '');
  const dir = (settings.migrationsDir || 'migrations').replace(/^\.?\/+|\/+$/g, '');
  return `${base}/${dir.split('/').map(encodeURIComponent).join('/')}`;
}

function migrationEdit(uri: string, fix: IndexFix, settings: SqlInsightSettings, ctx: FixContext): WorkspaceEdit {
  const files = migrationFiles({
    dirUri: migrationsFolder(uri, settings, ctx.workspaceFolder),
    listing: ctx.migrations,
    name: fix.candidate.name,
    ddl: fix.ddl(settings.index.concurrently),
    drop: fix.drop(settings.index.concurrently),
    concurrently: settings.index.concurrently,
    now: ctx.now,
  });
  return { documentChanges: files.flatMap((f) => newFileEdit(f.uri, f.text).documentChanges ?? []) };
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
