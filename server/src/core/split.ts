// Splits SQL text into statements without parsing it, so one broken statement never hides the others.
// Understands quotes, E'' escapes, quoted identifiers, dollar quoting, nested block comments, line comments
// and SQL-standard function bodies (BEGIN ATOMIC … END). Unterminated constructs run to the end of the text.

export interface StatementSpan {
  /** UTF-16 offset of the first character that is not whitespace or a comment. */
  start: number;
  /** UTF-16 offset just past the statement's last non-whitespace character (before the `;`). */
  end: number;
}

const enum Ch {
  Tab = 9,
  LF = 10,
  CR = 13,
  Space = 32,
  DoubleQuote = 34,
  Dollar = 36,
  Quote = 39,
  Star = 42,
  Dash = 45,
  Slash = 47,
  Semicolon = 59,
  Backslash = 92,
}

export function splitStatements(text: string): StatementSpan[] {
  const out: StatementSpan[] = [];
  const n = text.length;
  let i = 0;
  let stmtStart = -1; // first significant char of the current statement
  let lastSignificantEnd = -1;
  let atomicDepth = 0; // > 0 inside BEGIN ATOMIC … END
  let prevWord = '';

  const flush = (): void => {
    if (stmtStart >= 0) out.push({ start: stmtStart, end: lastSignificantEnd });
    stmtStart = -1;
    lastSignificantEnd = -1;
    atomicDepth = 0;
    prevWord = '';
  };
  const mark = (from: number, to: number): void => {
    if (stmtStart < 0) stmtStart = from;
    lastSignificantEnd = to;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === Ch.Space || c === Ch.Tab || c === Ch.LF || c === Ch.CR || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === Ch.Dash && text.charCodeAt(i + 1) === Ch.Dash) {
      while (i < n && text.charCodeAt(i) !== Ch.LF && text.charCodeAt(i) !== Ch.CR) i++;
      continue;
    }
    if (c === Ch.Slash && text.charCodeAt(i + 1) === Ch.Star) {
      i = skipBlockComment(text, i);
      continue;
    }
    if (c === Ch.Semicolon && atomicDepth === 0) {
      flush();
      i++;
      continue;
    }
    const from = i;
    if (c === Ch.Quote) {
      const escapes = isEscapeStringPrefix(text, i);
      i = skipQuoted(text, i, Ch.Quote, escapes);
      prevWord = '';
    } else if (c === Ch.DoubleQuote) {
      i = skipQuoted(text, i, Ch.DoubleQuote, false);
      prevWord = '';
    } else if (c === Ch.Dollar && isDollarQuoteStart(text, i)) {
      i = skipDollarQuoted(text, i);
      prevWord = '';
    } else if (isWordChar(c)) {
      while (i < n && (isWordChar(text.charCodeAt(i)) || text.charCodeAt(i) === Ch.Dollar)) i++;
      const word = text.slice(from, i).toUpperCase();
      if (word === 'ATOMIC' && prevWord === 'BEGIN') atomicDepth++;
      else if (atomicDepth > 0 && word === 'CASE') atomicDepth++;
      else if (atomicDepth > 0 && word === 'END') atomicDepth--;
      prevWord = word;
    } else {
      i++;
      prevWord = '';
    }
    mark(from, i);
  }
  flush();
  return out;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}

/** True when the quote at `i` opens an E'…' string (backslash escapes), i.e. is preceded by a lone E/e. */
function isEscapeStringPrefix(text: string, i: number): boolean {
  const p = text.charCodeAt(i - 1);
  if (p !== 69 && p !== 101) return false;
  const pp = i >= 2 ? text.charCodeAt(i - 2) : -1;
  return pp < 0 || !isWordChar(pp);
}

function skipQuoted(text: string, i: number, quote: number, backslashEscapes: boolean): number {
  const n = text.length;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (backslashEscapes && c === Ch.Backslash) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

function skipBlockComment(text: string, i: number): number {
  const n = text.length;
  let depth = 0;
  while (i < n) {
    if (text.charCodeAt(i) === Ch.Slash && text.charCodeAt(i + 1) === Ch.Star) {
      depth++;
      i += 2;
    } else if (text.charCodeAt(i) === Ch.Star && text.charCodeAt(i + 1) === Ch.Slash) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return n;
}

const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

function isDollarQuoteStart(text: string, i: number): boolean {
  // `$1` is a parameter, and a `$` inside an identifier (`a$b`) is not a quote.
  if (i > 0 && isWordChar(text.charCodeAt(i - 1))) return false;
  DOLLAR_TAG.lastIndex = i;
  return DOLLAR_TAG.test(text);
}

function skipDollarQuoted(text: string, i: number): number {
  DOLLAR_TAG.lastIndex = i;
  const m = DOLLAR_TAG.exec(text);
  if (!m) return i + 1;
  const tag = m[0];
  const close = text.indexOf(tag, i + tag.length);
  return close < 0 ? text.length : close + tag.length;
}
