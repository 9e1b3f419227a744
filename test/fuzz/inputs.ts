// Shared pieces of the fuzz tests: the seed and budget (printed, overridable), and generators of hostile
// SQL and TypeScript text.
import fc from 'fast-check';

/** Fixed by default so CI is reproducible; FUZZ_SEED / FUZZ_RUNS widen a local run. */
export const SEED = Number(process.env.FUZZ_SEED ?? 7_20_2025);
export const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

/** Cases run so far, per property, for the closing report. */
export const casesRun = new Map<string, number>();

function counted(name: string): () => void {
  return () => void casesRun.set(name, (casesRun.get(name) ?? 0) + 1);
}

/** fc.assert with the suite's seed, counting cases; fast-check names the seed and path on failure. */
export function check<T>(name: string, arb: fc.Arbitrary<T>, predicate: (v: T) => void, runs = RUNS): void {
  const count = counted(name);
  fc.assert(
    fc.property(arb, (v) => {
      count();
      predicate(v);
    }),
    { seed: SEED, numRuns: runs },
  );
}

export async function checkAsync<T>(name: string, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, runs = RUNS): Promise<void> {
  const count = counted(name);
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      count();
      await predicate(v);
    }),
    { seed: SEED, numRuns: runs },
  );
}

const SQL_SEEDS = [
  'SELECT id, name FROM customers WHERE lower(email) = $1 AND created_at > now() - interval \'1 day\';',
  "UPDATE orders SET note = E'it\\'s; done' WHERE id = 1; DELETE FROM t WHERE x = 'a;b';",
  'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3;',
  'SELECT $body$ ; $body$, $$;$$, "we;ird" /* a /* nested ; */ comment */ FROM t -- tail ;\nSELECT 1',
  "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d; SELECT 'é😀' AS x FROM nope;",
  'SELECT a$b, $1, $2::int FROM x WHERE y IN (SELECT z FROM w WHERE q = $3);',
];

/** Fragments that break tokenisers: quotes, comment and dollar-quote openers, NUL, lone surrogates, … */
const JUNK = [
  "'", '"', '$$', '$a$', '$1', '/*', '*/', '--', '\n', '\r', '\r\n', ';', '(', ')', 'E\'', '\\', '\0',
  '\uD800', '\uDC00', '\uDBFF\uDFFF', '😀', 'é', '\u2028', '\uFEFF', 'BEGIN ATOMIC', 'END', 'CASE', ' ', '\t',
];

const junk = fc.constantFrom(...JUNK);
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Any UTF-16 string, lone surrogates and NUL included. */
export const rawText = (maxLength = 300): fc.Arbitrary<string> =>
  fc.array(fc.oneof(anyUnit, junk), { maxLength }).map((a) => a.join(''));

const mutation = fc.record({ at: fc.nat(), del: fc.nat({ max: 8 }), insert: fc.array(junk, { maxLength: 4 }) });

function mutate(base: string, ops: Array<{ at: number; del: number; insert: string[] }>, truncate: boolean): string {
  let s = base;
  for (const op of ops) {
    const at = op.at % (s.length + 1);
    s = s.slice(0, at) + op.insert.join('') + s.slice(at + op.del);
  }
  return truncate ? s.slice(0, Math.floor(s.length / 2)) : s;
}

/** Real SQL with random cuts and insertions: mostly almost-valid, which reaches deeper than noise. */
export const mutatedSql: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.constantFrom(...SQL_SEEDS), { minLength: 1, maxLength: 3 }), fc.array(mutation, { maxLength: 8 }), fc.boolean())
  .map(([bases, ops, truncate]) => mutate(bases.join('\n'), ops, truncate));

/** Balanced or unbalanced nesting of moderate depth. */
export const nestedSql: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 400 }), fc.constantFrom('(', '(SELECT ', 'ARRAY[', 'NOT ', '-'))
  .map(([open, close, opener]) => `SELECT * FROM t WHERE x = ${opener.repeat(open)}1${')'.repeat(close)};`);

export const anySql: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: mutatedSql },
  { weight: 2, arbitrary: rawText() },
  { weight: 1, arbitrary: nestedSql },
);

const TS_SEEDS = [
  'const q = sql`SELECT * FROM users WHERE id = ${id} ${sql`AND x = ${y}`}`;',
  "await pool.query('SELECT $1 \\u00e9', [a]); const re = /`/; // sql`x`",
  'const s = /* sql */ `DELETE FROM t WHERE ${cond ? `a` : `b`}`;\nprisma.$queryRaw`SELECT 1`',
  'const el = <div>{sql`SELECT 1 FROM t WHERE a = ${b}`}</div>;',
  "db.query(\"SELECT * FROM t WHERE a = '\" + x + \"' AND b = 1\");",
];

export const mutatedTs: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.constantFrom(...TS_SEEDS), { minLength: 1, maxLength: 3 }), fc.array(mutation, { maxLength: 8 }), fc.boolean())
  .map(([bases, ops, truncate]) => mutate(bases.join('\n'), ops, truncate));
