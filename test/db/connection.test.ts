import * as assert from 'assert';
import { DEFAULT_SETTINGS } from '../../common/protocol';
import { maskSecrets, resolveConnection } from '../../server/src/db/pgPlanner';
import { errorPositionToOffset } from '../../server/src/db/sqlText';

const withUrl = (databaseUrl: string) => ({ ...DEFAULT_SETTINGS, databaseUrl });

describe('db: resolveConnection', () => {
  it('prefers the setting over DATABASE_URL and the libpq variables', () => {
    const r = resolveConnection(withUrl('postgres://me:hunter22@db.local:6543/app_dev'), {
      DATABASE_URL: 'postgres://other@elsewhere/other',
      PGHOST: 'pghost',
    });
    assert.strictEqual(r.source, 'setting');
    assert.deepStrictEqual(r.config, { connectionString: 'postgres://me:hunter22@db.local:6543/app_dev' });
    assert.strictEqual(r.label, 'app_dev@db.local:6543');
    assert.ok(!r.key.includes('hunter22'));
  });

  it('falls back to DATABASE_URL when the setting is empty or blank', () => {
    const r = resolveConnection(withUrl('   '), { DATABASE_URL: 'postgres://u:pw1234@localhost/app_dev', PGHOST: 'x' });
    assert.strictEqual(r.source, 'DATABASE_URL');
    assert.strictEqual(r.label, 'app_dev@localhost:5432');
  });

  it('uses the libpq variables only when one of them is set', () => {
    const r = resolveConnection(withUrl(''), {
      PGHOST: 'db.local',
      PGPORT: '6543',
      PGDATABASE: 'app_dev',
      PGUSER: 'me',
      PGPASSWORD: 'hunter22',
    });
    assert.strictEqual(r.source, 'libpq');
    assert.deepStrictEqual(r.config, { host: 'db.local', port: 6543, database: 'app_dev', user: 'me', password: 'hunter22' });
    assert.strictEqual(r.label, 'app_dev@db.local:6543');
    assert.ok(!r.key.includes('hunter22') && !r.label.includes('hunter22'));

    // Without PGPASSWORD the password stays unset, so pg consults ~/.pgpass itself.
    const pgpass = resolveConnection(withUrl(''), { PGDATABASE: 'app_dev', USER: 'me' });
    assert.strictEqual(pgpass.source, 'libpq');
    assert.strictEqual(pgpass.config.password, undefined);
    assert.strictEqual(pgpass.label, 'app_dev@localhost:5432');
  });

  it('is not configured without any source (PGDATA alone does not count)', () => {
    assert.strictEqual(resolveConnection(withUrl(''), {}).source, 'none');
    assert.strictEqual(resolveConnection(withUrl(''), { PGDATA: '/var/lib/postgresql/data', DATABASE_URL: '' }).source, 'none');
  });

  it('gives stable keys that change with the target, password included', () => {
    const a = resolveConnection(withUrl('postgres://me:one111@h/db'), {});
    const b = resolveConnection(withUrl('postgres://me:one111@h/db'), {});
    const c = resolveConnection(withUrl('postgres://me:two222@h/db'), {});
    assert.strictEqual(a.key, b.key);
    assert.notStrictEqual(a.key, c.key);
  });

  it('labels socket URLs and URLs without a database', () => {
    assert.strictEqual(
      resolveConnection(withUrl('postgres:///app_dev?host=/var/run/postgresql'), {}).label,
      'app_dev@/var/run/postgresql:5432',
    );
    assert.strictEqual(resolveConnection(withUrl('postgres://me:secretpw@localhost'), {}).label, 'me@localhost:5432');
  });
});

describe('db: maskSecrets', () => {
  it('removes passwords from URLs, key=value pairs and known literals', () => {
    assert.strictEqual(maskSecrets('postgres://me:hunter22@h:5432/db'), 'postgres://me:***@h:5432/db');
    assert.strictEqual(maskSecrets('url postgresql://me:p@ss@h/db failed'), 'url postgresql://me:***@h/db failed');
    assert.strictEqual(maskSecrets('host=h password=hunter22 user=me'), 'host=h password=*** user=me');
    assert.strictEqual(maskSecrets('postgres://h/db?password=hunter22&x=1'), 'postgres://h/db?password=***&x=1');
    assert.strictEqual(maskSecrets('server said hunter22', ['hunter22']), 'server said ***');
    assert.strictEqual(maskSecrets('postgres://me@h/db'), 'postgres://me@h/db');
  });
});

describe('db: errorPositionToOffset', () => {
  it('maps 1-based code point positions after our prefix to UTF-16 offsets', () => {
    const sql = "SELECT 'é😀' FROM nope";
    const prefix = 'EXPLAIN ';
    // PostgreSQL counts é and 😀 as one character each; JavaScript counts 😀 as two UTF-16 units.
    const pgPosition = prefix.length + [...sql.slice(0, sql.indexOf('nope'))].length + 1;
    assert.strictEqual(errorPositionToOffset(String(pgPosition), prefix.length, sql), sql.indexOf('nope'));
    assert.strictEqual(errorPositionToOffset(prefix.length + [...sql].length + 1, prefix.length, sql), sql.length);
    assert.strictEqual(errorPositionToOffset(3, prefix.length, sql), undefined);
    assert.strictEqual(errorPositionToOffset(prefix.length + [...sql].length + 2, prefix.length, sql), undefined);
    assert.strictEqual(errorPositionToOffset(undefined, 0, sql), undefined);
  });

  it('counts bytes for SQL_ASCII servers', () => {
    const sql = "SELECT 'é😀' FROM nope";
    const bytes = Buffer.byteLength(sql.slice(0, sql.indexOf('nope')), 'utf8');
    assert.strictEqual(errorPositionToOffset(bytes + 1, 0, sql, true), sql.indexOf('nope'));
  });
});
