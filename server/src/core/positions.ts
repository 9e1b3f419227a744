// The one module that owns positions: UTF-8 byte offsets (libpg-query), code-point offsets (PostgreSQL error
// cursors), UTF-16 offsets (JavaScript strings, LSP) and line/character positions.
import type { Position, Range } from './types';

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Converts offsets within one string between UTF-8 bytes / code points and UTF-16 code units. */
export class OffsetConverter {
  private readonly ascii: boolean;
  /** utf8Of[i] = UTF-8 byte offset of UTF-16 offset i (only built for non-ASCII text). */
  private utf8Of?: Int32Array;

  constructor(private readonly text: string) {
    this.ascii = ASCII_ONLY.test(text);
  }

  /** UTF-8 byte offset → UTF-16 offset. A byte inside a multi-byte character maps to that character's start. */
  fromUtf8(byteOffset: number): number {
    if (this.ascii) return clamp(byteOffset, 0, this.text.length);
    const table = this.table();
    let lo = 0;
    let hi = this.text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (table[mid] <= byteOffset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** UTF-16 offset → UTF-8 byte offset. */
  toUtf8(offset: number): number {
    if (this.ascii) return clamp(offset, 0, this.text.length);
    return this.table()[clamp(offset, 0, this.text.length)];
  }

  /** Code-point offset (how PostgreSQL counts characters) → UTF-16 offset. */
  fromCodePoints(cp: number): number {
    if (this.ascii) return clamp(cp, 0, this.text.length);
    let i = 0;
    let n = 0;
    while (i < this.text.length && n < cp) {
      const c = this.text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < this.text.length && isLowSurrogate(this.text.charCodeAt(i + 1)) ? 2 : 1;
      n++;
    }
    return i;
  }

  private table(): Int32Array {
    if (this.utf8Of) return this.utf8Of;
    const t = this.text;
    const table = new Int32Array(t.length + 1);
    let bytes = 0;
    for (let i = 0; i < t.length; i++) {
      table[i] = bytes;
      const c = t.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length && isLowSurrogate(t.charCodeAt(i + 1))) {
        // An offset between the surrogates is not a character boundary: it reads as the end of the character.
        table[i + 1] = bytes + 4;
        bytes += 4;
        i++;
      } else bytes += 3; // BMP, or a lone surrogate (encoded as U+FFFD, 3 bytes)
    }
    table[t.length] = bytes;
    this.utf8Of = table;
    return table;
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** UTF-16 offset ↔ line/character for one document. */
export class LineIndex {
  private readonly lineStarts: number[];

  constructor(private readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      } else if (c === 10 /* \n */) starts.push(i + 1);
    }
    this.lineStarts = starts;
  }

  positionAt(offset: number): Position {
    const o = clamp(offset, 0, this.text.length);
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.lineStarts[lo] };
  }

  offsetAt(position: Position): number {
    if (position.line < 0) return 0;
    if (position.line >= this.lineStarts.length) return this.text.length;
    const start = this.lineStarts[position.line];
    const next = position.line + 1 < this.lineStarts.length ? this.lineStarts[position.line + 1] : this.text.length;
    return clamp(start + Math.max(0, position.character), start, next);
  }

  range(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }
}
