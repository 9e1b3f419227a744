// The thin VS Code client: starts the language server, shows its connection state, offers a few commands.
// All analysis lives in the server.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ANALYZE_COMMAND,
  ANALYZE_REQUEST,
  connectionTarget,
  COPY_COMMAND,
  PASSWORDS_NOTIFICATION,
  STATUS_NOTIFICATION,
  WORKSPACE_TRUSTED_NOTIFICATION,
  type InitializationOptions,
  type AnalyzeParams,
  type AnalyzeResult,
  type PasswordsParams,
  type StatusParams,
  type StoredPassword,
} from '../../common/protocol';
import { newSealKey, seal, SEAL_KEY_ENV } from '../../common/seal';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('SQL Insight', { log: true });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  status.name = 'SQL Insight';
  status.command = 'sqlInsight.showOutput';
  showStatus(status, { state: 'connecting', message: 'Starting the SQL Insight server…' });
  status.show();

  const passwords = await loadPasswords(context);

  const module = context.asAbsolutePath('server/out/server.js');
  // Passwords go to the server sealed with this key, which reaches it only through its environment.
  const sealKey = newSealKey();
  const env = { ...process.env, [SEAL_KEY_ENV]: sealKey };
  const sealed = (list: StoredPassword[]): PasswordsParams => ({
    passwords: list.map((p) => ({ target: p.target, password: '', sealed: seal(p.password, sealKey) })),
  });
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { env } },
    debug: { module, transport: TransportKind.ipc, options: { env, execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  // Schema files of the embedded database (any SQL file: sqlInsight.schemaFiles may name any of them) and
  // drizzle's journal, which orders its migrations.
  const watchers = [
    vscode.workspace.createFileSystemWatcher('**/*.sql'),
    vscode.workspace.createFileSystemWatcher('**/meta/_journal.json'),
  ];
  const clientOptions: LanguageClientOptions = {
    documentSelector: ['sql', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'].flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannel: output,
    synchronize: { configurationSection: 'sqlInsight', fileEvents: watchers },
    // A function, so that a restarted server gets the passwords stored since, and the trust of the moment.
    initializationOptions: (): PasswordsParams & InitializationOptions => ({
      ...sealed([...passwords].map(([target, password]) => ({ target, password }))),
      storagePath: context.globalStorageUri.fsPath,
      trusted: vscode.workspace.isTrusted,
    }),
  };
  client = new LanguageClient('sqlInsight', 'SQL Insight', serverOptions, clientOptions);
  context.subscriptions.push(
    output,
    status,
    ...watchers,
    client.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => showStatus(status, p)),
    vscode.commands.registerCommand('sqlInsight.showOutput', () => output.show(true)),
    // Run from the "Copy CREATE INDEX" code action with the DDL as its argument.
    vscode.commands.registerCommand(COPY_COMMAND, async (text: unknown) => {
      if (typeof text !== 'string') return;
      await vscode.env.clipboard.writeText(text);
      void vscode.window.showInformationMessage('SQL Insight: CREATE INDEX copied to the clipboard.');
    }),
    // From the code lens (uri, position) or the command palette (the cursor's statement).
    vscode.commands.registerCommand(ANALYZE_COMMAND, async (uri?: string, position?: AnalyzeParams['position']) => {
      const editor = vscode.window.activeTextEditor;
      if (uri === undefined || position === undefined) {
        if (!editor) return;
        uri = editor.document.uri.toString();
        position = { line: editor.selection.active.line, character: editor.selection.active.character };
      }
      const params: AnalyzeParams = { uri, position, confirmed: false };
      let result = await client?.sendRequest<AnalyzeResult>(ANALYZE_REQUEST, params);
      if (result?.kind === 'needs-confirmation') {
        const run = 'Run and roll back';
        if ((await vscode.window.showWarningMessage(result.message, { modal: true }, run)) !== run) return;
        result = await client?.sendRequest<AnalyzeResult>(ANALYZE_REQUEST, { ...params, confirmed: true });
      }
      if (!result) return;
      if (result.kind === 'analyzed') void vscode.window.showInformationMessage(`SQL Insight: ${result.message}`);
      else void vscode.window.showWarningMessage(`SQL Insight: ${result.message}`);
    }),
    vscode.commands.registerCommand('sqlInsight.restartServer', async () => {
      showStatus(status, { state: 'connecting', message: 'Restarting the SQL Insight server…' });
      await client?.restart();
    }),
    vscode.commands.registerCommand('sqlInsight.setDatabasePassword', async (given?: unknown) => {
      const url = databaseUrlInUse();
      const target = url ? connectionTarget(url) : undefined;
      if (!target) {
        void vscode.window.showErrorMessage('SQL Insight: set sqlInsight.databaseUrl (or DATABASE_URL) to a postgres:// URL first; the password is kept for that database.');
        return;
      }
      // An argument lets other extensions and tests set it without the prompt.
      const password =
        typeof given === 'string'
          ? given
          : await vscode.window.showInputBox({
              title: 'SQL Insight: Set Database Password',
              prompt: `Password for ${target} (kept in VS Code's secret storage; empty to forget it)`,
              password: true,
              ignoreFocusOut: true,
            });
      if (password === undefined) return;
      await storePassword(context, passwords, { target, password });
      await client?.sendNotification(PASSWORDS_NOTIFICATION, sealed([{ target, password }]));
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client?.sendNotification(WORKSPACE_TRUSTED_NOTIFICATION)),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

const PASSWORD_TARGETS = 'sqlInsight.passwordTargets';
const secretKey = (target: string): string => `sqlInsight.password:${target}`;

/** SecretStorage cannot list its keys, so the targets (no secrets) are kept in globalState beside it. */
async function loadPasswords(context: vscode.ExtensionContext): Promise<Map<string, string>> {
  const passwords = new Map<string, string>();
  for (const target of context.globalState.get<string[]>(PASSWORD_TARGETS, [])) {
    const password = await context.secrets.get(secretKey(target));
    if (password) passwords.set(target, password);
  }
  return passwords;
}

async function storePassword(context: vscode.ExtensionContext, passwords: Map<string, string>, p: StoredPassword): Promise<void> {
  if (p.password) {
    await context.secrets.store(secretKey(p.target), p.password);
    passwords.set(p.target, p.password);
  } else {
    await context.secrets.delete(secretKey(p.target));
    passwords.delete(p.target);
  }
  await context.globalState.update(PASSWORD_TARGETS, [...passwords.keys()]);
}

/** The database URL for the active document's folder, as the server will resolve it (setting, then DATABASE_URL). */
function databaseUrlInUse(): string | undefined {
  const scope = vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const setting = vscode.workspace.getConfiguration('sqlInsight', scope).get<string>('databaseUrl', '').trim();
  return setting || process.env.DATABASE_URL?.trim() || undefined;
}

function showStatus(item: vscode.StatusBarItem, p: StatusParams): void {
  switch (p.state) {
    case 'connected':
      item.text = `$(database) ${p.database ?? 'connected'}`;
      item.backgroundColor = undefined;
      break;
    case 'connecting':
      item.text = '$(sync~spin) SQL Insight';
      item.backgroundColor = undefined;
      break;
    case 'not-configured':
      item.text = '$(database) SQL Insight: no database';
      item.backgroundColor = undefined;
      break;
    case 'error':
      item.text = '$(warning) SQL Insight: cannot connect';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      break;
  }
  item.tooltip = p.message;
}
