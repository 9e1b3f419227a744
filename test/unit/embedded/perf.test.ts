// Not a timed assertion: a large generated file must yield every one of its queries (and stay fast enough that
// the whole suite does not notice).
import * as assert from 'node:assert/strict';
import { regions } from './helpers';

/** A 5,000-line TS module with 1,500 queries in the supported forms, among ordinary code and non-SQL strings. */
export function generatedModule(): { src: string; queries: number } {
  const lines: string[] = ["import { sql } from './db';", ''];
  let queries = 0;
  const query = (n: number): string[] => {
    switch (n % 5) {
      case 0:
        return [`  await pool.query('SELECT * FROM users_${n} WHERE id = $1', [id]);`];
      case 1:
        return [`  await sql\`SELECT * FROM orders WHERE user_id = \${id} AND note = 'n${n}'\`;`];
      case 2:
        return [`  await prisma.$queryRaw\`UPDATE items SET name = \${name} WHERE id = \${id}\`;`];
      case 3:
        return [`  const q${n} = /* sql */ \`DELETE FROM carts WHERE id = $1 -- ${n}\`;`, `  await client.query(q${n}, [id]);`];
      default:
        return [`  await knex.raw("INSERT INTO logs (msg) VALUES ('\\u00e9${n}')");`];
    }
  };
  for (let i = 0; lines.length < 4990; i++) {
    lines.push(`export async function handler${i}(id: number, name: string): Promise<unknown> {`);
    lines.push(`  const key = \`user:\${id}:${i}\`; /* sql\`not this\` */ if (await cache.query(key)) return cache.query('hit:${i}');`);
    for (let k = 0; k < 3; k++) {
      if (queries < 1500) {
        lines.push(...query(queries));
        queries++;
      } else {
        lines.push(`  log('SELECT is just a word ${i}', \`\${id}\`);`);
      }
    }
    lines.push('}');
  }
  while (lines.length < 5000) lines.push('');
  return { src: lines.join('\n'), queries };
}

describe('embedded SQL extraction: a large file', () => {
  it('finds all 1,500 queries in a 5,000-line module', () => {
    const { src, queries } = generatedModule();
    assert.equal(src.split('\n').length, 5000);
    assert.equal(queries, 1500);
    const found = regions(src);
    assert.equal(found.length, 1500);
    // And the last one still maps back to where it is written.
    const last = found[found.length - 1];
    const a = last.text.indexOf('VALUES') >= 0 ? last.text.indexOf('(') : 0;
    assert.equal(src[last.toHost(a)], last.text[a]);
  });
});
