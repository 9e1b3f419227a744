import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vsctm from 'vscode-textmate';
import { createRegistry, dump, grammarContributions, ROOT, Token, tokenize, tokenizeWith } from './tokenize';

const generator = require(path.join(ROOT, 'syntaxes', 'generate.js')) as {
  SQL_CONTENT: string;
  buildAll(): Record<string, object>;
  contributions(): unknown[];
  serialise(grammar: object): string;
};

const SQL = 'meta.embedded.block.sql';

/** The `nth` token (0-based) whose text is exactly `text`, optionally on one line. */
function tok(tokens: Token[], text: string, nth = 0, line?: number): Token {
  const found = tokens.filter((t) => t.text === text && (line === undefined || t.line === line));
  const t = found[nth];
  assert.ok(t, `no token #${nth} ${JSON.stringify(text)}${line === undefined ? '' : ` on line ${line}`} in\n${dump(tokens)}`);
  return t;
}

/** The first token inside the `nth` `${` (0-based), optionally counting on one line only. */
function inExpr(tokens: Token[], nth = 0, line?: number): Token {
  return next(tokens, tok(tokens, '${', nth, line));
}

/** The token right after `t`. */
function next(tokens: Token[], t: Token): Token {
  const i = tokens.indexOf(t);
  assert.ok(i >= 0 && i + 1 < tokens.length, 'no token after ' + JSON.stringify(t.text));
  return tokens[i + 1]!;
}

function where(t: Token): string {
  return `${JSON.stringify(t.text)} (line ${t.line}): ${t.scopes.join(' ')}`;
}

function assertScope(t: Token, scope: string): void {
  assert.ok(t.scopes.includes(scope), `expected ${scope} on ${where(t)}`);
}

function assertNoScope(t: Token, scope: string): void {
  assert.ok(!t.scopes.includes(scope), `did not expect ${scope} on ${where(t)}`);
}

/** A SQL keyword coloured by source.sql, inside our embedded-SQL scope. */
function assertSqlKeyword(t: Token, keywordScope = 'keyword.other.DML.sql'): void {
  assertScope(t, SQL);
  assertScope(t, keywordScope);
}

/** Not SQL at all: no scope of ours and nothing from source.sql. */
function assertNotSql(t: Token): void {
  assert.ok(!t.scopes.some((s) => s === SQL || s.endsWith('.sql')), `expected no SQL scope on ${where(t)}`);
}

/** An identifier inside `${…}`: the host's template expression, tokenised as host code. */
function assertHostExpression(t: Token, suffix: string): void {
  assertScope(t, `meta.template.expression.${suffix}`);
  assertScope(t, `meta.embedded.line.${suffix}`);
  assertScope(t, `variable.other.readwrite.${suffix}`);
  const innermost = t.scopes[t.scopes.length - 1]!;
  assert.ok(!innermost.endsWith('.sql'), `innermost scope of ${where(t)} is SQL`);
  assert.ok(!t.scopes.some((s) => s.startsWith('keyword.') && s.endsWith('.sql')), `SQL keyword scope on ${where(t)}`);
}

describe('SQL injection grammars', function () {
  this.timeout(30000);

  describe('manifest', () => {
    it('registers exactly the generated grammars, for every JS/TS flavour', () => {
      assert.deepStrictEqual(grammarContributions(), generator.contributions());
      const injected = new Set(grammarContributions().flatMap((g) => g.injectTo ?? []));
      for (const host of ['source.ts', 'source.tsx', 'source.js', 'source.js.jsx']) {
        assert.ok(injected.has(host), `nothing injected into ${host}`);
      }
      for (const g of grammarContributions()) {
        assert.ok(fs.existsSync(path.join(ROOT, g.path)), `${g.path} missing`);
        assert.strictEqual(g.embeddedLanguages?.[SQL], 'sql', `${g.scopeName} does not map ${SQL} to sql`);
        const grammar = JSON.parse(fs.readFileSync(path.join(ROOT, g.path), 'utf8')) as { scopeName: string; injectionSelector?: string };
        assert.strictEqual(grammar.scopeName, g.scopeName);
        assert.match(grammar.injectionSelector ?? '', /^L:/);
      }
    });

    it('the committed JSON grammars are what syntaxes/generate.js produces', () => {
      for (const [file, grammar] of Object.entries(generator.buildAll())) {
        const committed = fs.readFileSync(path.join(ROOT, 'syntaxes', file), 'utf8');
        assert.strictEqual(committed, generator.serialise(grammar), `${file} is stale: run node syntaxes/generate.js`);
      }
    });
  });

  describe('TypeScript (source.ts)', () => {
    it('sql`…`: SQL from source.sql, ${} as TypeScript, TypeScript again afterwards', async () => {
      const tokens = await tokenize('const r = await sql`SELECT id FROM users WHERE email = ${email}`; const n = 1;', 'source.ts');
      assertScope(tok(tokens, 'sql'), 'entity.name.function.tagged-template.ts');
      assertScope(tok(tokens, '`'), 'punctuation.definition.string.template.begin.ts');
      assertSqlKeyword(tok(tokens, 'SELECT'));
      assertSqlKeyword(tok(tokens, 'FROM'));
      assertSqlKeyword(tok(tokens, 'WHERE'));
      assertScope(tok(tokens, '=', 1), 'keyword.operator.comparison.sql');

      const open = tok(tokens, '${');
      assertScope(open, 'meta.template.expression.ts');
      assertScope(open, 'punctuation.definition.template-expression.begin.ts');
      assertHostExpression(tok(tokens, 'email'), 'ts');
      assert.strictEqual(inExpr(tokens).text, 'email');
      const close = tok(tokens, '}');
      assertScope(close, 'meta.template.expression.ts');
      assertScope(close, 'punctuation.definition.template-expression.end.ts');

      const end = tok(tokens, '`', 1);
      assertScope(end, 'punctuation.definition.string.template.end.ts');
      assertNoScope(end, SQL);
      const semi = next(tokens, end);
      assert.strictEqual(semi.text, ';');
      assertScope(semi, 'punctuation.terminator.statement.ts');
      assertNotSql(semi);
      assertScope(tok(tokens, 'const', 1), 'storage.type.ts');
      assertNotSql(tok(tokens, 'const', 1));
      assertScope(tok(tokens, 'n'), 'variable.other.constant.ts');
    });

    it('SQL`…` (upper-case tag) and multi-line templates', async () => {
      const tokens = await tokenize(['const q = SQL`', '  SELECT *', '  FROM orders', '  WHERE id = ${id}', '`;', 'done();'].join('\n'), 'source.ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 1));
      assertSqlKeyword(tok(tokens, 'FROM', 0, 2));
      assertHostExpression(tok(tokens, 'id', 0, 3), 'ts');
      assertScope(tok(tokens, '`', 0, 4), 'punctuation.definition.string.template.end.ts');
      assertScope(tok(tokens, 'done'), 'entity.name.function.ts');
      assertNotSql(tok(tokens, 'done'));
    });

    it('/* sql */ `…` and its variants', async () => {
      const tokens = await tokenize(
        [
          'const a = /* sql */ `SELECT 1 FROM t WHERE x = ${x}`;',
          'const b = /*sql*/`DELETE FROM t`;',
          'const c = /* SQL */ "UPDATE t SET a = \'x\'";',
          "const d = /* Sql */ 'INSERT INTO t VALUES (1)';",
          'const e = /* sql */',
          '  `SELECT 2`;',
          'const f = 1;',
        ].join('\n'),
        'source.ts',
      );
      const comment = tok(tokens, ' sql ');
      assertScope(comment, 'comment.block.ts');
      assertNotSql(comment);
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 0));
      assertHostExpression(inExpr(tokens, 0, 0), 'ts');
      assertScope(tok(tokens, ';', 0, 0), 'punctuation.terminator.statement.ts');
      assertNotSql(tok(tokens, ';', 0, 0));

      assertSqlKeyword(tok(tokens, 'DELETE', 0, 1));

      assertSqlKeyword(tok(tokens, 'UPDATE', 0, 2));
      assertScope(tok(tokens, 'x', 0, 2), 'string.quoted.single.sql');
      const dquoteEnd = tok(tokens, '"', 1, 2);
      assertScope(dquoteEnd, 'punctuation.definition.string.end.ts');
      assertNoScope(dquoteEnd, SQL);

      assertSqlKeyword(tok(tokens, 'INSERT INTO', 0, 3));
      assertSqlKeyword(tok(tokens, 'VALUES', 0, 3), 'keyword.other.DML.II.sql');

      // The literal may start on the line after the marker.
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 5));
      assertNotSql(tok(tokens, 'f', 0, 6));
      assertScope(tok(tokens, 'f', 0, 6), 'variable.other.constant.ts');
    });

    it('/* sql */ only marks the literal right after it', async () => {
      const tokens = await tokenize('f(/* sql */ x, `SELECT not`); /* nosql */ `SELECT no`;', 'source.ts');
      assertScope(tok(tokens, ' sql '), 'comment.block.ts');
      assertScope(tok(tokens, 'x'), 'variable.other.readwrite.ts');
      assertNotSql(tok(tokens, 'SELECT not'));
      assertNotSql(tok(tokens, 'SELECT no'));
    });

    it('pool.query(`…`): the first template argument is SQL, the rest is code', async () => {
      const tokens = await tokenize('const { rows } = await pool.query(`SELECT name FROM users WHERE id = $1`, [id]); return rows;', 'source.ts');
      assertScope(tok(tokens, 'pool'), 'variable.other.object.ts');
      assertScope(tok(tokens, 'query'), 'entity.name.function.ts');
      assertSqlKeyword(tok(tokens, 'SELECT'));
      assertScope(tok(tokens, '$1'), SQL);
      assertNotSql(tok(tokens, 'id'));
      assertScope(tok(tokens, 'id'), 'variable.other.readwrite.ts');
      const closeParen = tok(tokens, ')');
      assertScope(closeParen, 'meta.brace.round.ts');
      assertNotSql(closeParen);
      assertScope(tok(tokens, 'return'), 'keyword.control.flow.ts');
      assertNotSql(tok(tokens, 'rows', 1));
    });

    it('query(…) with the template on the next line, typed, optional chaining, later templates not SQL', async () => {
      const tokens = await tokenize(
        ['const r = await this.db?.query<Row>(', '  `SELECT a FROM t WHERE b = ${b}`,', '  `not sql`,', ');', 'r.rows;'].join('\n'),
        'source.ts',
      );
      assertScope(tok(tokens, 'Row'), 'entity.name.type.ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 1));
      assertHostExpression(inExpr(tokens, 0, 1), 'ts');
      assertNotSql(tok(tokens, 'not sql', 0, 2));
      assertScope(tok(tokens, 'not sql', 0, 2), 'string.template.ts');
      assertScope(tok(tokens, ')', 0, 3), 'meta.brace.round.ts');
      assertScope(tok(tokens, 'rows', 0, 4), 'variable.other.property.ts');
    });

    it('prisma.$queryRaw`…`, tx.$executeRaw`…`, with and without type arguments', async () => {
      const tokens = await tokenize(
        [
          'const users = await prisma.$queryRaw<User[]>`SELECT * FROM "User" WHERE id = ${id}`;',
          'await tx.$executeRaw`UPDATE "User" SET name = ${name}`;',
          'await this.prisma.$queryRaw`SELECT 1`;',
          'next();',
        ].join('\n'),
        'source.ts',
      );
      assertScope(tok(tokens, 'prisma'), 'variable.other.object.ts');
      assertScope(tok(tokens, '$queryRaw'), 'entity.name.function.tagged-template.ts');
      assertScope(tok(tokens, 'User', 0, 0), 'entity.name.type.ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 0));
      assertScope(tok(tokens, 'User', 1, 0), 'string.quoted.double.sql');
      assertHostExpression(inExpr(tokens, 0, 0), 'ts');
      assertScope(tok(tokens, '$executeRaw'), 'entity.name.function.tagged-template.ts');
      assertSqlKeyword(tok(tokens, 'UPDATE', 0, 1));
      assertHostExpression(inExpr(tokens, 0, 1), 'ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 2));
      assertScope(tok(tokens, 'next', 0, 3), 'entity.name.function.ts');
      assertNotSql(tok(tokens, 'next', 0, 3));
    });

    it('sql<User>`…`, sql.unsafe`…`, sql.type(x)`…`, Prisma.sql`…`', async () => {
      const tokens = await tokenize(
        [
          'const a = sql<User>`SELECT * FROM users WHERE id = ${id}`;',
          'const b = sql.unsafe`DELETE FROM t`;',
          'const c = sql.type(UserRow)`SELECT id FROM users`;',
          'const d = Prisma.sql`SELECT ${x}`;',
          'const e = 2;',
        ].join('\n'),
        'source.ts',
      );
      assertScope(tok(tokens, 'sql', 0, 0), 'entity.name.function.tagged-template.ts');
      assertScope(tok(tokens, 'User', 0, 0), 'entity.name.type.ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 0));
      assertHostExpression(inExpr(tokens, 0, 0), 'ts');
      assertScope(tok(tokens, 'unsafe'), 'entity.name.function.tagged-template.ts');
      assertSqlKeyword(tok(tokens, 'DELETE', 0, 1));
      assertScope(tok(tokens, 'UserRow'), 'variable.other.readwrite.ts');
      assertNotSql(tok(tokens, 'UserRow'));
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 2));
      assertScope(tok(tokens, 'Prisma'), 'variable.other.object.ts');
      assertSqlKeyword(tok(tokens, 'SELECT', 0, 3));
      assertHostExpression(inExpr(tokens, 0, 3), 'ts');
      assertScope(tok(tokens, 'e', 0, 4), 'variable.other.constant.ts');
    });

    it('negatives: untagged or other-tagged templates, cache.query(\'…\'), comments and strings', async () => {
      const tokens = await tokenize(
        [
          'const a = `select this`;',
          "cache.query('user:1');",
          'const h = html`select this`;',
          'const s = mysql`select this`;',
          '// sql`select this`',
          'const t = "sql`select this`";',
          'const u = sqlite.query("select this");',
        ].join('\n'),
        'source.ts',
      );
      for (const t of tokens) assertNotSql(t);
      assertScope(tok(tokens, 'select this', 0, 0), 'string.template.ts');
      assertScope(tok(tokens, 'user:1'), 'string.quoted.single.ts');
      assertScope(tok(tokens, 'query', 0, 1), 'entity.name.function.ts');
    });

    it('an escaped backtick does not end the SQL', async () => {
      const tokens = await tokenize('const q = sql`SELECT \\`weird\\` FROM t WHERE a = ${a}`; after();', 'source.ts');
      const escapes = tokens.filter((t) => t.text === '\\`');
      assert.strictEqual(escapes.length, 2, dump(tokens));
      for (const e of escapes) {
        assertScope(e, SQL);
        assertScope(e, 'constant.character.escape.ts');
      }
      assertScope(tok(tokens, 'weird'), SQL);
      assertSqlKeyword(tok(tokens, 'FROM'));
      assertHostExpression(inExpr(tokens), 'ts');
      assertScope(tok(tokens, 'after'), 'entity.name.function.ts');
      assertNotSql(tok(tokens, 'after'));
    });

    it('${} inside SQL strings and nested sql`…` fragments are code', async () => {
      const tokens = await tokenize(
        "const q = sql`SELECT * FROM t WHERE name = '${name}' ${cond ? sql`AND a = ${a}` : sql``}`; x;",
        'source.ts',
      );
      const name = inExpr(tokens);
      assert.strictEqual(name.text, 'name');
      assertScope(name, 'string.quoted.single.sql');
      assertHostExpression(name, 'ts');
      assertHostExpression(tok(tokens, 'cond'), 'ts');
      assertSqlKeyword(tok(tokens, 'AND'));
      assertHostExpression(inExpr(tokens, 2), 'ts');
      assertScope(tok(tokens, 'x'), 'variable.other.readwrite.ts');
      assertNotSql(tok(tokens, 'x'));
    });

    it('SQL constructs that source.sql lets run on stop at the closing backtick', async () => {
      const tokens = await tokenize(
        [
          "const a = sql`SELECT data #>> '{a,b}', x / 2 FROM t -- comment`; one();",
          "const b = sql`SELECT 'unterminated`; two();",
          'const c = sql`SELECT a[1 /* open comment`; three();',
        ].join('\n'),
        'source.ts',
      );
      assertScope(tok(tokens, '#>>'), 'keyword.operator.sql');
      assertScope(tok(tokens, '/', 0, 0), 'keyword.operator.math.sql');
      assertScope(tok(tokens, ' comment'), 'comment.line.double-dash.sql');
      for (const [fn, line] of [
        ['one', 0],
        ['two', 1],
        ['three', 2],
      ] as const) {
        const t = tok(tokens, fn, 0, line);
        assertScope(t, 'entity.name.function.ts');
        assertNotSql(t);
      }
    });
  });

  describe('other hosts', () => {
    const hosts = [
      { scope: 'source.js', suffix: 'js' },
      { scope: 'source.js.jsx', suffix: 'js.jsx' },
      { scope: 'source.tsx', suffix: 'tsx' },
    ];
    for (const { scope, suffix } of hosts) {
      it(`${scope}: tags, /* sql */, .query(), ${'${}'} as ${suffix}`, async () => {
        const tokens = await tokenize(
          [
            'const r = await sql`SELECT id FROM users WHERE email = ${email}`;',
            'const s = /* sql */ `DELETE FROM t WHERE id = ${id}`;',
            'const { rows } = await client.query(`UPDATE t SET a = 1`);',
            'const p = await prisma.$queryRaw`SELECT 2`;',
            'const plain = `select this`;',
            "cache.query('user:1');",
          ].join('\n'),
          scope,
        );
        assertScope(tok(tokens, 'sql'), `entity.name.function.tagged-template.${suffix}`);
        assertSqlKeyword(tok(tokens, 'SELECT', 0, 0));
        assertHostExpression(inExpr(tokens, 0, 0), suffix);
        assertScope(tok(tokens, ';', 0, 0), `punctuation.terminator.statement.${suffix}`);
        assertNotSql(tok(tokens, ';', 0, 0));
        assertSqlKeyword(tok(tokens, 'DELETE', 0, 1));
        assertHostExpression(inExpr(tokens, 0, 1), suffix);
        assertSqlKeyword(tok(tokens, 'UPDATE', 0, 2));
        assertSqlKeyword(tok(tokens, 'SELECT', 0, 3));
        for (const t of tokens.filter((x) => x.line >= 4)) assertNotSql(t);
      });
    }

    it('Vue <script lang="ts"> (text.html.vue embeds source.ts)', async () => {
      const tokens = await tokenize(
        ['<script setup lang="ts">', 'const rows = await sql`SELECT * FROM t WHERE id = ${id}`;', '</script>'].join('\n'),
        'text.html.vue',
      );
      assertSqlKeyword(tok(tokens, 'SELECT'));
      assertHostExpression(inExpr(tokens), 'ts');
    });
  });

  describe('embeddedLanguages', () => {
    it('SQL text is language sql, ${} and the code around it the host language', async () => {
      // What VS Code does: the host grammar's embeddedLanguages merged with
      // those of every grammar injected into it, language names as ids.
      const ids: Record<string, number> = { typescript: 1, sql: 2 };
      const embedded: vsctm.IEmbeddedLanguagesMap = {};
      for (const g of grammarContributions().filter((c) => c.injectTo?.includes('source.ts'))) {
        for (const [scope, language] of Object.entries(g.embeddedLanguages ?? {})) {
          const id = ids[language];
          assert.ok(id, `unexpected language ${language}`);
          embedded[scope] = id;
        }
      }
      const registry = await createRegistry();
      const grammar = await registry.loadGrammarWithConfiguration('source.ts', ids['typescript']!, { embeddedLanguages: embedded });
      assert.ok(grammar);
      const line = 'const r = await sql`SELECT id FROM users WHERE email = ${email}`; next();';
      const { tokens } = grammar.tokenizeLine2(line, vsctm.INITIAL);
      const languageAt = (offset: number): number => {
        let language = -1;
        for (let i = 0; i < tokens.length; i += 2) {
          if (tokens[i]! > offset) break;
          language = tokens[i + 1]! & 0xff; // MetadataConsts.LANGUAGEID_MASK
        }
        return language;
      };
      assert.strictEqual(languageAt(line.indexOf('SELECT')), ids['sql']);
      assert.strictEqual(languageAt(line.indexOf('users')), ids['sql']);
      assert.strictEqual(languageAt(line.indexOf('email}')), ids['typescript']);
      assert.strictEqual(languageAt(line.indexOf('next')), ids['typescript']);
      // Sanity: the same text tokenised by scopes agrees.
      assertSqlKeyword(tok(tokenizeWith(grammar, line), 'SELECT'));
    });
  });
});
