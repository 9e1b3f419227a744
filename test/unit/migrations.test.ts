// Migration files in the style the folder already uses.
import * as assert from 'node:assert/strict';
import { detectStyle, migrationFiles, type MigrationDirListing } from '../../server/src/core/migrations';

const NOW = new Date('2026-03-04T05:06:07Z');
const DDL = 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);';
const DROP = 'DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;';

function files(listing: MigrationDirListing | undefined, dirUri = 'file:///app/migrations', concurrently = true) {
  return migrationFiles({ dirUri, listing, name: 'orders_customer_id_idx', ddl: DDL, drop: DROP, concurrently, now: NOW });
}

describe('migration files in the folder\'s style', () => {
  it('detects each style from the folder listing', () => {
    const cases: [MigrationDirListing | undefined, string][] = [
      [undefined, 'sql'],
      [{ entries: ['20240101000000_init.sql'] }, 'sql'],
      [{ entries: ['0001_init.sql', '0002_users.sql'] }, 'sql-numbered'],
      [{ entries: ['V1__init.sql', 'V2__users.sql'] }, 'flyway'],
      [{ entries: ['20240101000000_init.up.sql', '20240101000000_init.down.sql'] }, 'golang-migrate'],
      [{ entries: ['20240101000000_init/', 'migration_lock.toml'] }, 'prisma'],
      [{ entries: ['20240101000000_init.js'] }, 'knex'],
      [{ entries: ['__init__.py', '0001_initial.py'] }, 'django'],
      [{ entries: ['1a2b3c4d5e6f_init.py'], heads: { '1a2b3c4d5e6f_init.py': 'revision = "1a2b3c4d5e6f"\ndown_revision = None\n' } }, 'alembic'],
    ];
    for (const [listing, style] of cases) assert.equal(detectStyle(listing), style, JSON.stringify(listing));
  });

  it('plain SQL, timestamped, with the CONCURRENTLY note (or without it when that setting is off)', () => {
    assert.deepEqual(files(undefined), [
      {
        uri: 'file:///app/migrations/20260304050607_orders_customer_id_idx.sql',
        text:
          '-- Written by SQL Insight.\n-- CREATE INDEX CONCURRENTLY cannot run inside a transaction: run this migration without one\n' +
          `-- (or set sqlInsight.index.concurrently to false).\n${DDL}\n`,
      },
    ]);
    assert.equal(files(undefined, 'file:///app/migrations', false)[0].text, `-- Written by SQL Insight.\n${DDL}\n`);
  });

  it('numbered, Flyway and golang-migrate (with its down file)', () => {
    assert.equal(files({ entries: ['0001_init.sql', '0012_users.sql'] })[0].uri, 'file:///app/migrations/0013_orders_customer_id_idx.sql');
    const [flyway] = files({ entries: ['V1__init.sql', 'V7__users.sql'] });
    assert.equal(flyway.uri, 'file:///app/migrations/V8__orders_customer_id_idx.sql');
    assert.match(flyway.text, /executeInTransaction=false/);
    assert.deepEqual(
      files({ entries: ['1_init.up.sql', '1_init.down.sql'] }).map((f) => [f.uri, f.text.trim().split('\n').pop()]),
      [
        ['file:///app/migrations/20260304050607_orders_customer_id_idx.up.sql', DDL],
        ['file:///app/migrations/20260304050607_orders_customer_id_idx.down.sql', DROP],
      ],
    );
  });

  it('Prisma: a folder with migration.sql', () => {
    assert.equal(files({ entries: ['20240101000000_init/'] })[0].uri, 'file:///app/migrations/20260304050607_orders_customer_id_idx/migration.sql');
  });

  it('Knex: up and down through knex.raw, outside a transaction, in the folder\'s language', () => {
    const [jsFile] = files({ entries: ['20240101000000_init.js'] });
    assert.equal(jsFile.uri, 'file:///app/migrations/20260304050607_orders_customer_id_idx.js');
    assert.equal(
      jsFile.text,
      '// Written by SQL Insight.\n// CREATE INDEX CONCURRENTLY cannot run inside a transaction.\nexports.config = { transaction: false };\n\n' +
        `exports.up = (knex) => knex.raw(\`${DDL}\`);\n\nexports.down = (knex) => knex.raw(\`${DROP}\`);\n`,
    );
    const [tsFile] = files({ entries: ['20240101000000_init.ts'] });
    assert.match(tsFile.uri, /\.ts$/);
    assert.match(tsFile.text, /export async function up\(knex: Knex\): Promise<void> \{\n {2}await knex\.raw\(`CREATE INDEX/);
  });

  it('Django: the next number, a dependency on the latest migration of the app, atomic = False', () => {
    const [f] = files({ entries: ['__init__.py', '0001_initial.py', '0002_orders.py'] }, 'file:///app/shop/migrations');
    assert.equal(f.uri, 'file:///app/shop/migrations/0003_orders_customer_id_idx.py');
    assert.match(f.text, /atomic = False/);
    assert.match(f.text, /dependencies = \[\("shop", "0002_orders"\)\]/);
    assert.match(f.text, /migrations\.RunSQL\(\n {12}sql="""CREATE INDEX CONCURRENTLY/);
    assert.match(f.text, /reverse_sql="""DROP INDEX CONCURRENTLY/);
  });

  it('Alembic: a new revision on top of the head, in an autocommit block', () => {
    const listing: MigrationDirListing = {
      entries: ['aaaaaaaaaaaa_init.py', 'bbbbbbbbbbbb_users.py'],
      heads: {
        'aaaaaaaaaaaa_init.py': '"""init"""\nrevision = "aaaaaaaaaaaa"\ndown_revision = None\n',
        'bbbbbbbbbbbb_users.py': '"""users"""\nrevision: str = "bbbbbbbbbbbb"\ndown_revision: Union[str, None] = "aaaaaaaaaaaa"\n',
      },
    };
    const [f] = files(listing, 'file:///app/alembic/versions');
    assert.match(f.uri, /^file:\/\/\/app\/alembic\/versions\/[0-9a-f]{12}_orders_customer_id_idx\.py$/);
    assert.match(f.text, /down_revision = "bbbbbbbbbbbb"/);
    assert.match(f.text, /with op\.get_context\(\)\.autocommit_block\(\):\n {8}op\.execute\("""CREATE INDEX CONCURRENTLY/);
    assert.deepEqual(files(listing, 'file:///app/alembic/versions'), [f], 'deterministic');
  });
});
