// Cooks the raw source of a string or template literal piece (what is between its delimiters) into the value
// the program sees, recording for every produced character where the host spells it. Lenient by design: an
// escape the language would reject is kept as its character so the region stays usable while the user types.
import type { RegionBuilder } from './segments';

const BACKSLASH = 0x5c;
const CR = 0x0d;
const LF = 0x0a;

/** Cooks host[from, to) into `b`. `template` selects template rules (CR and CRLF become LF). */
export function cookInto(b: RegionBuilder, host: string, from: number, to: number, template: boolean): void {
  let run = from;
  let i = from;
  while (i < to) {
    const c = host.charCodeAt(i);
    if (c === BACKSLASH) {
      b.verbatim(host, run, i);
      const next = escapeEnd(host, i, to);
      b.atomic(cookEscape(host, i, next), i, next);
      i = run = next;
    } else if (c === CR && template) {
      b.verbatim(host, run, i);
      const next = i + 1 < to && host.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      b.atomic('\n', i, next);
      i = run = next;
    } else {
      i++;
    }
  }
  b.verbatim(host, run, to);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

/** End (exclusive) of the escape sequence whose backslash is at `at`. */
function escapeEnd(s: string, at: number, to: number): number {
  const j = at + 1;
  if (j >= to) return to;
  const c = s.charCodeAt(j);
  switch (c) {
    case 0x78: // x
      return j + 2 < to && isHex(s.charCodeAt(j + 1)) && isHex(s.charCodeAt(j + 2)) ? j + 3 : j + 1;
    case 0x75: {
      // u
      if (s.charCodeAt(j + 1) === 0x7b) {
        let k = j + 2;
        while (k < to && isHex(s.charCodeAt(k))) k++;
        if (k > j + 2 && k < to && s.charCodeAt(k) === 0x7d && parseInt(s.slice(j + 2, k), 16) <= 0x10ffff) return k + 1;
        return j + 1;
      }
      for (let k = 1; k <= 4; k++) if (j + k >= to || !isHex(s.charCodeAt(j + k))) return j + 1;
      return j + 5;
    }
    case CR:
      return j + 1 < to && s.charCodeAt(j + 1) === LF ? j + 2 : j + 1;
    default: {
      if (isOctal(c)) {
        // Legacy octal: \0 alone is NUL; otherwise up to three digits while the value stays below 256.
        const max = c <= 0x33 ? 3 : 2;
        let k = j + 1;
        while (k < to && k - j < max && isOctal(s.charCodeAt(k))) k++;
        return k;
      }
      // Any other character escapes to itself; keep a surrogate pair together.
      if (c >= 0xd800 && c <= 0xdbff && j + 1 < to) {
        const d = s.charCodeAt(j + 1);
        if (d >= 0xdc00 && d <= 0xdfff) return j + 2;
      }
      return j + 1;
    }
  }
}

function cookEscape(s: string, at: number, end: number): string {
  if (end <= at + 1) return '';
  const body = s.slice(at + 1, end);
  const c = body.charCodeAt(0);
  switch (c) {
    case 0x6e:
      return '\n';
    case 0x74:
      return '\t';
    case 0x72:
      return '\r';
    case 0x62:
      return '\b';
    case 0x66:
      return '\f';
    case 0x76:
      return '\v';
    case LF:
    case CR:
    case 0x2028:
    case 0x2029:
      return ''; // line continuation
    case 0x78:
      return body.length === 3 ? String.fromCharCode(parseInt(body.slice(1), 16)) : 'x';
    case 0x75:
      if (body.length === 1) return 'u';
      return body.charCodeAt(1) === 0x7b
        ? String.fromCodePoint(parseInt(body.slice(2, -1), 16))
        : String.fromCharCode(parseInt(body.slice(1), 16));
    default:
      return isOctal(c) ? String.fromCharCode(parseInt(body, 8)) : body;
  }
}
