// Index fixes as new migration files, in the style the migrations folder already uses: plain SQL
// (timestamped, numbered, Flyway, golang-migrate), Prisma, Knex, Django or Alembic. Pure: the adapter lists
// the folder (and reads the heads of Alembic revisions) and passes that in; this module only decides names
// and contents.

export type MigrationStyle = 'sql' | 'sql-numbered' | 'flyway' | 'golang-migrate' | 'prisma' | 'knex' | 'django' | 'alembic';

export interface MigrationDirListing {
  /** Names of the folder's entries; directories end with `/`. */
  entries: string[];
  /** The first lines of Alembic revision files by name, for their `revision` ids. */
  heads?: Record<string, string>;
}

export interface MigrationRequest {
  /** URI of the migrations folder, without a trailing slash. */
  dirUri: string;
  listing?: MigrationDirListing;
  /** e.g. `orders_customer_id_idx`. */
  name: string;
  ddl: string;
  drop: string;
  concurrently: boolean;
  now: Date;
}

export interface MigrationFile {
  uri: string;
  text: string;
}

export function detectStyle(listing: MigrationDirListing | undefined): MigrationStyle {
  const entries = listing?.entries ?? [];
  const files = entries.filter((e) => !e.endsWith('/'));
  const dirs = entries.filter((e) => e.endsWith('/'));
  if (dirs.some((d) => /^\d{14}_/.test(d)) || files.includes('migration_lock.toml')) return 'prisma';
  if (files.some((f) => /\.py$/.test(f) && /^[0-9a-f]{6,}_/.test(f)) && Object.values(listing?.heads ?? {}).some((h) => /^revision\s*[:=]/m.test(h))) {
    return 'alembic';
  }
  if (files.includes('__init__.py') || files.some((f) => /^\d{4}_\w+\.py$/.test(f))) return 'django';
  if (files.some((f) => /^\d{14}_\w+\.[cm]?[jt]s$/.test(f))) return 'knex';
  if (files.some((f) => /^V\d+(_\d+)*__\w+\.sql$/.test(f))) return 'flyway';
  if (files.some((f) => /\.up\.sql$/.test(f))) return 'golang-migrate';
  if (files.some((f) => /^\d{1,6}_\w+\.sql$/.test(f))) return 'sql-numbered';
  return 'sql';
}

const NOTE_SQL =
  '-- CREATE INDEX CONCURRENTLY cannot run inside a transaction: run this migration without one\n' +
  '-- (or set sqlInsight.index.concurrently to false).\n';

/** The files to create for one index, in the folder's style. */
export function migrationFiles(req: MigrationRequest): MigrationFile[] {
  const style = detectStyle(req.listing);
  const stamp = req.now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const files = (req.listing?.entries ?? []).filter((e) => !e.endsWith('/'));
  const at = (file: string): string => `${req.dirUri}/${file}`;
  const note = req.concurrently ? NOTE_SQL : '';
  const sql = `-- Written by SQL Insight.\n${note}${req.ddl}\n`;
  switch (style) {
    case 'prisma':
      // Prisma runs a migration file as one script; a single CONCURRENTLY statement is fine, several are not.
      return [{ uri: at(`${stamp}_${req.name}/migration.sql`), text: sql }];
    case 'flyway': {
      const next = 1 + Math.max(0, ...files.map((f) => Number(/^V(\d+)/.exec(f)?.[1] ?? 0)));
      const flywayNote = req.concurrently ? '-- Flyway: CONCURRENTLY needs executeInTransaction=false for this script.\n' : '';
      return [{ uri: at(`V${next}__${req.name}.sql`), text: `-- Written by SQL Insight.\n${flywayNote}${req.ddl}\n` }];
    }
    case 'golang-migrate':
      return [
        { uri: at(`${stamp}_${req.name}.up.sql`), text: sql },
        { uri: at(`${stamp}_${req.name}.down.sql`), text: `${req.drop}\n` },
      ];
    case 'sql-numbered': {
      const numbers = files.map((f) => /^(\d+)_/.exec(f)?.[1]).filter((n): n is string => n !== undefined);
      const width = Math.max(4, ...numbers.map((n) => n.length));
      const next = String(1 + Math.max(0, ...numbers.map(Number))).padStart(width, '0');
      return [{ uri: at(`${next}_${req.name}.sql`), text: sql }];
    }
    case 'knex': {
      const ext = files.some((f) => /^\d{14}_\w+\.ts$/.test(f)) ? 'ts' : 'js';
      return [{ uri: at(`${stamp}_${req.name}.${ext}`), text: knexMigration(req, ext) }];
    }
    case 'django':
      return [{ uri: at(`${djangoNumber(files)}_${req.name}.py`), text: djangoMigration(req, files) }];
    case 'alembic': {
      const rev = revisionId(req.name, stamp);
      return [{ uri: at(`${rev}_${req.name}.py`), text: alembicMigration(req, rev, alembicHead(req.listing)) }];
    }
    default:
      return [{ uri: at(`${stamp}_${req.name}.sql`), text: sql }];
  }
}

function js(s: string): string {
  return '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

function py(s: string): string {
  return `"""${s.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"')}"""`;
}

function knexMigration(req: MigrationRequest, ext: 'js' | 'ts'): string {
  const config = req.concurrently ? '// CREATE INDEX CONCURRENTLY cannot run inside a transaction.\nexports.config = { transaction: false };\n\n' : '';
  if (ext === 'ts') {
    return (
      "// Written by SQL Insight.\nimport type { Knex } from 'knex';\n\n" +
      (req.concurrently ? '// CREATE INDEX CONCURRENTLY cannot run inside a transaction.\nexport const config = { transaction: false };\n\n' : '') +
      `export async function up(knex: Knex): Promise<void> {\n  await knex.raw(${js(req.ddl)});\n}\n\n` +
      `export async function down(knex: Knex): Promise<void> {\n  await knex.raw(${js(req.drop)});\n}\n`
    );
  }
  return (
    `// Written by SQL Insight.\n${config}` +
    `exports.up = (knex) => knex.raw(${js(req.ddl)});\n\n` +
    `exports.down = (knex) => knex.raw(${js(req.drop)});\n`
  );
}

function djangoNumber(files: string[]): string {
  const n = Math.max(0, ...files.map((f) => Number(/^(\d{4})_/.exec(f)?.[1] ?? 0)));
  return String(n + 1).padStart(4, '0');
}

function djangoMigration(req: MigrationRequest, files: string[]): string {
  const latest = files.filter((f) => /^\d{4}_\w+\.py$/.test(f)).sort().pop();
  // The app label is the folder that holds `migrations/`.
  const app = /\/([^/]+)\/migrations$/.exec(req.dirUri)?.[1] ?? 'app';
  const deps = latest ? `[("${app}", "${latest.replace(/\.py$/, '')}")]` : '[]';
  return (
    '# Written by SQL Insight.\nfrom django.db import migrations\n\n\n' +
    'class Migration(migrations.Migration):\n' +
    (req.concurrently ? '    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.\n    atomic = False\n\n' : '') +
    `    dependencies = ${deps}\n\n` +
    `    operations = [\n        migrations.RunSQL(\n            sql=${py(req.ddl)},\n            reverse_sql=${py(req.drop)},\n        ),\n    ]\n`
  );
}

/** The revision no other revision names as its down_revision. */
function alembicHead(listing: MigrationDirListing | undefined): string | undefined {
  const revs = new Map<string, string | undefined>();
  for (const head of Object.values(listing?.heads ?? {})) {
    const rev = /^revision\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]/m.exec(head)?.[1];
    const down = /^down_revision\s*(?::[^=]+)?=\s*['"]([^'"]+)['"]/m.exec(head)?.[1];
    if (rev) revs.set(rev, down);
  }
  const downs = new Set([...revs.values()].filter(Boolean));
  return [...revs.keys()].find((r) => !downs.has(r));
}

/** A 12-hex-digit revision id derived from the name and time (deterministic for tests). */
function revisionId(name: string, stamp: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${stamp}:${name}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  let h2 = 0x12345678;
  for (const ch of `${name}:${stamp}`) h2 = Math.imul(h2 ^ ch.charCodeAt(0), 0x5bd1e995) >>> 0;
  return (h.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).slice(0, 12);
}

function alembicMigration(req: MigrationRequest, rev: string, down: string | undefined): string {
  const body = req.concurrently
    ? `    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.\n    with op.get_context().autocommit_block():\n        op.execute(${py(req.ddl)})\n`
    : `    op.execute(${py(req.ddl)})\n`;
  const downBody = req.concurrently
    ? `    with op.get_context().autocommit_block():\n        op.execute(${py(req.drop)})\n`
    : `    op.execute(${py(req.drop)})\n`;
  return (
    `"""${req.name} (written by SQL Insight)"""\nfrom alembic import op\n\n` +
    `revision = "${rev}"\ndown_revision = ${down ? `"${down}"` : 'None'}\nbranch_labels = None\ndepends_on = None\n\n\n` +
    `def upgrade() -> None:\n${body}\n\ndef downgrade() -> None:\n${downBody}`
  );
}
