// Which SQL files build a workspace's schema, and in what order: the usual places of the usual tools, or the
// globs of sqlInsight.schemaFiles. Reading the workspace happens here; the ordering below it is pure.
import { promises as fs } from 'fs';
import * as path from 'path';

export interface SchemaFile {
  /** Absolute path. */
  path: string;
  /** Workspace-relative, with `/`. */
  relative: string;
  text: string;
}

export interface SchemaSource {
  /** Where the files come from, for the status line: `migrations/`, `db/structure.sql`, `sqlInsight.schemaFiles`. */
  label: string;
  files: SchemaFile[];
}

interface Layout {
  label: string;
  globs: string[];
}

/**
 * The usual places, first match wins: a schema dump is the whole schema (loading the migrations too would
 * create everything twice), then the migrations of one tool.
 */
export const DEFAULT_LAYOUTS: readonly Layout[] = [
  { label: 'db/structure.sql', globs: ['db/structure.sql'] },
  { label: 'db/schema.sql', globs: ['db/schema.sql'] },
  { label: 'schema.sql', globs: ['schema.sql'] },
  { label: 'prisma/migrations/', globs: ['prisma/migrations/*/migration.sql'] },
  { label: 'drizzle/', globs: ['drizzle/*.sql'] },
  { label: 'supabase/migrations/', globs: ['supabase/migrations/*.sql'] },
  { label: 'migrations/', globs: ['migrations/**/*.sql'] },
];

const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);
/** A walk stops after this many directory entries; schema folders are small, whole monorepos are not. */
const MAX_ENTRIES = 50_000;

/**
 * Finds the schema files of the workspace at `root`: the globs of sqlInsight.schemaFiles when given (in their
 * order), else the first of DEFAULT_LAYOUTS that has files. Undefined when there are none.
 */
export async function discoverSchema(root: string, patterns: readonly string[]): Promise<SchemaSource | undefined> {
  if (patterns.length > 0) {
    const files = await readFiles(root, await orderedMatches(root, patterns));
    return files.length > 0 ? { label: 'sqlInsight.schemaFiles', files } : undefined;
  }
  for (const layout of DEFAULT_LAYOUTS) {
    const relative = await orderedMatches(root, layout.globs);
    if (relative.length > 0) return { label: layout.label, files: await readFiles(root, relative) };
  }
  return undefined;
}

/** Matches of each glob in turn, each group in its tools' order, without down migrations or repeats. */
async function orderedMatches(root: string, globs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const glob of globs) {
    const found = (await walkMatches(root, glob)).filter((f) => !out.includes(f));
    const journals = await readJournals(root, found);
    out.push(...orderMigrations(found, journals));
  }
  return out;
}

async function readFiles(root: string, relative: string[]): Promise<SchemaFile[]> {
  const files: SchemaFile[] = [];
  for (const rel of relative) {
    const abs = path.join(root, ...rel.split('/'));
    try {
      files.push({ path: abs, relative: rel, text: await fs.readFile(abs, 'utf8') });
    } catch {
      // Deleted between the walk and the read: it is simply not part of the schema.
    }
  }
  return files;
}

/** Workspace-relative paths of the files matching `glob`, walking only below its fixed leading folders. */
async function walkMatches(root: string, glob: string): Promise<string[]> {
  const normalized = glob.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  const segments = normalized.split('/');
  const fixed: string[] = [];
  while (segments.length > 1 && !/[*?[{]/.test(segments[0])) fixed.push(segments.shift() as string);
  const matcher = globToRegExp(normalized);
  const out: string[] = [];
  let budget = MAX_ENTRIES;
  const deep = segments.length > 1 || segments.some((s) => s.includes('**'));
  const walk = async (relDir: string): Promise<void> => {
    let entries: import('fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(root, ...relDir.split('/').filter(Boolean)), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (--budget < 0) return;
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (deep && !SKIPPED_DIRS.has(e.name)) await walk(rel);
      } else if (e.isFile() && matcher.test(rel)) out.push(rel);
    }
  };
  await walk(fixed.join('/'));
  return out;
}

/** drizzle-kit keeps the order of its migrations in `<folder>/meta/_journal.json`; read it where there is one. */
async function readJournals(root: string, files: string[]): Promise<Map<string, string[]>> {
  const journals = new Map<string, string[]>();
  for (const dir of new Set(files.map((f) => path.posix.dirname(f)))) {
    try {
      const raw = await fs.readFile(path.join(root, ...dir.split('/'), 'meta', '_journal.json'), 'utf8');
      const tags = journalTags(JSON.parse(raw) as unknown);
      if (tags.length > 0) journals.set(dir, tags);
    } catch {
      // No journal (or an unreadable one): the file names decide.
    }
  }
  return journals;
}

// ---- pure ----

/** The `tag`s of a drizzle journal in `idx` order. */
export function journalTags(journal: unknown): string[] {
  const entries = (journal as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((e): e is { idx?: unknown; tag: string } => typeof e?.tag === 'string')
    .map((e, i) => ({ tag: e.tag, idx: typeof e.idx === 'number' ? e.idx : i }))
    .sort((a, b) => a.idx - b.idx)
    .map((e) => e.tag);
}

/**
 * Orders migration files (workspace-relative) as their tools apply them, leaving out down/undo migrations:
 * - a journal (drizzle) decides for the files of its folder;
 * - otherwise by version: Flyway's `V1__`, `V1.1__`, `V2__` (repeatable `R__` after all of them), or the leading
 *   number of the name (golang-migrate and sqlx `1_`, `2_`, `10_`; timestamps of Prisma, Supabase, dbmate);
 *   for `migration.sql`, `up.sql` (Prisma, diesel) the folder's name is the migration's name;
 * - names without a version after those, by name.
 */
export function orderMigrations(files: readonly string[], journals: ReadonlyMap<string, string[]> = new Map()): string[] {
  const keyed = files
    .filter((f) => !isDownMigration(f))
    .map((f) => {
      const dir = path.posix.dirname(f);
      const journal = journals.get(dir);
      const base = path.posix.basename(f, path.posix.extname(f));
      const position = journal ? journal.indexOf(base) : -1;
      return { file: f, journal: journal ? (position >= 0 ? position : journal.length) : -1, key: migrationKey(f) };
    });
  keyed.sort((a, b) => {
    if (a.journal !== b.journal && a.journal >= 0 && b.journal >= 0) return a.journal - b.journal;
    return compareKeys(a.key, b.key) || compareText(a.file, b.file);
  });
  return keyed.map((k) => k.file);
}

interface MigrationKey {
  /** 0 versioned, 1 repeatable (Flyway `R__`), 2 no version. */
  group: number;
  version: number[];
  name: string;
}

export function migrationKey(file: string): MigrationKey {
  const base = path.posix.basename(file);
  const stem = base.replace(/\.(up\.)?sql$/i, '');
  // Prisma's `migration.sql` and diesel's `up.sql` are named by their folder.
  const name = /^(migration|up)$/i.test(stem) ? path.posix.basename(path.posix.dirname(file)) : stem;
  const flyway = /^V(\d+(?:[._]\d+)*)__/i.exec(name);
  if (flyway) return { group: 0, version: flyway[1].split(/[._]/).map(Number), name };
  if (/^R__/i.test(name)) return { group: 1, version: [], name };
  const leading = /^\d+(?:[-_.]\d+)*/.exec(name);
  if (leading) return { group: 0, version: leading[0].split(/[-_.]/).map(Number), name };
  return { group: 2, version: [], name };
}

function compareKeys(a: MigrationKey, b: MigrationKey): number {
  if (a.group !== b.group) return a.group - b.group;
  for (let i = 0; i < Math.max(a.version.length, b.version.length); i++) {
    const d = (a.version[i] ?? 0) - (b.version[i] ?? 0);
    if (d !== 0) return d;
  }
  return compareText(a.name, b.name);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `down.sql`, `1_x.down.sql`, `1_x_down.sql`, Flyway's undo `U1__x.sql`. */
export function isDownMigration(file: string): boolean {
  const base = path.posix.basename(file).toLowerCase();
  return base === 'down.sql' || base.endsWith('.down.sql') || base.endsWith('_down.sql') || /^u\d+(?:[._]\d+)*__/.test(base);
}

/**
 * A glob as a RegExp over `/`-separated relative paths: `**` any folders (also none), `*` and `?` within one
 * name, `{a,b}` alternatives, `[...]` classes.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      const atStart = i === 0 || glob[i - 1] === '/';
      if (atStart && slashAfter) {
        re += '(?:[^/]*/)*';
        i += 3;
      } else {
        re += '.*';
        i += 2;
      }
    } else if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) {
        re += '\\[';
        i++;
      } else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close + 1;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
      i++;
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
      i++;
    } else if (c === ',' && braces > 0) {
      re += '|';
      i++;
    } else {
      re += c.replace(/[.+^${}()|\\]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${re}$`);
}
