// Drives the built language server over stdio with the real protocol, as an editor would.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CodeAction,
  type Diagnostic,
  type Hover,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

export const SERVER_JS = path.resolve(__dirname, '../../../server/out/server.js');

export interface LspClientOptions {
  /** Answer to `workspace/configuration` for section sqlInsight (null is a legal answer). */
  settings?: Record<string, unknown> | null;
  env?: NodeJS.ProcessEnv;
  /** Working directory of the server process (it must not matter). */
  cwd?: string;
  /** Workspace folder URIs announced in `initialize`. */
  workspaceFolders?: string[];
  /** `initializationOptions` of `initialize`, as the VS Code client sends them. */
  initializationOptions?: unknown;
}

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly statuses: { state: string; message: string; database?: string }[] = [];
  readonly logs: string[] = [];
  private readonly events = new EventEmitter();
  private versions = new Map<string, number>();

  private constructor(
    private readonly proc: ChildProcess,
    readonly connection: ProtocolConnection,
    public settings: Record<string, unknown> | null,
  ) {}

  static async start(options: LspClientOptions = {}): Promise<LspClient> {
    const proc = spawn(process.execPath, [SERVER_JS, '--stdio'], {
      cwd: options.cwd ?? '/',
      env: options.env ?? { ...process.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const connection = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, connection, options.settings === undefined ? {} : options.settings);
    connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
      params.items.map((i) => (i.section === 'sqlInsight' ? client.settings : null)),
    );
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      client.diagnostics.set(p.uri, p);
      client.events.emit('diagnostics', p);
    });
    connection.onNotification('sqlInsight/status', (p: { state: string; message: string; database?: string }) => {
      client.statuses.push(p);
      client.events.emit('status', p);
    });
    connection.onNotification('window/logMessage', (p: { message: string }) => {
      client.logs.push(p.message);
      client.events.emit('log', p.message);
    });
    proc.on('exit', (code) => client.events.emit('exit', code, stderr.join('')));
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
        textDocument: {
          publishDiagnostics: { versionSupport: true },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
          synchronization: { didSave: true },
        },
      },
      workspaceFolders: options.workspaceFolders?.map((uri) => ({ uri, name: uri.slice(uri.lastIndexOf('/') + 1) })) ?? null,
      initializationOptions: options.initializationOptions,
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  /** Opens a document and waits for its diagnostics. */
  async open(uri: string, text: string, languageId = 'sql'): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    const wait = this.nextDiagnostics(uri, 1);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return (await wait).diagnostics;
  }

  /** Replaces the document's text and saves it; waits for the diagnostics of the new version. */
  async changeAndSave(uri: string, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    const wait = this.nextDiagnostics(uri, version);
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
    await this.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    return (await wait).diagnostics;
  }

  /** Resolves with the first diagnostics published for `uri` at `version` (or later). */
  nextDiagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams> {
    return this.waitFor<PublishDiagnosticsParams>('diagnostics', (p) => p.uri === uri && (p.version ?? 0) >= version);
  }

  waitForStatus(predicate: (s: { state: string; message: string }) => boolean): Promise<{ state: string; message: string }> {
    const seen = this.statuses.find(predicate);
    if (seen) return Promise.resolve(seen);
    return this.waitFor('status', predicate);
  }

  /** New settings, announced as VS Code does (the server pulls them again). */
  async changeSettings(settings: Record<string, unknown> | null): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
  }

  /** What the client's file watcher reports. Types: 1 created, 2 changed, 3 deleted. */
  async filesChanged(changes: { uri: string; type: 1 | 2 | 3 }[]): Promise<void> {
    await this.connection.sendNotification('workspace/didChangeWatchedFiles', { changes });
  }

  /** The server's process id (for measurements). */
  get pid(): number {
    return this.proc.pid as number;
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  codeActions(uri: string, diagnostic: Diagnostic): Promise<CodeAction[] | null> {
    return this.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic], only: ['quickfix'] },
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      this.proc.kill();
    }
    await exited;
    this.connection.dispose();
  }

  private waitFor<T>(event: string, predicate: (v: T) => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onEvent = (v: T): void => {
        if (!predicate(v)) return;
        cleanup();
        resolve(v);
      };
      const onExit = (code: number, stderr: string): void => {
        cleanup();
        reject(new Error(`server exited with ${code}: ${stderr}`));
      };
      const cleanup = (): void => {
        this.events.off(event, onEvent);
        this.events.off('exit', onExit);
      };
      this.events.on(event, onEvent);
      this.events.on('exit', onExit);
    });
  }
}

/** The text a range covers in a document. */
/** The LSP language id VS Code gives a file name. */
export function languageIdOf(file: string): string {
  if (/\.tsx$/.test(file)) return 'typescriptreact';
  if (/\.[mc]?ts$/.test(file)) return 'typescript';
  if (/\.jsx$/.test(file)) return 'javascriptreact';
  if (/\.[mc]?js$/.test(file)) return 'javascript';
  return 'sql';
}

export function textAt(text: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }): number =>
    lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(offset(range.start), offset(range.end));
}

/** A diagnostic's message as plain text (LSP 3.18 allows Markdown content there). */
export function messageOf(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}
