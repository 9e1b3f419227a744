// The embedded engine's life: PGlite is started only when a planner call needs it, loaded with the
// workspace's schema files, cached on disk by a hash of them, given synthetic statistics from the configured
// row counts, and released when idle. Its planner is a PglitePlanner that borrows it call by call.
//
// On disk, under <storage>/pglite-<version>/:
//   template/            an empty cluster, made once: initdb takes seconds and ~800 MB, so a child process runs it
//   schemas/<hash>/      a cluster with one schema loaded; <hash>.json beside it (its notes and tables) marks it complete
//   work/<pid>-<n>/      the copy this process runs on: a data directory must never have two users
import { fork } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { PGliteInterface, PGliteOptions } from '@electric-sql/pglite';
import type { StatusParams } from '../../../common/protocol';
import { loadParser } from '../core/parse';
import { LineIndex } from '../core/positions';
import type { CallContext } from '../core/ports';
import { Severity, type Diagnostic } from '../core/types';
import { buildLoadScript, failureNote, missingRoleNote, type LoadScript, type LoadStep } from '../workspace/loadScript';
import { discoverSchema, type SchemaFile, type SchemaSource } from '../workspace/schemaFiles';
import type { StatementRunner } from './explain';
import { isDbError, PglitePlanner, restoreStatistics, runner, type Outcome, type PgliteHandle, type SyntheticTable } from './pglitePlanner';
import { quoteQualified } from './sqlText';

export interface EmbeddedDatabaseOptions {
  /** The workspace folder whose schema files are loaded. */
  root: string;
  /** sqlInsight.schemaFiles; empty: the usual places. */
  patterns: readonly string[];
  /** A folder to keep clusters in (the extension's storage). */
  storagePath: string;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Release the database after this long without a call. Default 10 minutes. */
  idleMs?: number;
}

/** Notes on the schema files by file URI; files without notes map to `[]`, so that old notes are cleared. */
export type SchemaNotes = Map<string, Diagnostic[]>;

interface Instance {
  pg: PGliteInterface;
  workDir: string;
  key: string;
  countsKey: string;
  major: number;
  synthetic: Map<string, SyntheticTable>;
}

interface NoteRecord {
  /** Workspace-relative path of the schema file. */
  file: string;
  start: number;
  end: number;
  message: string;
}

interface SnapshotMeta {
  tables: number;
  extensions: string[];
  notes: NoteRecord[];
}

/** Bump when loading changes, so that clusters loaded the old way are not reused. */
const LOADER_VERSION = 1;
const DEFAULT_IDLE_MS = 10 * 60_000;
/** A failed start is not retried for this long (unless the schema files change). */
const RETRY_AFTER_MS = 30_000;
/** Clusters of other schemas kept for a quick return to them. */
const KEEP_SNAPSHOTS = 8;
/** Synthetic sizes stop here (64 GB of sparse files); the row count itself is kept. */
const MAX_SYNTHETIC_PAGES = 8 * 1024 * 1024;

export class EmbeddedDatabase {
  readonly planner: PglitePlanner;
  private current: StatusParams = { state: 'connecting', database: 'embedded', message: 'The embedded database starts when a query needs it.' };
  private readonly statusListeners = new Set<(s: StatusParams) => void>();
  private readonly notesListeners = new Set<(notes: SchemaNotes) => void>();
  private instance?: Instance;
  private discovery?: Promise<{ source?: SchemaSource; key: string }>;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer?: NodeJS.Timeout;
  private failure?: { key: string; at: number; reason: string };
  private notedUris = new Set<string>();
  private disposed = false;
  private workCounter = 0;
  private readonly base: string;

  constructor(private readonly opts: EmbeddedDatabaseOptions) {
    this.base = path.join(opts.storagePath, `pglite-${pgliteVersion()}`);
    this.planner = new PglitePlanner((ctx, work) => this.lend(ctx, work));
  }

  get status(): StatusParams {
    return { ...this.current };
  }

  onStatus(listener: (s: StatusParams) => void): void {
    this.statusListeners.add(listener);
  }

  onNotes(listener: (notes: SchemaNotes) => void): void {
    this.notesListeners.add(listener);
  }

  /** The schema files, found once and then kept until `invalidate()`. */
  async discover(): Promise<SchemaSource | undefined> {
    return (await this.schema()).source;
  }

  /** The schema files and their cache key. */
  private schema(): Promise<{ source?: SchemaSource; key: string }> {
    this.discovery ??= discoverSchema(this.opts.root, this.opts.patterns).then(
      (source) => ({ source, key: schemaKey(source?.files ?? []) }),
      (e: unknown) => {
        this.opts.log('warn', `Could not read the schema files under ${this.opts.root}: ${errorText(e)}`);
        return { key: schemaKey([]) };
      },
    );
    return this.discovery;
  }

  /** Starts the database now (a SQL document is open and about to be planned), without waiting for it. */
  warmUp(rowCounts: Record<string, number>): void {
    void this.exclusive(async () => {
      if (this.disposed) return;
      try {
        await this.ready(rowCounts);
        this.touch();
      } catch {
        // Reported by ready(); the call that needs the database says so again.
      }
    });
  }

  /** Files under the root changed: find the schema files again on the next call (which reloads if they differ). */
  invalidate(): void {
    this.discovery = undefined;
    this.failure = undefined;
  }

  /** True when `file` (an absolute path) is inside this database's workspace folder. */
  covers(file: string): boolean {
    const rel = path.relative(this.opts.root, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.idleTimer);
    await this.exclusive(() => this.close());
    this.statusListeners.clear();
    this.notesListeners.clear();
  }

  // ---- calls ----

  private lend<T>(ctx: CallContext, work: (h: PgliteHandle) => Promise<T>): Promise<Outcome<T>> {
    return this.exclusive(async (): Promise<Outcome<T>> => {
      if (this.disposed) return { ok: false, reason: 'the embedded database was disposed' };
      if (ctx.signal?.aborted) return { ok: false, reason: 'cancelled' };
      let inst: Instance;
      try {
        inst = await this.ready(ctx.settings.embedded.rowCounts);
      } catch (e) {
        return { ok: false, reason: e instanceof StartFailure ? e.message : this.startFailed(e) };
      }
      try {
        return { ok: true, value: await work({ pg: inst.pg, major: inst.major, synthetic: inst.synthetic, scope: `embedded:${inst.key}:${inst.countsKey}` }) };
      } catch (e) {
        // Statement errors come back as data; this is PGlite itself failing. Start afresh next time.
        this.opts.log('error', `The embedded database failed: ${errorText(e)}`);
        await this.close();
        return { ok: false, reason: `the embedded database failed: ${errorText(e)}` };
      } finally {
        this.touch();
      }
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (!this.instance || this.disposed) return;
    this.idleTimer = setTimeout(() => {
      void this.exclusive(async () => {
        if (!this.instance) return;
        this.opts.log('info', 'Releasing the idle embedded database.');
        await this.close();
        this.setStatus({ ...this.current, message: `${this.current.message} (Released while idle; it restarts on the next query.)` });
      });
    }, this.opts.idleMs ?? DEFAULT_IDLE_MS);
    this.idleTimer.unref();
  }

  // ---- start ----

  /** The running instance for the current schema files and row counts, started or rebuilt as needed. */
  private async ready(rowCounts: Record<string, number>): Promise<Instance> {
    const started = Date.now();
    const phases: string[] = [];
    let lapAt = started;
    const lap = (name: string): void => {
      phases.push(`${name} ${Date.now() - lapAt} ms`);
      lapAt = Date.now();
    };
    const { source, key } = await this.schema();
    const files = source?.files ?? [];
    const archives = extensionArchives();
    const countsKey = JSON.stringify(Object.entries(rowCounts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (this.instance && this.instance.key === key && this.instance.countsKey === countsKey) return this.instance;
    if (this.failure && this.failure.key === key && Date.now() - this.failure.at < RETRY_AFTER_MS) {
      throw new StartFailure(this.failure.reason);
    }
    await this.close();

    const label = source?.label ?? 'no schema files';
    lap('files');
    this.setStatus({
      state: 'connecting',
      database: 'embedded',
      message: `Starting the embedded database (PGlite) with the schema from ${label}…`,
    });
    const snapshot = path.join(this.base, 'schemas', key);
    const workDir = await this.newWorkDir();
    let pg: PGliteInterface | undefined;
    let meta: SnapshotMeta;
    let synthetic: Map<string, SyntheticTable>;
    let unknown: string[];
    let major: number;
    try {
      const cached = await readMeta(snapshot);
      const opened =
        (cached && (await this.openCached(snapshot, workDir, cached, archives, lap))) ||
        (await this.loadFresh(files, snapshot, workDir, archives, lap));
      pg = opened.pg;
      meta = opened.meta;
      major = await serverMajor(pg);
      ({ synthetic, unknown } = await applyRowCounts(pg, workDir, rowCounts));
      if (synthetic.size > 0) lap('statistics');
    } catch (e) {
      await pg?.close().catch(() => undefined);
      await fs.rm(workDir, { recursive: true, force: true });
      throw new StartFailure(this.startFailed(e, key));
    }
    this.instance = { pg, workDir, key, countsKey, major, synthetic };
    this.failure = undefined;
    this.emitNotes(files, meta.notes);

    const tables = `${meta.tables} ${meta.tables === 1 ? 'table' : 'tables'}`;
    const adapted = meta.notes.length > 0 ? `; ${meta.notes.length} statements adapted or skipped (notes in the schema files)` : '';
    const sizes =
      synthetic.size > 0
        ? `synthetic statistics for ${synthetic.size} (sqlInsight.embedded.rowCounts)`
        : 'size findings need sqlInsight.embedded.rowCounts';
    const unknownText = unknown.length > 0 ? ` sqlInsight.embedded.rowCounts names no table ${unknown.map((u) => `"${u}"`).join(', ')}.` : '';
    this.setStatus({
      state: 'connected',
      database: source ? `embedded (${tables} from ${label})` : 'embedded (no schema files)',
      message:
        `Embedded PostgreSQL ${major} (PGlite ${pgliteVersion()}) with the schema from ${label}: ${tables}${adapted}. ` +
        `Its tables are empty; ${sizes}.${unknownText}`,
    });
    this.opts.log(
      'info',
      `Embedded database ready in ${Date.now() - started} ms (${phases.some((p) => p.startsWith('load')) ? `loaded ${files.length} files` : 'cached cluster'}, ` +
        `${meta.tables} tables: ${phases.join(', ')}).`,
    );
    return this.instance;
  }

  /** Starts a copy of a cached cluster; undefined when it does not start (then the schema is loaded afresh). */
  private async openCached(
    snapshot: string,
    workDir: string,
    meta: SnapshotMeta,
    archives: Map<string, string>,
    lap: (name: string) => void,
  ): Promise<{ pg: PGliteInterface; meta: SnapshotMeta } | undefined> {
    let pg: PGliteInterface | undefined;
    try {
      await copyTree(snapshot, workDir);
      lap('copy');
      pg = await openPglite(workDir, meta.extensions, archives);
      lap('start');
      await touchFile(`${snapshot}.json`);
      return { pg, meta };
    } catch (e) {
      // A damaged cache entry (say, another server pruned it while we copied).
      this.opts.log('warn', `The cached cluster did not start (${errorText(e)}); loading the schema again.`);
      await pg?.close().catch(() => undefined);
      await fs.rm(workDir, { recursive: true, force: true });
      await fs.rm(`${snapshot}.json`, { force: true });
      return undefined;
    }
  }

  /** Loads the schema into a copy of the empty cluster, and caches the result. */
  private async loadFresh(
    files: SchemaFile[],
    snapshot: string,
    workDir: string,
    archives: Map<string, string>,
    lap: (name: string) => void,
  ): Promise<{ pg: PGliteInterface; meta: SnapshotMeta }> {
    await loadParser();
    const script = buildLoadScript(files, new Set(['plpgsql', ...archives.keys()]));
    lap('parse');
    const template = await this.ensureTemplate();
    lap('cluster');
    await copyTree(template, workDir);
    lap('copy');
    const pg = await openPglite(workDir, script.extensions, archives);
    lap('start');
    try {
      const notes = await runScript(pg, script);
      const meta = { tables: await countTables(pg), extensions: script.extensions, notes };
      lap(`load ${script.steps.length} statements`);
      await pg.exec('CHECKPOINT');
      await this.keepSnapshot(workDir, snapshot, meta);
      lap('cache');
      return { pg, meta };
    } catch (e) {
      await pg.close().catch(() => undefined);
      throw e;
    }
  }

  private startFailed(e: unknown, key?: string): string {
    const reason = `the embedded database could not start: ${errorText(e)}`;
    if (key) this.failure = { key, at: Date.now(), reason };
    this.opts.log('error', reason);
    this.setStatus({ state: 'error', database: 'embedded', message: `The embedded database (PGlite) could not start: ${errorText(e)}` });
    return reason;
  }

  private async close(): Promise<void> {
    const inst = this.instance;
    this.instance = undefined;
    if (!inst) return;
    try {
      await inst.pg.close();
    } catch (e) {
      this.opts.log('warn', `Closing the embedded database failed: ${errorText(e)}`);
    }
    await fs.rm(inst.workDir, { recursive: true, force: true });
  }

  private async newWorkDir(): Promise<string> {
    const work = path.join(this.base, 'work');
    await fs.mkdir(work, { recursive: true });
    // Copies left behind by servers that are gone.
    for (const name of await fs.readdir(work)) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) await fs.rm(path.join(work, name), { recursive: true, force: true });
    }
    return path.join(work, `${process.pid}-${++this.workCounter}`);
  }

  /** The empty cluster every schema starts from, made by a child process the first time. */
  private async ensureTemplate(): Promise<string> {
    const template = path.join(this.base, 'template');
    if (existsSync(path.join(template, 'PG_VERSION'))) return template;
    await fs.mkdir(this.base, { recursive: true });
    const tmp = `${template}.tmp-${process.pid}-${++this.workCounter}`;
    this.opts.log('info', `Creating the embedded database cluster in ${template} (once per PGlite version).`);
    const started = Date.now();
    await runInitdb(tmp);
    try {
      await fs.rename(tmp, template);
    } catch {
      // Another server made it meanwhile.
      await fs.rm(tmp, { recursive: true, force: true });
    }
    this.opts.log('info', `Cluster created in ${Date.now() - started} ms.`);
    return template;
  }

  /** Copies the freshly loaded cluster (checkpointed, idle) to the cache, and prunes the oldest entries. */
  private async keepSnapshot(workDir: string, snapshot: string, meta: SnapshotMeta): Promise<void> {
    const tmp = `${snapshot}.tmp-${process.pid}-${++this.workCounter}`;
    try {
      await copyTree(workDir, tmp);
      await fs.rm(snapshot, { recursive: true, force: true });
      await fs.rename(tmp, snapshot);
      await fs.writeFile(`${snapshot}.json.tmp-${process.pid}`, JSON.stringify(meta));
      await fs.rename(`${snapshot}.json.tmp-${process.pid}`, `${snapshot}.json`);
    } catch (e) {
      // Only the cache is lost: this start goes on with the loaded copy.
      this.opts.log('warn', `Could not cache the embedded cluster: ${errorText(e)}`);
      await fs.rm(tmp, { recursive: true, force: true });
      return;
    }
    const dir = path.dirname(snapshot);
    const metas = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    const aged = await Promise.all(metas.map(async (n) => ({ n, t: (await fs.stat(path.join(dir, n))).mtimeMs })));
    aged.sort((a, b) => b.t - a.t);
    for (const { n } of aged.slice(KEEP_SNAPSHOTS)) {
      await fs.rm(path.join(dir, n), { force: true });
      await fs.rm(path.join(dir, n.slice(0, -'.json'.length)), { recursive: true, force: true });
    }
  }

  // ---- reporting ----

  private emitNotes(files: SchemaFile[], notes: NoteRecord[]): void {
    const out: SchemaNotes = new Map();
    for (const uri of this.notedUris) out.set(uri, []);
    this.notedUris = new Set();
    for (const file of files) {
      const mine = notes.filter((n) => n.file === file.relative);
      if (mine.length === 0) continue;
      const lines = new LineIndex(file.text);
      const uri = pathToFileURL(file.path).href;
      this.notedUris.add(uri);
      out.set(
        uri,
        mine.map((n) => ({
          range: { start: lines.positionAt(n.start), end: lines.positionAt(n.end) },
          severity: Severity.Information,
          code: 'embedded-schema',
          source: 'sql-insight',
          message: n.message,
        })),
      );
    }
    for (const l of this.notesListeners) l(out);
  }

  private setStatus(status: StatusParams): void {
    if (JSON.stringify(status) === JSON.stringify(this.current)) return;
    this.current = status;
    for (const l of this.statusListeners) l(this.status);
  }
}

class StartFailure extends Error {}

// ---- loading ----

/**
 * Applies each file in one transaction, as migration tools do. A file is first sent whole; when a statement
 * fails, the file is rolled back and applied again statement by statement, each under a savepoint, so that
 * the rest loads and the failure is told where it happened.
 */
async function runScript(pg: PGliteInterface, script: LoadScript): Promise<NoteRecord[]> {
  const s = runner(pg);
  const notes: NoteRecord[] = [];
  let fileNotes: NoteRecord[] = [];
  const note = (step: LoadStep, message: string): void => {
    const text = script.files[step.file].text;
    fileNotes.push({
      file: script.files[step.file].relative,
      start: step.noteStart ?? step.start,
      end: step.noteEnd ?? firstLineEnd(text, step.start, step.end),
      message,
    });
  };
  for (let f = 0; f < script.files.length; f++) {
    const steps = script.steps.filter((st) => st.file === f);
    const run = steps.filter((st) => st.action === 'run');
    fileNotes = [];
    for (const step of steps) if (step.note && step.action === 'skip') note(step, step.note);
    if (run.length > 0) await runFile(s, run, note);
    notes.push(...fileNotes.sort((a, b) => a.start - b.start));
  }
  return notes;
}

// pg_dump files empty the search_path and switch roles for the rest of the session.
const RESET_SESSION = 'RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL';

async function runFile(s: StatementRunner, run: LoadStep[], note: (step: LoadStep, message: string) => void): Promise<void> {
  try {
    // The user's own schema into our own database: the simple protocol, the whole file in one message.
    await s.run(`BEGIN;\n${run.map((st) => st.sql).join(';\n')};\nCOMMIT; ${RESET_SESSION}`);
    for (const step of run) if (step.note) note(step, step.note);
    return;
  } catch (e) {
    if (!isDbError(e)) throw e;
    await s.run('ROLLBACK');
  }
  // Statement by statement, to load the rest and tell what failed where.
  await s.run('BEGIN');
  for (const step of run) {
    await s.run('SAVEPOINT sql_insight_step');
    try {
      await s.run(step.sql, { extended: true });
      await s.run('RELEASE SAVEPOINT sql_insight_step');
      if (step.note) note(step, step.note);
    } catch (e) {
      if (!isDbError(e)) throw e;
      await s.run('ROLLBACK TO SAVEPOINT sql_insight_step');
      note(step, step.privileges && e.code === '42704' ? missingRoleNote(e.message) : failureNote(e.message));
    }
  }
  await s.run('COMMIT');
  await s.run(RESET_SESSION);
}

function firstLineEnd(text: string, start: number, end: number): number {
  const nl = text.indexOf('\n', start);
  let e = nl < 0 ? end : Math.min(end, nl);
  if (e > start && text[e - 1] === '\r') e--;
  return e;
}

async function countTables(pg: PGliteInterface): Promise<number> {
  const r = await pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`,
  );
  return r.rows[0]?.n ?? 0;
}

async function serverMajor(pg: PGliteInterface): Promise<number> {
  const r = await pg.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
  return Math.floor((r.rows[0]?.v ?? 0) / 10000);
}

// ---- synthetic statistics ----

/**
 * Gives each counted table a size the planner believes: the catalog's reltuples and relpages, and a heap file
 * of that many pages. PostgreSQL scales reltuples by the file's real length, so an empty file would turn any
 * count back into zero; the pages are zeros (a sparse file: no disk is used), which PostgreSQL reads as empty.
 */
async function applyRowCounts(
  pg: PGliteInterface,
  workDir: string,
  counts: Record<string, number>,
): Promise<{ synthetic: Map<string, SyntheticTable>; unknown: string[] }> {
  const s = runner(pg);
  const synthetic = new Map<string, SyntheticTable>();
  const unknown: string[] = [];
  if (Object.keys(counts).length === 0) return { synthetic, unknown };
  const sizes = (
    await s.run("SELECT current_setting('block_size')::int AS block, pg_size_bytes(current_setting('segment_size'))::float8 AS segment")
  ).rows[0] as { block: number; segment: number };
  for (const [name, rows] of Object.entries(counts)) {
    let rel: { schema: string; name: string; kind: string; file: string | null } | undefined;
    try {
      rel = (
        await s.run(
          `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, pg_relation_filepath(c.oid) AS file
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
          { values: [name] },
        )
      ).rows[0] as typeof rel;
    } catch (e) {
      if (!isDbError(e)) throw e; // a name to_regclass cannot parse
    }
    if (!rel || !['r', 'm'].includes(rel.kind) || !rel.file) {
      unknown.push(name);
      continue;
    }
    const qualified = quoteQualified({ schema: rel.schema, name: rel.name });
    const plan = (await s.run(`EXPLAIN (FORMAT JSON) SELECT * FROM ${qualified}`)).rows[0]?.['QUERY PLAN'] as
      | Array<{ Plan: { 'Plan Width': number } }>
      | undefined;
    const table: SyntheticTable = { schema: rel.schema, name: rel.name, rows, pages: pagesFor(rows, plan?.[0]?.Plan['Plan Width'] ?? 100, sizes.block) };
    await restoreStatistics(s, table);
    await extendRelation(path.join(workDir, ...rel.file.split('/')), table.pages, sizes.block, Math.round(sizes.segment / sizes.block));
    synthetic.set(`${rel.schema}.${rel.name}`, table);
  }
  return { synthetic, unknown };
}

/** Heap pages for `rows` rows of `width` bytes: tuple header and line pointer included, pages full. */
export function pagesFor(rows: number, width: number, block = 8192): number {
  const tuple = 24 + Math.ceil(width / 8) * 8 + 4;
  const perPage = Math.max(1, Math.floor((block - 24) / tuple));
  return Math.min(MAX_SYNTHETIC_PAGES, Math.max(1, Math.ceil(rows / perPage)));
}

/** Makes a relation's main fork `pages` long, in segment files as PostgreSQL lays them out. */
async function extendRelation(file: string, pages: number, block: number, segmentPages: number): Promise<void> {
  let left = pages;
  for (let seg = 0; seg === 0 || left > 0; seg++) {
    const n = Math.min(left, segmentPages);
    left -= n;
    const handle = await fs.open(seg === 0 ? file : `${file}.${seg}`, 'a');
    try {
      await handle.truncate(n * block);
    } finally {
      await handle.close();
    }
  }
}

// ---- PGlite ----

type PgliteModule = typeof import('@electric-sql/pglite');

function pglite(): PgliteModule {
  // Required lazily: a server that plans against a configured database never loads PGlite.
  return require('@electric-sql/pglite') as PgliteModule;
}

let filesCache: { version: string; extensions: string } | undefined;

/**
 * PGlite's version (it keys the cluster cache) and the folder of its extension archives: in the bundle, set
 * by the build, which copies the archives to pglite-extensions/ beside it; in the tests, its package.
 */
function pgliteFiles(): { version: string; extensions: string } {
  if (!filesCache) {
    if (process.env.SQL_INSIGHT_PGLITE_VERSION) {
      filesCache = { version: process.env.SQL_INSIGHT_PGLITE_VERSION, extensions: path.join(__dirname, 'pglite-extensions') };
    } else {
      const dist = path.dirname(require.resolve('@electric-sql/pglite'));
      const pkg = JSON.parse(readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as { version: string };
      filesCache = { version: pkg.version, extensions: dist };
    }
  }
  return filesCache;
}

export function pgliteVersion(): string {
  return pgliteFiles().version;
}

let archivesCache: Map<string, string> | undefined;

/** PGlite's extensions: SQL name (`uuid-ossp`) → its archive. */
export function extensionArchives(): Map<string, string> {
  if (!archivesCache) {
    const dir = pgliteFiles().extensions;
    archivesCache = new Map(
      readdirSync(dir)
        .filter((f) => f.endsWith('.tar.gz'))
        .map((f) => [f.slice(0, -'.tar.gz'.length), path.join(dir, f)]),
    );
  }
  return archivesCache;
}

// Memory and durability, not planning: the planner reads none of these. PGlite's defaults (160 MB of shared
// buffers for 100 connections) cost ~140 MB more RSS for a database with one session and no data, and a
// cluster that is a cache needs no fsync (a damaged one is loaded again).
const SERVER_SETTINGS = `# Written by SQL Insight before each start: one session, a schema, no data.
shared_buffers = 16MB
max_connections = 4
maintenance_work_mem = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
`;

async function openPglite(dataDir: string, extensions: string[], archives: Map<string, string>): Promise<PGliteInterface> {
  // postgresql.auto.conf, read after initdb's postgresql.conf (PGlite's own option would replace that file).
  await fs.writeFile(path.join(dataDir, 'postgresql.auto.conf'), SERVER_SETTINGS);
  const ext: NonNullable<PGliteOptions['extensions']> = {};
  for (const name of extensions) {
    const archive = archives.get(name);
    // What PGlite's own contrib modules are: a name and where the archive is.
    if (archive) ext[name] = { name, setup: async () => ({ bundlePath: pathToFileURL(archive) }) };
  }
  return pglite().PGlite.create({ dataDir, extensions: ext });
}

/** initdb in a child process (see pgliteInitdb.ts), next to this module in the bundle and in the tests' build. */
function runInitdb(dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'pgliteInitdb.js'), [dataDir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exited with ${code}: ${stderr.trim().slice(-500)}`))));
  });
}

// ---- helpers ----

/** The cache key of a schema: its files, the loader and PGlite (which decide how they load). */
function schemaKey(files: SchemaFile[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([LOADER_VERSION, pgliteVersion()]));
  for (const f of files) h.update(`\0${f.relative}\0${f.text}`);
  return h.digest('hex').slice(0, 24);
}

async function readMeta(snapshot: string): Promise<SnapshotMeta | undefined> {
  try {
    const meta = JSON.parse(await fs.readFile(`${snapshot}.json`, 'utf8')) as SnapshotMeta;
    return existsSync(path.join(snapshot, 'PG_VERSION')) ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Copies a folder tree, files in parallel: a cluster is ~1,200 small files, which fs.cp copies one by one. */
async function copyTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  const entries = await fs.readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map((e) => (e.isDirectory() ? copyTree(path.join(from, e.name), path.join(to, e.name)) : fs.copyFile(path.join(from, e.name), path.join(to, e.name)))),
  );
}

async function touchFile(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
