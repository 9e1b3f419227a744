import * as assert from 'node:assert/strict';
import { LineIndex, OffsetConverter } from '../../server/src/core/positions';

describe('positions', () => {
  it('maps UTF-8 bytes to UTF-16 offsets through 2-, 3- and 4-byte characters', () => {
    const text = "select 'é€😀' as x";
    const conv = new OffsetConverter(text);
    const bytes = Buffer.from(text, 'utf8');
    // For every character boundary, the byte offset of the prefix converts back to the UTF-16 offset.
    for (let i = 0; i <= text.length; i++) {
      if (i > 0 && i < text.length && text.charCodeAt(i) >= 0xdc00 && text.charCodeAt(i) <= 0xdfff) continue;
      const b = Buffer.byteLength(text.slice(0, i), 'utf8');
      assert.equal(conv.fromUtf8(b), i, `byte ${b}`);
      assert.equal(conv.toUtf8(i), b);
    }
    assert.equal(conv.fromUtf8(bytes.length), text.length);
    // A byte inside the emoji maps to the emoji's start.
    const emojiStart = text.indexOf('😀');
    const emojiByte = Buffer.byteLength(text.slice(0, emojiStart), 'utf8');
    assert.equal(conv.fromUtf8(emojiByte + 2), emojiStart);
  });

  it('maps PostgreSQL code-point cursors to UTF-16 offsets', () => {
    const text = "select '😀é' + from t";
    const conv = new OffsetConverter(text);
    const cpOfFrom = [...text.slice(0, text.indexOf('from'))].length;
    assert.equal(conv.fromCodePoints(cpOfFrom), text.indexOf('from'));
  });

  it('is the identity for ASCII text', () => {
    const conv = new OffsetConverter('select 1');
    assert.equal(conv.fromUtf8(5), 5);
    assert.equal(conv.fromCodePoints(5), 5);
  });

  it('converts offsets to positions across \\n, \\r\\n and \\r line ends', () => {
    const text = 'a\nbc\r\nd\re';
    const lines = new LineIndex(text);
    assert.deepEqual(lines.positionAt(0), { line: 0, character: 0 });
    assert.deepEqual(lines.positionAt(2), { line: 1, character: 0 });
    assert.deepEqual(lines.positionAt(4), { line: 1, character: 2 });
    assert.deepEqual(lines.positionAt(6), { line: 2, character: 0 });
    assert.deepEqual(lines.positionAt(8), { line: 3, character: 0 });
    for (let o = 0; o <= text.length; o++) {
      if (text[o - 1] === '\r' && text[o] === '\n') continue; // between \r and \n is not a position
      assert.equal(lines.offsetAt(lines.positionAt(o)), o);
    }
    assert.equal(lines.offsetAt({ line: 99, character: 0 }), text.length);
  });
});
