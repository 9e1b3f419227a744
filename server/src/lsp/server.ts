// The LSP adapter: the only module that knows about the protocol. Each handler converts, calls the core,
// and degrades to an empty answer (with a log line) instead of failing.
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  createConnection,
  MessageType,
  ShowMessageNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ANALYSIS_DONE_NOTIFICATION,
  ANALYZE_COMMAND,
  ANALYZE_REQUEST,
  CONFIGURATION_SECTION,
  normalizePasswords,
  normalizeSettings,
  PASSWORDS_NOTIFICATION,
  STATUS_NOTIFICATION,
  WORKSPACE_TRUSTED_NOTIFICATION,
  type AnalysisDoneParams,
  type InitializationOptions,
  type AnalyzeParams,
  type AnalyzeResult,
  type SqlInsightSettings,
  type StatusParams,
  type StoredPassword,
} from '../../../common/protocol';
import type { Diagnostic } from '../core/types';
import { SEAL_KEY_ENV, unseal } from '../../../common/seal';
import { createSqlInsightService, migrationsFolder, type DocumentAnalysis } from '../core/service';
import { Databases } from './databases';
import { listMigrationsDir } from './migrationsDir';
import { parseTableSizes } from '../core/size';

/** Quiet time after an edit before the syntax run; plans are made on open and save only. */
const CHANGE_DEBOUNCE_MS = 300;

export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): void {
  const documents = new TextDocuments(TextDocument);
  // Diagnostics link their rule's section in the docs shipped with the server (server/out → docs/rules.md).
  const service = createSqlInsightService({ rulesDocUrl: pathToFileURL(path.resolve(__dirname, '../../docs/rules.md')).href });
  const analyses = new Map<string, DocumentAnalysis>();
  // The latest run per document, with the version it analyses; aborted when superseded or closed. It stays
  // here after the run publishes, since the background proofs of its fixes still use its signal.
  const running = new Map<string, { controller: AbortController; version: number }>();
  // The debounced syntax run waiting after an edit, per document.
  const pendingChange = new Map<string, NodeJS.Timeout>();
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    const line = `[${level}] ${message}`;
    if (level === 'error') connection.console.error(line);
    else if (level === 'warn') connection.console.warn(line);
    else connection.console.log(line);
  };
  // The embedded engine's notes on schema files (by path), published together with the file's own diagnostics.
  const schemaNotes = new Map<string, Diagnostic[]>();
  const publish = (uri: string, diagnostics: Diagnostic[], version?: number): Promise<void> =>
    connection.sendDiagnostics({ uri, version, diagnostics: [...diagnostics, ...(schemaNotes.get(pathOf(uri)) ?? [])] });
  // A promise someone forgot to handle must cost a log line, not the server (Node ends the process otherwise).
  process.on('unhandledRejection', (e) => log('error', `Unhandled failure: ${e instanceof Error ? e.message : String(e)}`));
  const sealKey = process.env[SEAL_KEY_ENV];
  delete process.env[SEAL_KEY_ENV];
  const databases = new Databases({
    onStatus: (status: StatusParams) => void connection.sendNotification(STATUS_NOTIFICATION, status),
    log,
    warn: (message) => void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message }),
    onReconnected: () => revalidateAll(),
    onSchemaNotes: (notes) => {
      for (const [uri, list] of notes) {
        const key = pathOf(uri);
        if (list.length > 0) schemaNotes.set(key, list);
        else schemaNotes.delete(key);
        const open = documents.all().find((d) => pathOf(d.uri) === key)?.uri ?? uri;
        const analysis = analyses.get(open);
        void publish(open, analysis?.diagnostics ?? [], analysis?.document.version);
      }
    },
  });
  /** Sealed passwords (see common/seal.ts) opened with the key from our environment; plain ones as they are. */
  const unsealed = (list: StoredPassword[]): StoredPassword[] =>
    list.map((p) => (p.sealed === undefined ? p : { target: p.target, password: (sealKey && unseal(p.sealed, sealKey)) || '' }));
  let canPullConfiguration = false;
  let canRefreshLenses = false;
  let workspaceFolders: string[] = [];

  connection.onInitialize((params): InitializeResult => {
    canPullConfiguration = Boolean(params.capabilities.workspace?.configuration);
    canRefreshLenses = Boolean(params.capabilities.workspace?.codeLens?.refreshSupport);
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    databases.trusted = init.trusted !== false;
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => f.uri);
    if (workspaceFolders.length === 0 && params.rootUri) workspaceFolders = [params.rootUri];
    databases.setPasswords(unsealed(normalizePasswords(params.initializationOptions)));
    if (typeof init.storagePath === 'string' && init.storagePath) databases.storagePath = init.storagePath;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'sql-insight' },
    };
  });

  connection.onInitialized(() => {
    if (workspaceFolders.length === 0) return;
    // Clients without folder-change support may reject the registration; the initial folders then stand.
    try {
      connection.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = new Set(e.removed.map((f) => f.uri));
        workspaceFolders = [...workspaceFolders.filter((u) => !removed.has(u)), ...e.added.map((f) => f.uri)];
      });
    } catch (e) {
      log('warn', `Workspace folder changes will not be followed: ${String(e)}`);
    }
  });

  /** The innermost workspace folder holding `uri`. */
  function folderOf(uri: string): string | undefined {
    return workspaceFolders
      .filter((f) => uri.startsWith(f.endsWith('/') ? f : `${f}/`))
      .sort((a, b) => b.length - a.length)[0];
  }

  /** The planner for a document: a configured server, or the embedded engine of its folder (the only one, for untitled documents). */
  function plannerFor(settings: SqlInsightSettings, uri: string) {
    const folder = folderOf(uri) ?? (workspaceFolders.length === 1 ? workspaceFolders[0] : undefined);
    const root = folder === undefined ? undefined : pathOf(folder);
    return databases.plannerFor(settings, root === folder ? undefined : root);
  }

  async function settingsFor(uri: string): Promise<SqlInsightSettings> {
    if (!canPullConfiguration) return normalizeSettings(undefined);
    try {
      return withSizesFile(uri, normalizeSettings(await connection.workspace.getConfiguration({ scopeUri: uri, section: CONFIGURATION_SECTION })));
    } catch (e) {
      log('warn', `Could not read settings, using defaults: ${String(e)}`);
      return normalizeSettings(undefined);
    }
  }

  /** Merges sqlInsight.tableSizesFile (relative to the workspace folder) under sqlInsight.tableSizes. */
  function withSizesFile(uri: string, settings: SqlInsightSettings): SqlInsightSettings {
    if (!settings.tableSizesFile) return settings;
    const base = folderOf(uri) ?? uri.slice(0, uri.lastIndexOf('/'));
    try {
      const file = path.resolve(base.startsWith('file:') ? fileURLToPath(base) : base, settings.tableSizesFile);
      return { ...settings, tableSizes: { ...parseTableSizes(readFileSync(file, 'utf8')), ...settings.tableSizes } };
    } catch (e) {
      log('warn', `Could not read sqlInsight.tableSizesFile: ${e instanceof Error ? e.message : String(e)}`);
      return settings;
    }
  }

  /**
   * `save` (also open and re-checks): parse, plan what the plan cache does not hold, run every rule.
   * `change`: parse and run the rules without sending anything; unchanged statements keep their last plans.
   */
  async function validate(doc: TextDocument, mode: 'save' | 'change' = 'save'): Promise<void> {
    if (!service.handles(doc.languageId)) return;
    const timer = pendingChange.get(doc.uri);
    if (timer) {
      clearTimeout(timer);
      pendingChange.delete(doc.uri);
    }
    running.get(doc.uri)?.controller.abort();
    const controller = new AbortController();
    running.set(doc.uri, { controller, version: doc.version });
    const started = Date.now();
    try {
      const settings = await settingsFor(doc.uri);
      const planner = mode === 'save' ? await plannerFor(settings, doc.uri) : undefined;
      const parsed = await service.parse(doc, settings, analyses.get(doc.uri)?.document);
      const analysis = await service.doValidation(parsed, planner, settings, controller.signal, analyses.get(doc.uri), {
        carryPlans: mode === 'change',
      });
      // Drop results for a document that moved on (or closed) while we were planning.
      const current = documents.get(doc.uri);
      if (controller.signal.aborted || !current || current.version !== parsed.version) {
        log('info', `${doc.uri}: dropped the analysis of version ${parsed.version}, superseded by version ${current?.version ?? '(closed)'}`);
        return;
      }
      analyses.set(doc.uri, analysis);
      await publish(doc.uri, analysis.diagnostics, parsed.version);
      const planned = analysis.results.filter((r) => r.explain?.kind === 'plan').length;
      const stats = planner ? service.lastPlanStats : { planned: 0, cached: 0 };
      const done: AnalysisDoneParams = {
        uri: doc.uri,
        version: parsed.version,
        phase: mode,
        statements: parsed.statements.length,
        planned,
        explained: stats.planned,
        cached: stats.cached,
        diagnostics: analysis.diagnostics.length,
        ms: Date.now() - started,
      };
      void connection.sendNotification(ANALYSIS_DONE_NOTIFICATION, done);
      const explained = planner ? `, ${stats.planned} explained, ${stats.cached} from the plan cache` : ', on change';
      log('info', `${doc.uri}: ${done.statements} statements, ${planned} planned${explained}, ${done.diagnostics} diagnostics in ${done.ms} ms`);
      if (planner && analysis.findings.size > 0) void service.proveFixes(analysis, planner, settings, controller.signal);
    } catch (e) {
      log('error', `Analysis of ${doc.uri} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  documents.onDidOpen((e) => void validate(e.document));
  documents.onDidSave((e) => void validate(e.document));
  // An edit makes any running analysis of an older version pointless (its result would be dropped): cancel
  // its EXPLAINs on the server now rather than let them run to the end.
  // Then, after a pause in typing, a run without the database shows syntax errors at once.
  documents.onDidChangeContent((e) => {
    const uri = e.document.uri;
    const run = running.get(uri);
    if (run && run.version < e.document.version) run.controller.abort();
    // Opening fires this too, after the open's own run has started for the same version.
    if (run && run.version >= e.document.version) return;
    clearTimeout(pendingChange.get(uri));
    const timer = setTimeout(() => {
      pendingChange.delete(uri);
      const doc = documents.get(uri);
      const latest = running.get(uri);
      if (doc && !(latest && latest.version >= doc.version)) void validate(doc, 'change');
    }, CHANGE_DEBOUNCE_MS);
    pendingChange.set(uri, timer);
  });
  documents.onDidClose((e) => {
    clearTimeout(pendingChange.get(e.document.uri));
    pendingChange.delete(e.document.uri);
    running.get(e.document.uri)?.controller.abort();
    running.delete(e.document.uri);
    analyses.delete(e.document.uri);
    void publish(e.document.uri, []);
  });
  function revalidateAll(): void {
    for (const doc of documents.all()) void validate(doc);
  }
  connection.onDidChangeConfiguration(revalidateAll);
  connection.onNotification(WORKSPACE_TRUSTED_NOTIFICATION, () => {
    if (databases.trusted) return;
    databases.trusted = true;
    log('info', 'The workspace is trusted now: its database settings apply.');
    revalidateAll();
  });
  connection.onNotification(PASSWORDS_NOTIFICATION, (params: unknown) => {
    databases.setPasswords(unsealed(normalizePasswords(params)));
    revalidateAll();
  });
  connection.onDidChangeWatchedFiles((params) => {
    if (databases.filesChanged(params.changes.map((c) => c.uri))) for (const doc of documents.all()) void validate(doc);
  });

  connection.onHover((params) => {
    try {
      const analysis = analyses.get(params.textDocument.uri);
      const doc = documents.get(params.textDocument.uri);
      if (!analysis || !doc || analysis.document.version !== doc.version) return null;
      return service.doHover(analysis, params.position);
    } catch (e) {
      log('error', `Hover failed: ${String(e)}`);
      return null;
    }
  });

  connection.onCodeAction(async (params) => {
    try {
      const analysis = analyses.get(params.textDocument.uri);
      if (!analysis) return [];
      const settings = await settingsFor(params.textDocument.uri);
      const diagnostics = params.context.diagnostics.map((d) => ({
        range: d.range,
        severity: (d.severity ?? 2) as 1 | 2 | 3 | 4,
        code: String(d.code ?? ''),
        source: 'sql-insight' as const,
        message: typeof d.message === 'string' ? d.message : d.message.value,
        data: d.data as { findingId: string } | undefined,
      }));
      const workspaceFolder = folderOf(params.textDocument.uri);
      const migrations = listMigrationsDir(migrationsFolder(params.textDocument.uri, settings, workspaceFolder));
      return await service.doCodeActions(analysis, params.range, diagnostics, await plannerFor(settings, params.textDocument.uri), settings, {
        workspaceFolder,
        now: new Date(),
        ...(migrations ? { migrations } : {}),
      });
    } catch (e) {
      log('error', `Code actions failed: ${String(e)}`);
      return [];
    }
  });

  // "Analyze" above each statement that can run as written (no $n parameters).
  connection.onCodeLens((params) => {
    try {
      const analysis = analyses.get(params.textDocument.uri);
      const doc = documents.get(params.textDocument.uri);
      if (!analysis || !doc || analysis.document.version !== doc.version) return [];
      return service.analyzableStatements(analysis).map((s) => ({
        range: { start: s.range.start, end: s.range.start },
        command: {
          title: s.analyzed ? `Analyzed: ${s.analyzed} · Analyze again` : s.writes ? 'Analyze (runs it, rolled back)' : 'Analyze',
          command: ANALYZE_COMMAND,
          arguments: [params.textDocument.uri, s.range.start],
        },
      }));
    } catch (e) {
      log('error', `Code lenses failed: ${String(e)}`);
      return [];
    }
  });

  connection.onRequest(ANALYZE_REQUEST, async (params: AnalyzeParams): Promise<AnalyzeResult> => {
    try {
      const analysis = analyses.get(params.uri);
      const doc = documents.get(params.uri);
      if (!analysis || !doc || analysis.document.version !== doc.version) {
        return { kind: 'not-analyzed', message: 'Save the document first: it is analysed as last planned.' };
      }
      const settings = await settingsFor(params.uri);
      const offset = analysis.document.lines.offsetAt(params.position);
      const outcome = await service.analyzeStatement(analysis, offset, await plannerFor(settings, params.uri), settings, {
        confirmed: params.confirmed === true,
      });
      if (outcome.kind !== 'analyzed') return outcome;
      if (analyses.get(params.uri) === analysis) {
        await publish(params.uri, outcome.diagnostics, analysis.document.version);
        if (canRefreshLenses) connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
      }
      const time = outcome.executionTimeMs === undefined ? '' : ` in ${outcome.executionTimeMs.toFixed(1)} ms`;
      log('info', `${params.uri}: EXPLAIN ANALYZE ran${time}, rolled back`);
      return { kind: 'analyzed', message: `Analyzed${time}, ${outcome.rows} rows; the transaction was rolled back.` };
    } catch (e) {
      log('error', `Analyze failed: ${String(e)}`);
      return { kind: 'not-analyzed', message: `Analyze failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  });

  connection.onShutdown(async () => {
    for (const t of pendingChange.values()) clearTimeout(t);
    pendingChange.clear();
    for (const r of running.values()) r.controller.abort();
    await databases.dispose();
  });

  documents.listen(connection);
  connection.listen();
}

/** A file URI as a path, so that two spellings of one file's URI meet; other URIs as they are. */
function pathOf(uri: string): string {
  try {
    return fileURLToPath(uri);
  } catch {
    return uri;
  }
}
