// Plain values the core hands back. They have the same shape as the LSP types, so the adapter passes them
// through unchanged, but the core never imports the protocol.

export interface Position {
  line: number;
  /** UTF-16 code units, as in LSP. */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** LSP DiagnosticSeverity values. */
export const Severity = { Error: 1, Warning: 2, Information: 3, Hint: 4 } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export interface Diagnostic {
  range: Range;
  severity: Severity;
  /** Rule id, e.g. `seq-scan-large-table`; `syntax-error` and `database-error` for errors. */
  code: string;
  /** Where the rule is documented: `…/docs/rules.md#<rule-id>`. */
  codeDescription?: { href: string };
  source: 'sql-insight';
  message: string;
  /** Opaque key the code-action handler uses to find the finding behind this diagnostic. */
  data?: { findingId: string };
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface CreateFile {
  kind: 'create';
  uri: string;
  options?: { overwrite?: boolean; ignoreIfExists?: boolean };
}

export interface TextDocumentEdit {
  textDocument: { uri: string; version: number | null };
  edits: TextEdit[];
}

export interface WorkspaceEdit {
  changes?: { [uri: string]: TextEdit[] };
  documentChanges?: (TextDocumentEdit | CreateFile)[];
}

export interface Command {
  title: string;
  command: string;
  arguments?: unknown[];
}

export interface CodeAction {
  title: string;
  kind: 'quickfix';
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  edit?: WorkspaceEdit;
  /** Run by the client, e.g. `sqlInsight.copyToClipboard` with the DDL. */
  command?: Command;
}

export interface Hover {
  contents: { kind: 'markdown'; value: string };
  range?: Range;
}

/** The text the core analyses: an LSP text document reduced to what matters. */
export interface SqlTextDocument {
  uri: string;
  languageId: string;
  version: number;
  getText(): string;
}
