// The thin VS Code client: starts the language server, shows its connection state, offers a few commands.
// All analysis lives in the server.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { STATUS_NOTIFICATION, type StatusParams } from '../../common/protocol';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('SQL Insight', { log: true });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  status.name = 'SQL Insight';
  status.command = 'sqlInsight.showOutput';
  showStatus(status, { state: 'connecting', message: 'Starting the SQL Insight server…' });
  status.show();

  const module = context.asAbsolutePath('server/out/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: ['sql', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'].flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannel: output,
    synchronize: { configurationSection: 'sqlInsight' },
  };
  client = new LanguageClient('sqlInsight', 'SQL Insight', serverOptions, clientOptions);
  context.subscriptions.push(
    output,
    status,
    client.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => showStatus(status, p)),
    vscode.commands.registerCommand('sqlInsight.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('sqlInsight.restartServer', async () => {
      showStatus(status, { state: 'connecting', message: 'Restarting the SQL Insight server…' });
      await client?.restart();
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
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
