import * as assert from 'node:assert/strict';
import { nodeSpan, queryBlocks, tableNameSpan } from '../../server/src/core/ast';
import { loadParser, parseStatement, scanStatement, type AstNode } from '../../server/src/core/parse';

before(loadParser);

function whereSides(sql: string): string[] {
  const p = parseStatement(sql);
  assert.ok(p.ok, 'parses');
  const tokens = scanStatement(sql, p.conv);
  const where = queryBlocks(p.stmt)[0].where;
  const args: AstNode[] = where.BoolExpr ? where.BoolExpr.args : [where];
  return args.map((a) => {
    const span = nodeSpan(a.A_Expr.lexpr, tokens, p.conv);
    assert.ok(span);
    return sql.slice(span.start, span.end);
  });
}

describe('parser wrapper', () => {
  it('classifies statements and counts parameters', () => {
    const p = parseStatement('select * from t where a = $1 and b = $3::int');
    assert.ok(p.ok);
    assert.equal(p.kind, 'select');
    assert.equal(p.paramCount, 3);
    const kinds = ['insert into t values (1)', 'update t set a = 1', 'delete from t', 'values (1)', 'create table x (a int)', 'select 1 into y'].map(
      (s) => {
        const r = parseStatement(s);
        return r.ok ? r.kind : 'error';
      },
    );
    assert.deepEqual(kinds, ['insert', 'update', 'delete', 'values', 'utility', 'utility']);
  });

  it('reports syntax errors as data with a UTF-16 offset, also after non-ASCII text', () => {
    const sql = "select '😀é' + from t";
    const p = parseStatement(sql);
    assert.ok(!p.ok);
    assert.match(p.message, /syntax error at or near "from"/);
    assert.equal(p.offset, sql.indexOf('from'));
  });

  it('never throws on garbage', () => {
    for (const s of ['\u0000', "'", '$$', ')))', 'select (((((((', '\ud800']) {
      const p = parseStatement(s);
      assert.equal(typeof p.ok, 'boolean');
    }
  });

  it('derives expression spans from token ends: calls, casts, qualified names, CAST(), no-arg calls', () => {
    assert.deepEqual(
      whereSides(
        "select 1 from customers c where lower(c.email) = 'x' and created_at::date = '2024-01-01' and CAST(total AS int) = 1 and date_trunc('day', created_at) = now() and coalesce(note, '') = ''",
      ),
      ['lower(c.email)', 'created_at::date', 'CAST(total AS int)', "date_trunc('day', created_at)", "coalesce(note, '')"],
    );
  });

  it('maps spans correctly after non-ASCII characters', () => {
    const sql = "select 'Ünïcødé 😀' from customers where lower(email) = 'é'";
    assert.deepEqual(whereSides(sql), ['lower(email)']);
  });

  it('finds tables with aliases, schemas and join conditions, and skips CTE names', () => {
    const sql = 'with recent as (select * from orders) select * from public.customers c join recent r on r.customer_id = c.id';
    const p = parseStatement(sql);
    assert.ok(p.ok);
    const tokens = scanStatement(sql, p.conv);
    const blocks = queryBlocks(p.stmt);
    const tables = blocks.flatMap((b) => b.tables.map((t) => `${t.schema ?? ''}.${t.relname} as ${t.refName}`));
    assert.deepEqual(tables.sort(), ['.orders as orders', 'public.customers as c']);
    const outer = blocks.find((b) => b.tables.some((t) => t.relname === 'customers'));
    assert.ok(outer);
    assert.equal(outer.joinQuals.length, 1);
    const span = tableNameSpan(outer.tables[0], tokens, p.conv);
    assert.equal(sql.slice(span.start, span.end), 'public.customers');
  });
});
