// Fuzzing the pure core: the statement splitter, the parser wrapper, the host-language extractor and the
// position mapping, fed random, mutated and pathological text. Properties: nothing throws, every span and
// range lies inside its text, and what comes back is well-formed.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_SETTINGS, type SqlInsightSettings } from '../../common/protocol';
import { parseDocument, type ParsedDocument } from '../../server/src/core/document';
import { extractSqlRegions } from '../../server/src/core/embedded/extract';
import { loadParser, parseStatement } from '../../server/src/core/parse';
import { LineIndex, OffsetConverter } from '../../server/src/core/positions';
import { createSqlInsightService } from '../../server/src/core/service';
import { splitStatements } from '../../server/src/core/split';
import type { Range } from '../../server/src/core/types';
import { anySql, casesRun, check, checkAsync, mutatedTs, rawText, RUNS, SEED } from './inputs';

const service = createSqlInsightService();

/** Line lengths as LSP counts them (\n, \r\n and \r end lines). */
function lineLengths(text: string): number[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.length);
}

export function assertRangeInside(text: string, range: Range, what: string, lengths = lineLengths(text)): void {
  const inside = (p: { line: number; character: number }): boolean =>
    Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.line < lengths.length && p.character >= 0 && p.character <= lengths[p.line];
  assert.ok(inside(range.start) && inside(range.end), `${what}: ${JSON.stringify(range)} outside the document`);
  const before = range.start.line < range.end.line || (range.start.line === range.end.line && range.start.character <= range.end.character);
  assert.ok(before, `${what}: ${JSON.stringify(range)} ends before it starts`);
}

async function analyse(text: string, languageId = 'sql', settings: SqlInsightSettings = DEFAULT_SETTINGS) {
  const parsed = await service.parse({ uri: 'file:///fuzz.sql', languageId, version: 1, getText: () => text }, settings);
  return service.doValidation(parsed, undefined, settings);
}

function assertDocumentSane(doc: ParsedDocument, diagnostics: { range: Range; code: string }[]): void {
  const lengths = lineLengths(doc.text);
  for (const d of diagnostics) assertRangeInside(doc.text, d.range, d.code, lengths);
  for (const s of doc.statements) {
    const a = s.toHost(0);
    const b = s.toHost(s.text.length);
    assert.ok(a >= 0 && a <= b && b <= doc.text.length, `statement ${s.index} maps to [${a}, ${b})`);
  }
}

describe('fuzz: core', function () {
  this.timeout(120_000);

  before(async () => {
    await loadParser();
    console.log(`      fuzz seed ${SEED}, ${RUNS} cases per property (FUZZ_SEED / FUZZ_RUNS to change)`);
  });
  after(() => {
    const total = [...casesRun.values()].reduce((a, b) => a + b, 0);
    console.log(`      fuzz cases run so far: ${total} (${[...casesRun].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  });

  it('splitter: ordered, disjoint, non-empty spans inside the text', () => {
    check('split', anySql, (text) => {
      let prevEnd = 0;
      for (const s of splitStatements(text)) {
        assert.ok(s.start >= prevEnd && s.start < s.end && s.end <= text.length, JSON.stringify(s));
        assert.doesNotMatch(text[s.start], /[ \t\n\r\f\v]/, "a span starts with what PostgreSQL calls whitespace");
        prevEnd = s.end;
      }
    });
  });

  it('parser wrapper: never throws; error offsets inside the statement; the parser keeps working', () => {
    check('parse', anySql, (text) => {
      const r = parseStatement(text);
      if (!r.ok) assert.ok(r.offset >= 0 && r.offset <= text.length, `${r.offset} / ${text.length}`);
      else assert.ok(r.paramCount >= 0);
    });
    assert.equal(parseStatement('SELECT 1').ok, true);
  });

  it('refuses NUL inside a statement instead of parsing a truncated copy of it', () => {
    const r = parseStatement("SELECT 1 \0; DROP TABLE t");
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.offset, 9);
  });

  it('document pipeline (.sql): every diagnostic and hover range is inside the document', async () => {
    await checkAsync('sql-document', fc.tuple(anySql, fc.nat(), fc.nat()), async ([text, line, character]) => {
      const analysis = await analyse(text);
      assertDocumentSane(analysis.document, analysis.diagnostics);
      const hover = service.doHover(analysis, { line: line % 50, character: character % 200 });
      if (hover?.range) assertRangeInside(text, hover.range, 'hover');
    });
  });

  it('extractor and region mapping (TS/JS): regions map inside the host, diagnostics stay inside', async () => {
    const host = fc.oneof({ weight: 3, arbitrary: mutatedTs }, { weight: 1, arbitrary: rawText() });
    await checkAsync('ts-document', fc.tuple(host, fc.constantFrom('typescript', 'typescriptreact', 'javascript')), async ([src, lang]) => {
      const regions = extractSqlRegions(src, lang);
      for (const r of regions) {
        let prev = 0;
        for (let i = 0; i <= r.text.length; i++) {
          const h = r.toHost(i);
          assert.ok(h >= prev && h <= src.length, `toHost(${i}) = ${h}`);
          prev = h;
        }
      }
      const doc = parseDocument('file:///fuzz.ts', 1, src, regions);
      const analysis = await service.doValidation(doc, undefined, DEFAULT_SETTINGS);
      assertDocumentSane(doc, analysis.diagnostics);
    });
  });

  it('position mapping: every conversion lands inside the text, whatever offset it is given', () => {
    const offset = fc.oneof(fc.integer({ min: -5, max: 400 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -1e9));
    check('positions', fc.tuple(rawText(200), fc.array(offset, { maxLength: 8 })), ([text, offsets]) => {
      const conv = new OffsetConverter(text);
      const lines = new LineIndex(text);
      for (const o of offsets) {
        for (const v of [conv.fromUtf8(o), conv.fromCodePoints(o)]) assert.ok(v >= 0 && v <= text.length, `${o} → ${v}`);
        const b = conv.toUtf8(o);
        assert.ok(b >= 0 && b <= Buffer.byteLength(text.replace(/[\uD800-\uDFFF]/g, '\uFFFD')) + 0, `${o} → ${b} bytes`);
        const p = lines.positionAt(o);
        const back = lines.offsetAt(p);
        assert.ok(back >= 0 && back <= text.length);
        assertRangeInside(text, { start: p, end: p }, 'positionAt');
      }
    });
  });

  describe('pathological inputs, once each', () => {
    it('10,000 nested parentheses: a syntax error, and the parser still works afterwards', async () => {
      const text = `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)};\nSELECT 2;\nSELEC 3;`;
      const analysis = await analyse(text);
      assertDocumentSane(analysis.document, analysis.diagnostics);
      assert.deepEqual(
        analysis.diagnostics.map((d) => d.code),
        ['syntax-error', 'syntax-error'],
      );
      assert.equal(parseStatement('SELECT 1').ok, true);
    });

    it('parses an expression the parser accepts at any depth (no recursion in the wrapper)', () => {
      const deep = `SELECT ${Array.from({ length: 5000 }, (_, i) => `$${(i % 3) + 1}`).join(' + ')} FROM t`;
      const r = parseStatement(deep);
      assert.equal(r.ok, true, r.ok ? '' : r.message);
      assert.equal(r.ok && r.paramCount, 3);
    });

    it('a 10 MB file: one Information diagnostic, no parsing', async () => {
      const text = `SELECT '${'x'.repeat(10 * 1024 * 1024)}';\n`;
      const started = Date.now();
      const analysis = await analyse(text);
      assert.equal(analysis.document.statements.length, 0);
      assert.equal(analysis.diagnostics.length, 1);
      assert.equal(analysis.diagnostics[0].severity, 3);
      assert.match(analysis.diagnostics[0].message, /^File too large for plan analysis: 10,485,771 characters/);
      assertDocumentSane(analysis.document, analysis.diagnostics);
      assert.ok(Date.now() - started < 5000);
    });

    it('a statement above maxStatementChars is reported, not parsed; its neighbours are', async () => {
      const big = `SELECT '${'y'.repeat(200_000)}'`;
      const analysis = await analyse(`SELECT 1;\n${big};\nSELEC 2;`);
      assert.deepEqual(
        analysis.diagnostics.map((d) => [d.code, d.severity, d.range.start.line]),
        [
          ['too-large', 3, 1],
          ['syntax-error', 1, 2],
        ],
      );
      assert.match(analysis.diagnostics[0].message, /^Statement too large for plan analysis: 200,009 characters/);
    });

    it('100,000 statements (limit raised): all split and parsed, errors in the right places', async () => {
      const stmts = Array.from({ length: 100_000 }, (_, i) => (i % 10_000 === 9_999 ? `SELEC ${i}` : `SELECT ${i}`));
      const text = stmts.join(';\n') + ';\n';
      const settings = { ...DEFAULT_SETTINGS, limits: { ...DEFAULT_SETTINGS.limits, maxDocumentChars: 10_000_000 } };
      const analysis = await analyse(text, 'sql', settings);
      assert.equal(analysis.document.statements.length, 100_000);
      assert.deepEqual(
        analysis.diagnostics.map((d) => d.range.start.line),
        Array.from({ length: 10 }, (_, k) => k * 10_000 + 9_999),
      );
      assertDocumentSane(analysis.document, analysis.diagnostics);
    });
  });
});
