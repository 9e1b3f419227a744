// The built language server as an editor drives it (test/helpers/lspClient.ts), with the one thing a benchmark
// adds: knowing when a run's diagnostics are final.
//
// The server follows the diagnostics of every analysis run with `sqlInsight/analysisDone` (phase `save` or
// `change`); the result is the last publication for the document at the version we sent, seen before the
// `save` notification of that version. A quick pass while typing (phase `change`) is never taken for it.
import { readFileSync } from 'node:fs';
import type { AnalysisDoneParams } from '../common/protocol';
import { envWithoutDatabase, LspClient } from '../test/helpers/lspClient';

/** Limits high enough that every generated statement is planned (the defaults stop at 1,000 and 1 MB). */
export const BENCH_LIMITS = { maxDocumentChars: 8_000_000, maxStatementChars: 100_000, maxPlannedStatements: 50_000, maxQueuedExplains: 50_000 };

export interface Analysed {
  /** From sending didOpen/didSave to the final publication. */
  ms: number;
  diagnostics: number;
  statements: number;
  planned: number;
}

export interface ServerOptions {
  databaseUrl?: string;
  workspaceFolder?: string;
  timeoutMs: number;
}

export class BenchServer {
  private readonly versions = new Map<string, number>();
  private readonly lastPublished = new Map<string, { version: number; at: number; diagnostics: number }>();

  private constructor(
    readonly client: LspClient,
    private readonly options: ServerOptions,
    /** Spawn to `initialized`. */
    readonly startMs: number,
  ) {
    client.onDiagnostics((p) =>
      this.lastPublished.set(p.uri, { version: p.version ?? 0, at: performance.now(), diagnostics: p.diagnostics.length }),
    );
  }

  static async start(options: ServerOptions): Promise<BenchServer> {
    const started = performance.now();
    const settings = options.databaseUrl
      ? { databaseUrl: options.databaseUrl, database: 'server', limits: BENCH_LIMITS }
      : { database: 'server', limits: BENCH_LIMITS };
    const client = await LspClient.start({
      env: envWithoutDatabase(),
      settings,
      ...(options.workspaceFolder ? { workspaceFolders: [options.workspaceFolder] } : {}),
    });
    return new BenchServer(client, options, performance.now() - started);
  }

  async open(uri: string, text: string, languageId = 'sql'): Promise<Analysed> {
    this.versions.set(uri, 1);
    const final = this.final(uri, 1);
    const sent = performance.now();
    await this.client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return this.measured(await final, sent);
  }

  /**
   * Replaces the text (as the editor did while the user typed) and saves; timed from didSave, which is when
   * the user asks for the plans.
   */
  async save(uri: string, text: string): Promise<Analysed> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    await this.client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    const final = this.final(uri, version);
    const sent = performance.now();
    await this.client.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    return this.measured(await final, sent);
  }

  async close(uri: string): Promise<void> {
    this.versions.delete(uri);
    await this.client.close(uri);
  }

  /** Round trip of one hover, and whether it showed a plan. */
  async hover(uri: string, line: number, character: number): Promise<{ ms: number; plan: boolean }> {
    const sent = performance.now();
    const h = await this.client.hover(uri, line, character);
    const ms = performance.now() - sent;
    const contents = h?.contents;
    const text = contents && typeof contents === 'object' && 'value' in contents ? contents.value : JSON.stringify(contents ?? '');
    return { ms, plan: /cost/i.test(text) };
  }

  /** VmRSS now and VmHWM (the peak) of the server process, in MB. */
  memory(): { rssMb: number; peakMb: number } {
    return processMemory(this.client.pid);
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  private measured(f: { at: number; diagnostics: number; statements: number; planned: number }, sent: number): Analysed {
    return { ms: f.at - sent, diagnostics: f.diagnostics, statements: f.statements, planned: f.planned };
  }

  private final(uri: string, version: number): Promise<{ at: number; diagnostics: number; statements: number; planned: number }> {
    let found: { at: number; diagnostics: number; statements: number; planned: number } | undefined;
    const done = this.client.waitFor<AnalysisDoneParams>('analysisDone', (d) => {
      const pub = this.lastPublished.get(uri);
      if (d.uri !== uri || d.phase !== 'save' || d.version < version || !pub || pub.version < version) return false;
      found = { at: pub.at, diagnostics: pub.diagnostics, statements: d.statements, planned: d.planned };
      return true;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no final diagnostics for ${uri} version ${version} within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    return Promise.race([done, timeout]).then(() => {
      clearTimeout(timer);
      return found!;
    });
  }
}

export function processMemory(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}
