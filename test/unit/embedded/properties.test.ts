// Property tests for the offset mapping: whatever mix of escapes, non-ASCII text and interpolations a literal
// holds, the host characters between toHost(a) and toHost(b) must cook to exactly text.slice(a, b).
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SqlRegion } from '../../../server/src/core/regions';
import { regions } from './helpers';

const SEED = 20240611;
const RUNS = 300;

/** Cooks raw literal source with the JavaScript engine itself, independently of the code under test. */
function engineCook(raw: string, quote: string): string {
  return new Function(`return ${quote}${raw}${quote};`)() as string;
}

type Piece = { raw: string } | { expr: string };

const sqlChunk = fc.constantFrom('SELECT ', 'id', ', ', ' FROM users', ' WHERE ', '= ', "'x'", '(', ')', ' AND ', ' 42 ', '$', '}', '  ', '\t');
const escapeChunk = fc.constantFrom('\\n', '\\t', '\\\\', '\\u00e9', '\\u{1F600}', '\\$', '\\x41', '\\0', "\\'", '\\"', '\\\n', '\\r');
const nonAscii = fc.constantFrom('é', '😀', 'ß', '中文');
const templateOnly = fc.constantFrom('\\`', '\n', '\r\n', '\r', '`'.replace('`', '\\`'));
const identifier = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,19}$/);
const expression = fc.oneof(
  identifier,
  fc.constantFrom('a + b', 'fn(x, "}")', '`${y}`', "obj['k']", ' spaced ', 'n /* } */'),
);

const templatePieces = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: sqlChunk.map((raw): Piece => ({ raw })) },
    { weight: 3, arbitrary: escapeChunk.map((raw): Piece => ({ raw })) },
    { weight: 1, arbitrary: templateOnly.map((raw): Piece => ({ raw })) },
    { weight: 2, arbitrary: nonAscii.map((raw): Piece => ({ raw })) },
    { weight: 2, arbitrary: expression.map((expr): Piece => ({ expr })) },
  ),
  { maxLength: 30 },
);

const stringPieces = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: sqlChunk },
    { weight: 3, arbitrary: escapeChunk },
    { weight: 2, arbitrary: nonAscii },
  ),
  { maxLength: 30 },
);

/** Text offsets that are character boundaries (not between the halves of a surrogate pair). */
function boundaries(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i <= text.length; i++) {
    const hi = text.charCodeAt(i - 1);
    const lo = text.charCodeAt(i);
    if (!(hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff)) out.push(i);
  }
  return out;
}

function assertMonotonicWithin(src: string, r: SqlRegion): void {
  let prev = r.toHost(0);
  assert.ok(prev >= 0 && prev <= src.length);
  for (let i = 1; i <= r.text.length; i++) {
    const h = r.toHost(i);
    assert.ok(h >= prev, `toHost(${i}) = ${h} < toHost(${i - 1}) = ${prev}`);
    assert.ok(h <= src.length);
    prev = h;
  }
}

/**
 * Checks cook(host[toHost(a), toHost(b))) === text.slice(a, b) for every boundary a and a few b after it, as
 * long as [a, b) does not touch a placeholder.
 */
function assertRoundTrip(src: string, r: SqlRegion, placeholders: Array<[number, number]>, quote: string): void {
  const inside = (a: number, b: number): boolean => placeholders.some(([s, e]) => a < e && b > s && !(a === b));
  const ok = new Set(boundaries(r.text));
  for (const a of ok) {
    for (const b of new Set([a, a + 1, a + 2, a + 5, r.text.length])) {
      if (b > r.text.length || !ok.has(b) || inside(a, b)) continue;
      const host = src.slice(r.toHost(a), r.toHost(b));
      assert.equal(engineCook(host, quote), r.text.slice(a, b), `[${a}, ${b}) ↔ ${JSON.stringify(host)}`);
    }
  }
}

describe('embedded SQL extraction: properties', () => {
  it('tagged templates: text is the cooked template and every piece maps back to its spelling', () => {
    fc.assert(
      fc.property(templatePieces, fc.constantFrom('', 'const é = "😀";\n', '/* `sql` */ '), (pieces, prefix) => {
        const raw = pieces.map((p) => ('raw' in p ? p.raw : `\${${p.expr}}`)).join('');
        const src = `${prefix}const q = sql\`${raw}\`;\n`;
        let expected = '';
        let quasi = '';
        const placeholders: Array<[number, number]> = [];
        for (const p of pieces) {
          if ('raw' in p) {
            quasi += p.raw;
          } else {
            expected += engineCook(quasi, '`');
            quasi = '';
            const ph = `$${placeholders.length + 1}`;
            placeholders.push([expected.length, expected.length + ph.length]);
            expected += ph;
          }
        }
        expected += engineCook(quasi, '`');
        const found = regions(src);
        assert.equal(found.length, 1);
        const r = found[0];
        assert.equal(r.text, expected);
        assert.deepEqual(
          r.params.map((p) => p.source),
          // The source is the expression itself, without surrounding whitespace or comments.
          pieces.flatMap((p) => ('expr' in p ? [p.expr.replace(/\/\*.*\*\//, '').trim()] : [])),
        );
        assert.equal(r.toHost(r.text.length), src.lastIndexOf('`'));
        const exprs = pieces.flatMap((p) => ('expr' in p ? [p.expr] : []));
        for (const [i, [s, e]] of placeholders.entries()) {
          // Followed by a line continuation, the end lands after it (nothing cooked lies in between).
          const host = src.slice(r.toHost(s), r.toHost(e));
          const spelled = `\${${exprs[i]}}`;
          assert.ok(host.startsWith(spelled), host);
          assert.equal(engineCook(host.slice(spelled.length), '`'), '');
        }
        assertMonotonicWithin(src, r);
        assertRoundTrip(src, r, placeholders, '`');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('query strings: text is the cooked string and every piece maps back to its spelling', () => {
    fc.assert(
      fc.property(stringPieces, fc.constantFrom("'", '"'), (pieces, quote) => {
        // A bare quote of the literal's own kind is escaped; the other kind needs nothing.
        const raw = `SELECT ${pieces.map((p) => (p.includes(quote) && !p.startsWith('\\') ? p.replaceAll(quote, `\\${quote}`) : p)).join('')}`;
        const src = `await pool.query(${quote}${raw}${quote}, [1]);`;
        const r = regions(src)[0];
        assert.ok(r);
        assert.equal(r.text, engineCook(raw, quote));
        assertMonotonicWithin(src, r);
        assertRoundTrip(src, r, [], quote);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('never throws on random or mutated input, and what it returns is sane', () => {
    const seeds = [
      'const q = sql`SELECT * FROM users WHERE id = ${id} ${sql`AND x = ${y}`}`;',
      "await pool.query('SELECT $1 \\u00e9', [a]); const re = /`/; // sql`x`",
      'const s = /* sql */ `DELETE FROM t WHERE ${cond ? `a` : `b`}`;\nprisma.$queryRaw`SELECT 1`',
      'const el = <div>{sql`SELECT 1`}</div>;',
    ];
    const junk = fc.constantFrom('`', '${', '}', '\\', '\0', '\uD800', '\uDC00', '"', "'", '/*', '*/', '/', '\n', '\r', 'sql`', '😀', '<', '(');
    const mutation = fc.record({ at: fc.nat(), del: fc.nat({ max: 5 }), insert: fc.array(junk, { maxLength: 3 }) });
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 6 }), fc.boolean())
      .map(([base, ops, truncate]) => {
        let s = base;
        for (const op of ops) {
          const at = op.at % (s.length + 1);
          s = s.slice(0, at) + op.insert.join('') + s.slice(at + op.del);
        }
        return truncate ? s.slice(0, Math.floor(s.length / 2)) : s;
      });
    const input = fc.oneof(mutated, fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 }));
    fc.assert(
      fc.property(input, fc.constantFrom('typescript', 'typescriptreact', 'javascript'), (src, lang) => {
        for (const r of regions(src, { tags: ['db.sql'], functions: ['execute'] }, lang)) {
          assert.equal(typeof r.text, 'string');
          assertMonotonicWithin(src, r);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
