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

import { newSealKey, seal, SEAL_KEY_ENV } from '../../common/seal';
import { ANALYSIS_DONE_NOTIFICATION, type AnalysisDoneParams } from '../../common/protocol';

export const SERVER_JS = path.resolve(__dirname, '../../../server/out/server.js');

export type SettingsAnswer = Record<string, unknown> | null;

export interface LspClientOptions {
  /**
   * Answer to `workspace/configuration` for section sqlInsight (null is a legal answer), or a function of the
   * item's scopeUri (multi-root workspaces: one answer per folder).
   */
  settings?: SettingsAnswer | ((scopeUri: string | undefined) => SettingsAnswer);
  env?: NodeJS.ProcessEnv;
  /** Working directory of the server process (it must not matter). */
  cwd?: string;
  /** Workspace folder URIs announced in `initialize`. */
  workspaceFolders?: string[];
  /** `initializationOptions` of `initialize`, as the VS Code client sends them. */
  initializationOptions?: unknown;
  /**
   * Plays the VS Code client's SecretStorage: passwords by connection target (`user@host:port/database`),
   * sent sealed in `initializationOptions`, with the key in the server's environment, as the extension does.
   */
  passwords?: Map<string, string>;
}

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  /** Every publication, in arrival order. */
  readonly published: PublishDiagnosticsParams[] = [];
  readonly statuses: { state: string; message: string; database?: string }[] = [];
  readonly logs: string[] = [];
  /** What the server wrote to stderr. */
  stderr: string[] = [];
  private sealKey = '';
  /** `window/showMessage` notifications. */
  readonly messages: { type: number; message: string }[] = [];
  // Many waits at once (a soak opens hundreds of documents together) are expected, not a leak.
  private readonly events = new EventEmitter().setMaxListeners(0);
  private versions = new Map<string, number>();

  private constructor(
    private readonly proc: ChildProcess,
    readonly connection: ProtocolConnection,
    public settings: SettingsAnswer | ((scopeUri: string | undefined) => SettingsAnswer),
  ) {}

  static async start(options: LspClientOptions = {}): Promise<LspClient> {
    const sealKey = newSealKey();
    const env = { ...(options.env ?? process.env) };
    if (options.passwords) env[SEAL_KEY_ENV] = sealKey;
    const proc = spawn(process.execPath, [SERVER_JS, '--stdio'], {
      cwd: options.cwd ?? '/',
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const connection = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, connection, options.settings === undefined ? {} : options.settings);
    connection.onRequest('workspace/configuration', (params: { items: { section?: string; scopeUri?: string }[] }) =>
      params.items.map((i) => {
        if (i.section !== 'sqlInsight') return null;
        const s = client.settings;
        return typeof s === 'function' ? s(i.scopeUri) : s;
      }),
    );
    connection.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      client.messages.push(p);
      client.events.emit('message', p);
    });
    client.stderr = stderr;
    connection.onRequest('client/registerCapability', () => null);
    client.sealKey = sealKey;
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      client.diagnostics.set(p.uri, p);
      client.published.push(p);
      client.events.emit('diagnostics', p);
    });
    connection.onNotification('sqlInsight/status', (p: { state: string; message: string; database?: string }) => {
      client.statuses.push(p);
      client.events.emit('status', p);
    });
    connection.onNotification(ANALYSIS_DONE_NOTIFICATION, (p: AnalysisDoneParams) => {
      client.events.emit('analysisDone', p);
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
      initializationOptions: options.passwords
        ? { ...(options.initializationOptions as object | undefined), passwords: sealedPasswords(options.passwords, sealKey) }
        : options.initializationOptions,
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

  /** Everything the server said: logs, statuses, messages, diagnostics and stderr (to look for secrets). */
  transcript(): string {
    return JSON.stringify([this.logs, this.statuses, this.messages, this.published, this.stderr]);
  }

  /** Calls `listener` for every publication from now on. */
  onDiagnostics(listener: (p: PublishDiagnosticsParams) => void): void {
    this.events.on('diagnostics', listener);
  }

  /** "Set Database Password" as the extension does it: the stored password, sealed, in sqlInsight/passwords. */
  async setPasswords(passwords: Map<string, string>): Promise<void> {
    await this.connection.sendNotification('sqlInsight/passwords', { passwords: sealedPasswords(passwords, this.sealKey) });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Changes the settings answer and tells the server (which re-reads them and re-validates open documents). */
  async configure(settings: SettingsAnswer | ((scopeUri: string | undefined) => SettingsAnswer)): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
  }

  waitForLog(predicate: (line: string) => boolean): Promise<string> {
    const seen = this.logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return this.waitFor('log', predicate);
  }

  waitForMessage(predicate: (m: { type: number; message: string }) => boolean): Promise<{ type: number; message: string }> {
    const seen = this.messages.find(predicate);
    if (seen) return Promise.resolve(seen);
    return this.waitFor('message', predicate);
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

  waitFor<T>(event: 'diagnostics' | 'status' | 'log' | 'message' | 'analysisDone', predicate: (v: T) => boolean): Promise<T> {
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

function sealedPasswords(passwords: Map<string, string>, key: string): { target: string; sealed: string }[] {
  return [...passwords].map(([target, password]) => ({ target, sealed: seal(password, key) }));
}

/** This process's environment without DATABASE_URL and PG* variables: only the settings name a database. */
export function envWithoutDatabase(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k === 'DATABASE_URL' || k.startsWith('PG')) delete env[k];
  return env;
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
