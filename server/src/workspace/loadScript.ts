// Turns schema files into the statements the embedded engine runs: each file's up part, split into statements,
// with what the engine cannot run adapted or skipped, and a note for each that becomes an Information
// diagnostic in the schema file. Pure: the caller loads the parser first (loadParser) and runs the steps.
import { parseStatement, scanStatement, type AstNode } from '../core/parse';
import { splitStatements } from '../core/split';
import type { SchemaFile } from './schemaFiles';

export interface LoadStep {
  /** Index into LoadScript.files. */
  file: number;
  /** UTF-16 offsets of the statement in its file. */
  start: number;
  end: number;
  /** The text to run: the statement, or its adapted form. */
  sql: string;
  action: 'run' | 'skip';
  /** Why the statement was adapted or skipped; told in the schema file. */
  note?: string;
  /** Where the note belongs, when not on the statement's first line (offsets in the file). */
  noteStart?: number;
  noteEnd?: number;
  /** Ownership and privileges: a role the engine lacks skips the statement instead of failing it. */
  privileges?: boolean;
}

export interface LoadScript {
  files: SchemaFile[];
  steps: LoadStep[];
  /** Extensions the engine must be opened with (CREATE EXTENSION of one it has). */
  extensions: string[];
}

/** What the engine is called in notes. */
export const ENGINE_NAME = 'the embedded engine (PGlite)';

// No effect on the tables a query plans against; skipped without a word.
const SILENT = new Set(['TransactionStmt', 'VacuumStmt', 'CheckPointStmt', 'ReindexStmt', 'ClusterStmt', 'DiscardStmt']);
// Cannot run there, and change nothing a query plans against.
const UNSUPPORTED: Record<string, string> = {
  CreatedbStmt: 'databases are not modelled',
  DropdbStmt: 'databases are not modelled',
  AlterDatabaseStmt: 'databases are not modelled',
  AlterDatabaseSetStmt: 'databases are not modelled',
  AlterSystemStmt: 'server configuration is not modelled',
  CreateTableSpaceStmt: 'tablespaces are not modelled',
  DropTableSpaceStmt: 'tablespaces are not modelled',
  CreateSubscriptionStmt: 'subscriptions are not modelled',
  AlterSubscriptionStmt: 'subscriptions are not modelled',
  DropSubscriptionStmt: 'subscriptions are not modelled',
  LoadStmt: 'shared libraries are not loaded',
};
const PRIVILEGES = new Set([
  'GrantStmt',
  'GrantRoleStmt',
  'AlterOwnerStmt',
  'AlterDefaultPrivilegesStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'AlterRoleStmt',
  'AlterRoleSetStmt',
  'DropRoleStmt',
  'ReassignOwnedStmt',
  'DropOwnedStmt',
]);

/** `available`: extensions the engine has (SQL names, e.g. `uuid-ossp`). */
export function buildLoadScript(files: SchemaFile[], available: ReadonlySet<string>): LoadScript {
  const steps: LoadStep[] = [];
  const extensions = new Set<string>();
  files.forEach((file, index) => {
    const prepared = upPart(withoutPsqlData(file.text));
    for (const span of splitStatements(prepared.text)) {
      const sql = prepared.text.slice(span.start, span.end);
      const step: LoadStep = { file: index, start: span.start, end: span.end, sql, action: 'run' };
      if (prepared.copyData.some((c) => c >= span.start && c <= span.end)) {
        step.action = 'skip';
        step.note = `Skipped by ${ENGINE_NAME}: COPY … FROM stdin loads data, and its tables stay empty.`;
        steps.push(step);
        continue;
      }
      classify(step, available, extensions);
      if (step.action === 'skip' && !step.note) continue;
      steps.push(step);
    }
  });
  return { files, steps, extensions: [...extensions] };
}

function classify(step: LoadStep, available: ReadonlySet<string>, extensions: Set<string>): void {
  const parsed = parseStatement(step.sql);
  // The database reports what the parser rejects, with its own words.
  if (!parsed.ok) return;
  const stmt = parsed.stmt as Record<string, AstNode>;
  const kind = Object.keys(stmt)[0];
  if (kind === undefined || SILENT.has(kind)) {
    step.action = 'skip';
    return;
  }
  const node = stmt[kind];
  if (kind === 'CreateExtensionStmt') {
    const name = String(node.extname);
    if (available.has(name)) extensions.add(name);
    else {
      step.action = 'skip';
      step.note =
        `Skipped: extension "${name}" is not available in ${ENGINE_NAME}; ` +
        'tables, columns and functions that need it will be missing there.';
    }
    return;
  }
  if (UNSUPPORTED[kind]) {
    step.action = 'skip';
    step.note = `Skipped by ${ENGINE_NAME}: ${UNSUPPORTED[kind]}.`;
    return;
  }
  if ((kind === 'IndexStmt' || kind === 'DropStmt') && node.concurrent) {
    const token = scanStatement(step.sql).find((t) => t.text.toUpperCase() === 'CONCURRENTLY');
    if (token) {
      step.sql = step.sql.slice(0, token.start) + ' '.repeat(token.end - token.start) + step.sql.slice(token.end);
      step.note =
        `Loaded without CONCURRENTLY: ${ENGINE_NAME} applies each file in one transaction, as migration tools do, ` +
        'and CONCURRENTLY cannot run inside one. The index is the same for planning.';
      step.noteStart = step.start + token.start;
      step.noteEnd = step.start + token.end;
    }
    return;
  }
  if (PRIVILEGES.has(kind) || isOwnerChange(kind, node) || isRoleSetting(kind, node)) step.privileges = true;
}

function isOwnerChange(kind: string, node: AstNode): boolean {
  return kind === 'AlterTableStmt' && Array.isArray(node.cmds) && node.cmds.some((c: AstNode) => c?.AlterTableCmd?.subtype === 'AT_ChangeOwner');
}

function isRoleSetting(kind: string, node: AstNode): boolean {
  return kind === 'VariableSetStmt' && (node.name === 'role' || node.name === 'session_authorization');
}

/** The note for a privilege statement that failed for want of a role. */
export function missingRoleNote(message: string): string {
  return `Skipped: ${message} in ${ENGINE_NAME}; ownership and privileges do not change plans.`;
}

export function failureNote(message: string): string {
  return `Not loaded into ${ENGINE_NAME}: ${message}. Queries on what it creates will fail there.`;
}

// ---- text preparation (offsets are kept: everything removed becomes spaces) ----

function blank(text: string): string {
  return text.replace(/[^\n\r]/g, ' ');
}

/**
 * Removes psql's meta-commands (`\connect`, pg_dump's `\restrict`) and the data of `COPY … FROM stdin;` up to
 * its `\.`; `copyData` holds the offsets where such data began, to skip its COPY statement.
 */
export function withoutPsqlData(text: string): { text: string; copyData: number[] } {
  const lines = text.split(/(?<=\n)/);
  const copyData: number[] = [];
  let offset = 0;
  let inCopy = false;
  const out = lines.map((line) => {
    const at = offset;
    offset += line.length;
    const content = line.replace(/\r?\n$/, '');
    if (inCopy) {
      if (content === '\\.') inCopy = false;
      return blank(line);
    }
    if (/^\s*COPY\b.*\bFROM\s+stdin\b.*;\s*$/i.test(content)) {
      inCopy = true;
      copyData.push(at + content.lastIndexOf(';') - 1);
      return line;
    }
    return content.startsWith('\\') ? blank(line) : line;
  });
  return { text: out.join(''), copyData };
}

const UP = /^--\s*(?:migrate:up|\+goose\s+up)\b/i;
const DOWN = /^--\s*(?:migrate:down|\+goose\s+down)\b/i;

/** dbmate (`-- migrate:up` / `-- migrate:down`) and goose (`-- +goose Up` / `Down`) keep both in one file. */
export function upPart(prepared: { text: string; copyData: number[] }): { text: string; copyData: number[] } {
  const lines = prepared.text.split(/(?<=\n)/);
  if (!lines.some((l) => DOWN.test(l))) return prepared;
  let down = false;
  const text = lines
    .map((line) => {
      if (UP.test(line)) down = false;
      else if (DOWN.test(line)) down = true;
      return down ? blank(line) : line;
    })
    .join('');
  return { text, copyData: prepared.copyData };
}
