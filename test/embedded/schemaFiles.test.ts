// Which files build the embedded schema, in which order, and what of them is run: real folders on disk for
// discovery, the pure ordering and adaptation directly.
import * as assert from 'node:assert/strict';
import { loadParser } from '../../server/src/core/parse';
import { buildLoadScript, upPart, withoutPsqlData } from '../../server/src/workspace/loadScript';
import { discoverSchema, globToRegExp, isDownMigration, orderMigrations } from '../../server/src/workspace/schemaFiles';
import { makeWorkspace, type Workspace } from './support';

const TABLE = 'CREATE TABLE t (id int);\n';

describe('embedded: schema discovery', () => {
  const made: Workspace[] = [];
  const workspace = (files: Record<string, string>): Workspace => {
    const ws = makeWorkspace(files);
    made.push(ws);
    return ws;
  };
  after(() => made.forEach((w) => w.remove()));

  const discovered = async (files: Record<string, string>, patterns: string[] = []) => {
    const source = await discoverSchema(workspace(files).root, patterns);
    return source && { label: source.label, files: source.files.map((f) => f.relative) };
  };

  it('finds a schema dump: db/structure.sql, then db/schema.sql, then schema.sql', async () => {
    assert.deepEqual(await discovered({ 'db/structure.sql': TABLE, 'db/schema.sql': TABLE, 'schema.sql': TABLE }), {
      label: 'db/structure.sql',
      files: ['db/structure.sql'],
    });
    assert.deepEqual(await discovered({ 'db/schema.sql': TABLE, 'schema.sql': TABLE }), { label: 'db/schema.sql', files: ['db/schema.sql'] });
    assert.deepEqual(await discovered({ 'schema.sql': TABLE }), { label: 'schema.sql', files: ['schema.sql'] });
  });

  it('prefers a dump to migrations, which would create everything a second time', async () => {
    assert.deepEqual(await discovered({ 'schema.sql': TABLE, 'migrations/001_a.sql': TABLE }), { label: 'schema.sql', files: ['schema.sql'] });
  });

  it('finds Prisma migrations in the order of their folders', async () => {
    assert.deepEqual(
      await discovered({
        'prisma/schema.prisma': 'model A {}',
        'prisma/migrations/20240301000000_add_orders/migration.sql': TABLE,
        'prisma/migrations/20240101000000_init/migration.sql': TABLE,
        'prisma/migrations/migration_lock.toml': 'provider = "postgresql"',
      }),
      {
        label: 'prisma/migrations/',
        files: ['prisma/migrations/20240101000000_init/migration.sql', 'prisma/migrations/20240301000000_add_orders/migration.sql'],
      },
    );
  });

  it("finds drizzle migrations in the order of drizzle-kit's journal, not of their names", async () => {
    const journal = { version: '7', dialect: 'postgresql', entries: [
      { idx: 0, version: '7', when: 1, tag: '0000_zebra', breakpoints: true },
      { idx: 1, version: '7', when: 2, tag: '0001_apple', breakpoints: true },
    ] };
    assert.deepEqual(
      await discovered({
        'drizzle/0001_apple.sql': TABLE,
        'drizzle/0000_zebra.sql': TABLE,
        'drizzle/meta/_journal.json': JSON.stringify(journal),
        'drizzle/meta/0000_snapshot.json': '{}',
      }),
      { label: 'drizzle/', files: ['drizzle/0000_zebra.sql', 'drizzle/0001_apple.sql'] },
    );
    // Reversed journal, to show it is the journal that decides.
    journal.entries.reverse().forEach((e, i) => (e.idx = i));
    assert.deepEqual((await discovered({ 'drizzle/0001_apple.sql': TABLE, 'drizzle/0000_zebra.sql': TABLE, 'drizzle/meta/_journal.json': JSON.stringify(journal) }))?.files, [
      'drizzle/0001_apple.sql',
      'drizzle/0000_zebra.sql',
    ]);
  });

  it('finds Supabase migrations by their timestamps, leaving seed data out', async () => {
    assert.deepEqual(
      await discovered({
        'supabase/migrations/20240201120000_policies.sql': TABLE,
        'supabase/migrations/20240101120000_init.sql': TABLE,
        'supabase/seed.sql': "INSERT INTO t VALUES (1);",
        'supabase/config.toml': '',
      }),
      { label: 'supabase/migrations/', files: ['supabase/migrations/20240101120000_init.sql', 'supabase/migrations/20240201120000_policies.sql'] },
    );
  });

  it('finds migrations/ at any depth, numbered, with the up half of up/down pairs only', async () => {
    assert.deepEqual(
      await discovered({
        'migrations/10_c.up.sql': TABLE,
        'migrations/10_c.down.sql': TABLE,
        'migrations/2_b.up.sql': TABLE,
        'migrations/2_b.down.sql': TABLE,
        'migrations/1_a.up.sql': TABLE,
        'migrations/1_a.down.sql': TABLE,
        'migrations/2023/5_d.sql': TABLE,
        'migrations/README.md': 'not SQL',
      }),
      { label: 'migrations/', files: ['migrations/1_a.up.sql', 'migrations/2_b.up.sql', 'migrations/2023/5_d.sql', 'migrations/10_c.up.sql'] },
    );
    assert.deepEqual(
      (await discovered({
        'migrations/2020-02-01-000000_orders/up.sql': TABLE,
        'migrations/2020-02-01-000000_orders/down.sql': TABLE,
        'migrations/2020-01-01-000000_users/up.sql': TABLE,
        'migrations/2020-01-01-000000_users/down.sql': TABLE,
      }))?.files,
      ['migrations/2020-01-01-000000_users/up.sql', 'migrations/2020-02-01-000000_orders/up.sql'],
      'diesel: a folder per migration',
    );
  });

  it('finds nothing in a workspace without schema files, and never looks into node_modules', async () => {
    assert.equal(await discovered({ 'src/app.ts': 'export {}', 'node_modules/pkg/schema.sql': TABLE }), undefined);
    assert.equal(await discovered({ 'node_modules/pkg/migrations/1.sql': TABLE }, ['**/*.sql']), undefined);
  });

  it('uses sqlInsight.schemaFiles instead, glob after glob, each in migration order', async () => {
    assert.deepEqual(
      await discovered(
        {
          'db/base/types.sql': TABLE,
          'db/changes/3_x.sql': TABLE,
          'db/changes/1_y.sql': TABLE,
          'migrations/1_ignored.sql': TABLE,
        },
        ['db/base/*.sql', 'db/changes/**/*.sql', 'db/base/types.sql'],
      ),
      { label: 'sqlInsight.schemaFiles', files: ['db/base/types.sql', 'db/changes/1_y.sql', 'db/changes/3_x.sql'] },
    );
  });
});

describe('embedded: migration order', () => {
  it('orders Flyway versions numerically, repeatable migrations after them, and drops undo ones', () => {
    assert.deepEqual(
      orderMigrations(['sql/V2__b.sql', 'sql/R__views.sql', 'sql/V1.1__a2.sql', 'sql/V1__a.sql', 'sql/U2__b.sql', 'sql/V10__c.sql']),
      ['sql/V1__a.sql', 'sql/V1.1__a2.sql', 'sql/V2__b.sql', 'sql/V10__c.sql', 'sql/R__views.sql'],
    );
  });

  it('orders by the leading number, not the text, and puts unnumbered files last by name', () => {
    assert.deepEqual(orderMigrations(['m/b.sql', 'm/100_x.sql', 'm/a.sql', 'm/20_y.sql', 'm/3_z.sql']), [
      'm/3_z.sql',
      'm/20_y.sql',
      'm/100_x.sql',
      'm/a.sql',
      'm/b.sql',
    ]);
  });

  it('knows the down halves of up/down pairs', () => {
    for (const f of ['m/1_a.down.sql', 'm/x/down.sql', 'm/1_a_down.sql', 'm/U3__undo.sql']) assert.ok(isDownMigration(f), f);
    for (const f of ['m/1_a.up.sql', 'm/x/up.sql', 'm/downtown.sql', 'm/1_countdown_table.sql']) assert.ok(!isDownMigration(f), f);
  });

  it('matches globs: ** across folders (or none), * within a name, {a,b}', () => {
    const re = globToRegExp('migrations/**/*.{sql,psql}');
    assert.ok(re.test('migrations/1.sql'));
    assert.ok(re.test('migrations/a/b/2.psql'));
    assert.ok(!re.test('migrations/a/b/2.txt'));
    assert.ok(!re.test('other/migrations/1.sql'));
    assert.ok(globToRegExp('prisma/migrations/*/migration.sql').test('prisma/migrations/2024_x/migration.sql'));
    assert.ok(!globToRegExp('prisma/migrations/*/migration.sql').test('prisma/migrations/a/b/migration.sql'));
    assert.ok(globToRegExp('db/schema?.sql').test('db/schema2.sql'));
    assert.ok(!globToRegExp('db/schema.sql').test('db/schemaXsql'));
  });
});

describe('embedded: what of a schema file runs', () => {
  before(() => loadParser());

  const script = (text: string, available = ['plpgsql', 'pg_trgm', 'uuid-ossp']) =>
    buildLoadScript([{ path: '/w/m.sql', relative: 'm.sql', text }], new Set(available));

  it('keeps the up part of dbmate and goose files, blanking the rest in place', () => {
    const dbmate = '-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n';
    const up = upPart({ text: dbmate, copyData: [] }).text;
    assert.equal(up.length, dbmate.length);
    assert.match(up, /CREATE TABLE a/);
    assert.doesNotMatch(up, /DROP/);
    const goose = '-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n';
    assert.deepEqual(script(goose).steps.map((s) => s.sql), ['CREATE TABLE b (id int)']);
  });

  it('loads the extensions the engine has and skips the others with a note', () => {
    const s = script('CREATE EXTENSION IF NOT EXISTS "uuid-ossp";\nCREATE EXTENSION postgis;\nCREATE EXTENSION pg_trgm;');
    assert.deepEqual(s.extensions, ['uuid-ossp', 'pg_trgm']);
    const skipped = s.steps.filter((st) => st.action === 'skip');
    assert.equal(skipped.length, 1);
    assert.match(skipped[0].note ?? '', /extension "postgis" is not available/);
  });

  it('drops CONCURRENTLY (a file loads in one transaction), keeping every offset and saying so on the word', () => {
    const text = 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);';
    const [step] = script(text).steps;
    assert.equal(step.action, 'run');
    assert.equal(step.sql, 'CREATE INDEX              IF NOT EXISTS t_a ON t (a)');
    assert.equal(text.slice(step.noteStart, step.noteEnd), 'CONCURRENTLY');
    assert.match(step.note ?? '', /without CONCURRENTLY/);
  });

  it("says nothing about transaction control and maintenance, and marks ownership and privileges", () => {
    const s = script('BEGIN;\nCREATE TABLE t (id int);\nALTER TABLE t OWNER TO app;\nGRANT SELECT ON t TO app;\nVACUUM ANALYZE t;\nCOMMIT;');
    assert.deepEqual(
      s.steps.map((st) => [st.sql.split(' ').slice(0, 2).join(' '), Boolean(st.privileges)]),
      [
        ['CREATE TABLE', false],
        ['ALTER TABLE', true],
        ['GRANT SELECT', true],
      ],
    );
  });

  it("removes pg_dump's psql meta-commands and COPY data, skipping the COPY with a note", () => {
    const dump = [
      '\\restrict abc123',
      "SELECT pg_catalog.set_config('search_path', '', false);",
      'CREATE TABLE public.t (id integer, name text);',
      'COPY public.t (id, name) FROM stdin;',
      '1\tone; two',
      '2\tthree',
      '\\.',
      'CREATE INDEX t_name ON public.t (name);',
      '\\unrestrict abc123',
      '',
    ].join('\n');
    const prepared = withoutPsqlData(dump);
    assert.equal(prepared.text.length, dump.length);
    assert.doesNotMatch(prepared.text, /restrict|one; two/);
    const steps = script(dump).steps;
    assert.deepEqual(
      steps.map((st) => [st.action, st.sql.slice(0, 12)]),
      [
        ['run', 'SELECT pg_ca'],
        ['run', 'CREATE TABLE'],
        ['skip', 'COPY public.'],
        ['run', 'CREATE INDEX'],
      ],
    );
    assert.match(steps[2].note ?? '', /COPY … FROM stdin loads data/);
  });

  it('skips what has no place in the engine: databases, tablespaces, ALTER SYSTEM', () => {
    const s = script("CREATE DATABASE app;\nALTER SYSTEM SET work_mem = '1GB';\nCREATE TABLESPACE fast LOCATION '/ssd';");
    assert.deepEqual(s.steps.map((st) => st.action), ['skip', 'skip', 'skip']);
    assert.match(s.steps[0].note ?? '', /databases are not modelled/);
  });
});
