import * as assert from 'node:assert/strict';
import { assertMaps, hostOf, only, regions } from './helpers';

describe('embedded SQL extraction: library forms', () => {
  it('postgres.js sql`…` with a value interpolation', () => {
    const src = 'const rows = await sql`SELECT id FROM users WHERE id = ${userId}`;';
    const r = only(src);
    assert.equal(r.text, 'SELECT id FROM users WHERE id = $1');
    assert.deepEqual(r.params, [{ index: 1, source: 'userId', kind: 'value' }]);
    assert.match(r.origin ?? '', /sql`…` tagged template/);
    assertMaps(src, r, 'users');
    assert.equal(hostOf(src, r, '$1'), '${userId}');
  });

  it('sql-template-strings SQL`…`', () => {
    const src = 'db.query(SQL`SELECT * FROM users WHERE name = ${name}`);';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE name = $1');
    assertMaps(src, r, 'users');
  });

  it('slonik sql.unsafe`…`', () => {
    const src = 'await pool.query(sql.unsafe`SELECT * FROM users WHERE id = ${id}`);';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE id = $1');
    assert.match(r.origin ?? '', /^sql\.unsafe`…`/);
    assertMaps(src, r, 'users');
  });

  it('slonik sql.type(schema)`…`', () => {
    const src = 'const q = sql.type(z.object({ id: z.number() }))`SELECT id FROM users`;';
    const r = only(src);
    assert.equal(r.text, 'SELECT id FROM users');
    assert.match(r.origin ?? '', /sql\.type\(…\)`…`/);
    assertMaps(src, r, 'users');
  });

  it('slonik sql.identifier and sql.join are unknown', () => {
    const src = 'sql.unsafe`SELECT ${sql.join(cols, sql.fragment`, `)} FROM ${sql.identifier(["users"])} WHERE id = ${id}`';
    const r = only(src);
    assert.equal(r.text, 'SELECT $1 FROM $2 WHERE id = $3');
    assert.deepEqual(
      r.params.map((p) => [p.index, p.kind]),
      [[1, 'unknown'], [2, 'unknown'], [3, 'value']],
    );
    assert.equal(r.params[1].source, 'sql.identifier(["users"])');
    assert.equal(hostOf(src, r, '$2'), '${sql.identifier(["users"])}');
  });

  it('postgres.js sql(…) helper calls are unknown', () => {
    const src = "sql`INSERT INTO users ${sql(user, 'name', 'age')} RETURNING ${sql('id')}`";
    const r = only(src);
    assert.equal(r.text, 'INSERT INTO users $1 RETURNING $2');
    assert.deepEqual(r.params.map((p) => p.kind), ['unknown', 'unknown']);
    assertMaps(src, r, 'users');
  });

  it('Kysely sql.val is a value, sql.ref and sql.lit are unknown', () => {
    const r = only('sql`SELECT ${sql.ref("u.id")} FROM users u WHERE u.a = ${sql.val(a)} AND b = ${sql.lit(1)}`');
    assert.deepEqual(r.params.map((p) => p.kind), ['unknown', 'value', 'unknown']);
  });

  it('@vercel/postgres sql`…`', () => {
    const src = "import { sql } from '@vercel/postgres';\nconst { rows } = await sql`SELECT * FROM users WHERE email = ${email};`;";
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE email = $1;');
    assertMaps(src, r, 'users');
  });

  it('Drizzle sql`…` with sql.raw unknown and sql.placeholder a value', () => {
    const src = 'await db.execute(sql`SELECT count(*) FROM users WHERE age > ${sql.placeholder("age")} ORDER BY ${sql.raw(col)}`);';
    const r = only(src);
    assert.equal(r.text, 'SELECT count(*) FROM users WHERE age > $1 ORDER BY $2');
    assert.deepEqual(r.params.map((p) => p.kind), ['value', 'unknown']);
    assertMaps(src, r, 'users');
  });

  it('Kysely sql<T>`…`', () => {
    const src = 'const res = await sql<Person>`select first_name from users where id = ${id}`.execute(db);';
    const r = only(src);
    assert.equal(r.text, 'select first_name from users where id = $1');
    assertMaps(src, r, 'users');
  });

  it('Prisma.sql`…` with Prisma.join, Prisma.raw and Prisma.empty unknown', () => {
    const src =
      'const q = Prisma.sql`SELECT * FROM users WHERE id IN (${Prisma.join(ids)}) ${Prisma.raw("")} ${Prisma.empty} AND n = ${n}`;';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE id IN ($1) $2 $3 AND n = $4');
    assert.deepEqual(r.params.map((p) => p.kind), ['unknown', 'unknown', 'unknown', 'value']);
    assert.match(r.origin ?? '', /Prisma\.sql`…`.*Prisma/);
    assertMaps(src, r, 'users');
  });

  it('prisma.$queryRaw`…` on any receiver, with type arguments', () => {
    for (const receiver of ['prisma', 'tx', 'this.prisma']) {
      const src = `const u = await ${receiver}.$queryRaw<User[]>\`SELECT * FROM users WHERE id = \${id}\`;`;
      const r = only(src);
      assert.equal(r.text, 'SELECT * FROM users WHERE id = $1');
      assert.match(r.origin ?? '', new RegExp(`^${receiver.replace('.', '\\.')}\\.\\$queryRaw\``));
      assertMaps(src, r, 'users');
    }
  });

  it('prisma.$executeRaw`…`', () => {
    const src = 'await tx.$executeRaw`UPDATE users SET name = ${name} WHERE id = ${id}`;';
    const r = only(src);
    assert.equal(r.text, 'UPDATE users SET name = $1 WHERE id = $2');
    assert.equal(hostOf(src, r, '$2'), '${id}');
    assertMaps(src, r, 'users');
  });

  it('pg pool.query("…", [values]) keeps its $n placeholders', () => {
    const src = "const res = await pool.query('SELECT * FROM users WHERE id = $1', [id]);";
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE id = $1');
    assert.deepEqual(r.params, []);
    assert.equal(r.origin, 'pool.query(…) call');
    assertMaps(src, r, 'users');
    assertMaps(src, r, '$1');
  });

  it('pg client.query({ text: "…" }) config object', () => {
    const src = 'await client.query({ text: "SELECT * FROM users WHERE id = $1", values: [id] });';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE id = $1');
    assertMaps(src, r, 'users');
  });

  it('double-quoted strings with escapes are cooked', () => {
    const src = 'this.pool.query("SELECT \\"name\\"\\n  FROM users\\tWHERE x = \'\\u00e9\'");';
    const r = only(src);
    assert.equal(r.text, 'SELECT "name"\n  FROM users\tWHERE x = \'é\'');
    assertMaps(src, r, 'users');
    assert.equal(hostOf(src, r, '"name"'), '\\"name\\"');
    assert.equal(hostOf(src, r, 'é'), '\\u00e9');
  });

  it('mysql-style connection.query and TypeORM dataSource.query / manager.query', () => {
    for (const callee of ['connection.query', 'dataSource.query', 'this.manager.query', 'queryRunner.query']) {
      const src = `await ${callee}("SELECT id FROM users WHERE name = $1", [n]);`;
      const r = only(src);
      assert.equal(r.origin, `${callee}(…) call`);
      assertMaps(src, r, 'users');
    }
  });

  it('prisma.$queryRawUnsafe and $executeRawUnsafe', () => {
    const src = [
      "await prisma.$queryRawUnsafe('SELECT * FROM users WHERE id = $1', id);",
      "await tx.$executeRawUnsafe('DELETE FROM orders WHERE id = $1', id);",
    ].join('\n');
    const [a, b] = regions(src);
    assert.equal(a.text, 'SELECT * FROM users WHERE id = $1');
    assert.equal(b.text, 'DELETE FROM orders WHERE id = $1');
    assertMaps(src, a, 'users');
    assertMaps(src, b, 'orders');
  });

  it('knex.raw and .raw on knex-like receivers, not on others', () => {
    const src = [
      "knex.raw('SELECT * FROM users WHERE id = ? AND name = ?? AND tags \\\\? \\'x\\'', [1, 'n']);",
      "trx.raw('SELECT * FROM orders');",
      "this.knex.raw('SELECT * FROM items');",
      "image.raw('SELECT * FROM nope');",
    ].join('\n');
    const found = regions(src);
    assert.deepEqual(found.map((r) => r.text), [
      "SELECT * FROM users WHERE id = $1 AND name = $2 AND tags ? 'x'",
      'SELECT * FROM orders',
      'SELECT * FROM items',
    ]);
    // knex's `?` placeholders become `$n` (PostgreSQL reads `?` as an operator); `??` is an identifier binding,
    // unknown statically; `\\?` is knex's escape for a literal `?`. Each maps back to its host characters.
    const knex = found[0];
    assert.deepEqual(knex.params.map((p) => [p.index, p.source, p.kind]), [[1, '?', 'value'], [2, '??', 'unknown']]);
    const at = (needle: string): string => {
      const i = knex.text.indexOf(needle);
      return src.slice(knex.toHost(i), knex.toHost(i + needle.length));
    };
    assert.equal(at('$1'), '?');
    assert.equal(at('$2'), '??');
    assert.equal(at("? 'x'"), "\\\\? \\'x\\'");
    assertMaps(src, found[1], 'orders');
  });

  it('sequelize.query', () => {
    const src = "const [rows] = await sequelize.query('SELECT * FROM users', { type: QueryTypes.SELECT });";
    const r = only(src);
    assert.equal(r.origin, 'sequelize.query(…) call');
    assertMaps(src, r, 'users');
  });

  it('postgres.js sql.unsafe("…") call', () => {
    const src = "await sql.unsafe('SELECT * FROM users WHERE id = $1', [id]);";
    const r = only(src);
    assert.equal(r.origin, 'sql.unsafe(…) call');
    assertMaps(src, r, 'users');
  });

  it('.query with a template literal: interpolations are string concatenation, so unknown', () => {
    const src = 'await pool.query(`SELECT * FROM ${table} WHERE id = $1 AND ${col} = $2`, [id, v]);';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM $3 WHERE id = $1 AND $4 = $2');
    assert.deepEqual(r.params, [
      { index: 3, source: 'table', kind: 'unknown' },
      { index: 4, source: 'col', kind: 'unknown' },
    ]);
    assert.equal(hostOf(src, r, '$3'), '${table}');
    assert.equal(hostOf(src, r, '$2'), '$2');
  });

  it('/* sql */ marked literals, any case and spacing', () => {
    const src = [
      'const a = /* sql */ `SELECT * FROM users`;',
      'const b = /*sql*/ "SELECT 1 FROM orders";',
      'const c = /* SQL */',
      "  'update items set x = 1';",
      'const d = /* sql */ `DELETE FROM carts WHERE ${cond}`;',
    ].join('\n');
    const found = regions(src);
    assert.deepEqual(found.map((r) => r.text), [
      'SELECT * FROM users',
      'SELECT 1 FROM orders',
      'update items set x = 1',
      'DELETE FROM carts WHERE $1',
    ]);
    assert.ok(found.every((r) => r.origin === '/* sql */ literal'));
    assertMaps(src, found[0], 'users');
    assertMaps(src, found[2], 'items');
    assert.deepEqual(found[3].params, [{ index: 1, source: 'cond', kind: 'unknown' }]);
  });

  it('a /* sql */ literal does not have to start like SQL', () => {
    const r = only('const where = /* sql */ "  id = $1";');
    assert.equal(r.text, '  id = $1');
  });

  it('a /* sql */ marker only counts right before the literal', () => {
    assert.equal(regions('const a = /* sql */ // note\n "SELECT 1";').length, 0);
    assert.equal(regions('/* sql */ const a = "SELECT 1";').length, 0);
  });

  it('options.tags adds tags matched on the tag text', () => {
    const src = 'const q = db.sql`SELECT * FROM users`;';
    assert.equal(regions(src).length, 0);
    const r = only(src, { tags: ['db.sql'] });
    assert.equal(r.text, 'SELECT * FROM users');
    assert.match(r.origin ?? '', /^db\.sql`…`/);
    assertMaps(src, r, 'users');
    // An extra tag is also a fragment tag inside itself.
    const nested = only('db.sql`SELECT * FROM users ${db.sql`WHERE id = ${id}`}`', { tags: ['db.sql'] });
    assert.equal(nested.text, 'SELECT * FROM users WHERE id = $1');
  });

  it('options.functions adds callees by last name or full text, still requiring SQL', () => {
    const src = "db.execute('SELECT * FROM users'); db.execute('not sql'); run(\"DELETE FROM orders\");";
    assert.equal(regions(src).length, 0);
    assert.deepEqual(regions(src, { functions: ['execute'] }).map((r) => r.text), ['SELECT * FROM users']);
    assert.deepEqual(regions(src, { functions: ['db.execute', 'run'] }).map((r) => r.text), [
      'SELECT * FROM users',
      'DELETE FROM orders',
    ]);
  });

  it('SQL start check skips whitespace, comments and parentheses', () => {
    const src = "pool.query(`\n  -- list\n  /* a /* nested */ b */ (select 1) union (select 2)`);";
    assert.equal(regions(src).length, 1);
    assert.equal(regions("pool.query('selective')").length, 0);
  });
});

describe('embedded SQL extraction: language ids and files', () => {
  const src = 'const q = sql`SELECT 1`;';
  for (const id of ['typescript', 'typescriptreact', 'javascript', 'javascriptreact', '.ts', 'tsx', 'a/b.mjs', 'x.cjs']) {
    it(`accepts ${id}`, () => assert.equal(regions(src, undefined, id).length, 1));
  }
  it('rejects other languages', () => {
    assert.equal(regions(src, undefined, 'sql').length, 0);
    assert.equal(regions(src, undefined, 'python').length, 0);
  });
  it('parses JSX in .tsx and .jsx', () => {
    const jsx = 'const el = <div title={`x`}>{rows.length}</div>;\nconst q = sql`SELECT * FROM users`;';
    assert.equal(only(jsx, undefined, 'typescriptreact').text, 'SELECT * FROM users');
    assert.equal(only(jsx, undefined, 'javascriptreact').text, 'SELECT * FROM users');
  });
  it('parses angle-bracket casts in .ts', () => {
    assert.equal(only('const q = <string>sql`SELECT * FROM users`;').text, 'SELECT * FROM users');
  });
});

describe('embedded SQL extraction: not SQL', () => {
  const none = (name: string, src: string): void => {
    it(name, () => assert.deepEqual(regions(src).map((r) => r.text), []));
  };
  none('cache.query("user:1")', "cache.query('user:1'); redis.query(`user:${id}`); store.query(\"\");");
  none('sql tags inside comments', '// sql`select 1`\n/* sql`select 2` */\n/** SQL`select 3` */ const x = 1;');
  none('regex literals containing backticks', 'const re = /`sql`select/g;\nconst t = re.test(s) ? /\\`/ : /`/;\nconst u = `plain`;');
  none('strings in unrelated calls', "console.log('SELECT * FROM users'); fetch(`SELECT ${x}`); query('SELECT 1');");
  none('escaped backticks in plain templates', 'const s = `a \\` sql\\`select 1\\` b`;');
  none('nested templates inside a non-SQL template', 'const s = `x ${cond ? `a` : `b ${`c`}`} y`;');
  none('other tags', 'const a = String.raw`SELECT 1`; const b = html`<p>${sql}</p>`; const c = gql`query { a }`;');
  none('sql as an ordinary identifier', 'const sql = "SELECT 1"; run(sql); const x = sql + `SELECT 2`;');
  none('unterminated template', 'const q = sql`SELECT * FROM users');
  none('unterminated string', "pool.query('SELECT * FROM users");
});

describe('embedded SQL extraction: nesting', () => {
  it('inlines a nested sql fragment, numbering parameters in textual order', () => {
    const src = 'sql`SELECT * FROM users WHERE a = ${a} ${sql`AND b = ${b} AND t IN (SELECT 1 FROM orders)`} AND c = ${c}`';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE a = $1 AND b = $2 AND t IN (SELECT 1 FROM orders) AND c = $3');
    assert.deepEqual(r.params.map((p) => p.source), ['a', 'b', 'c']);
    assertMaps(src, r, 'orders');
    assert.equal(hostOf(src, r, '$2'), '${b}');
    assert.equal(hostOf(src, r, '$3'), '${c}');
  });

  it('inlines fragments nested two deep and wrapped in parentheses', () => {
    const src = 'sql`SELECT ${(sql`a, ${sql`b = ${x}`}`)} FROM users`';
    const r = only(src);
    assert.equal(r.text, 'SELECT a, b = $1 FROM users');
    assertMaps(src, r, 'users');
    assertMaps(src, r, 'b');
  });

  it('an interpolation holding a template literal with ${} is one value', () => {
    const src = 'sql`SELECT * FROM users WHERE name = ${`${first} ${last}`} AND x = ${y}`';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE name = $1 AND x = $2');
    assert.deepEqual(r.params, [
      { index: 1, source: '`${first} ${last}`', kind: 'value' },
      { index: 2, source: 'y', kind: 'value' },
    ]);
    assert.equal(hostOf(src, r, '$1'), '${`${first} ${last}`}');
  });

  it('conditional and mapped fragments are unknown and not regions of their own', () => {
    const src =
      'sql`SELECT * FROM users WHERE true ${admin ? sql`AND role = ${r}` : sql``} AND id IN ${ids.map((i) => sql`(${i})`)}`';
    const r = only(src);
    assert.equal(r.text, 'SELECT * FROM users WHERE true $1 AND id IN $2');
    assert.deepEqual(r.params.map((p) => p.kind), ['unknown', 'unknown']);
  });

  it('a variable holding a fragment is unknown; an awaited query result is a value', () => {
    const src = [
      'const where = cond ? sql`WHERE a = 1` : sql``;',
      'const id = (await sql`SELECT id FROM users LIMIT 1`)[0].id;',
      'const rows = await sql`SELECT * FROM orders ${where} AND user_id = ${id}`;',
    ].join('\n');
    const found = regions(src);
    assert.equal(found.length, 4);
    const q = found[3];
    assert.equal(q.text, 'SELECT * FROM orders $1 AND user_id = $2');
    assert.deepEqual(q.params.map((p) => p.kind), ['unknown', 'value']);
  });

  it('a query call inside an interpolation is still found', () => {
    const src = "sql`SELECT * FROM users WHERE id = ${await db.query('SELECT max(id) FROM orders')}`";
    const found = regions(src);
    assert.deepEqual(found.map((r) => r.text), ['SELECT * FROM users WHERE id = $1', 'SELECT max(id) FROM orders']);
    assert.equal(found[0].params[0].kind, 'value');
    assertMaps(src, found[1], 'orders');
  });

  it('regions come in document order', () => {
    const src = "pool.query('SELECT 1'); const q = sql`SELECT 2`; const r = /* sql */ 'SELECT 3';";
    assert.deepEqual(regions(src).map((r) => r.text), ['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });
});

describe('embedded SQL extraction: offset mapping', () => {
  it('ends map to just inside the delimiters', () => {
    const src = 'const q = sql`SELECT 1`;';
    const r = only(src);
    assert.equal(r.toHost(0), src.indexOf('`') + 1);
    assert.equal(r.toHost(r.text.length), src.lastIndexOf('`'));
    const empty = only('f(/* sql */ "")');
    assert.equal(empty.text, '');
    assert.equal(empty.toHost(0), 'f(/* sql */ "")'.lastIndexOf('"'));
  });

  it('an escape maps to its start, the offset after it to its end', () => {
    const src = 'sql`SELECT \'\\n\', \'\\u{1F600}\', \'\\`\', \'\\\\\' FROM users`';
    const r = only(src);
    assert.equal(r.text, "SELECT '\n', '😀', '`', '\\' FROM users");
    assert.equal(hostOf(src, r, '\n'), '\\n');
    assert.equal(hostOf(src, r, '😀'), '\\u{1F600}');
    assert.equal(hostOf(src, r, '`'), '\\`');
    assert.equal(hostOf(src, r, '\\'), '\\\\');
    assertMaps(src, r, 'users');
  });

  it('line continuations vanish and CRLF becomes LF', () => {
    const src = 'sql`SELECT a, \\\nb FROM\r\nusers`';
    const r = only(src);
    assert.equal(r.text, 'SELECT a, b FROM\nusers');
    assertMaps(src, r, 'users');
    assert.equal(hostOf(src, r, '\n'), '\r\n');
  });

  it('placeholder offsets map into the ${…} span', () => {
    const src = 'sql`SELECT ${someLongName} FROM users`';
    const r = only(src);
    const a = r.text.indexOf('$1');
    const dollar = src.indexOf('${');
    const close = src.indexOf('}') + 1;
    assert.equal(r.toHost(a), dollar);
    assert.equal(r.toHost(a + 1), dollar + 1);
    assert.equal(r.toHost(a + 2), close);
  });

  it('out-of-range offsets are clamped', () => {
    const src = 'sql`SELECT 1`';
    const r = only(src);
    assert.equal(r.toHost(-5), r.toHost(0));
    assert.equal(r.toHost(999), r.toHost(r.text.length));
    assert.equal(r.toHost(Number.NaN), r.toHost(0));
  });
});

describe('embedded SQL extraction: robustness', () => {
  it('never throws on odd input', () => {
    for (const input of ['', '\0', '\uD800`', 'sql`${', 'sql`${sql`', '`'.repeat(1000), '('.repeat(5000), 'sql`\\u{110000}`']) {
      assert.doesNotThrow(() => regions(input));
    }
    assert.deepEqual(regions(undefined as unknown as string), []);
    assert.deepEqual(regions('sql`SELECT 1`', { tags: 'x' as unknown as string[] }).length, 1);
  });

  it('handles very long concatenation chains without recursion limits', () => {
    const src = `const s = ${Array.from({ length: 20000 }, (_, i) => `'p${i}'`).join(' + ')};\npool.query('SELECT 1');`;
    assert.equal(regions(src).length, 1);
  });
});
