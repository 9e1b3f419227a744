// knex and Sequelize send `?` (and Sequelize `:name`) placeholders that their client replaces before
// PostgreSQL sees the text. PostgreSQL itself would read `?` as an operator, so the region is rewritten to
// `$n` parameters, with a composed toHost so every offset still lands on the host's characters.
import type { RegionParam, SqlRegion } from '../regions';

export interface PlaceholderStyle {
  /** `:name` placeholders (Sequelize replacements). */
  named: boolean;
}

interface Piece {
  newStart: number;
  oldStart: number;
  oldEnd: number;
  verbatim: boolean;
}

export function rewriteQuestionMarks(region: SqlRegion, style: PlaceholderStyle): SqlRegion {
  const src = region.text;
  const out: string[] = [];
  const pieces: Piece[] = [];
  const params: RegionParam[] = [...region.params];
  let next = params.reduce((m, p) => Math.max(m, p.index), 0) + 1;
  const names = new Map<string, number>();
  let len = 0;
  let copiedTo = 0;

  const copyUpTo = (i: number): void => {
    if (i <= copiedTo) return;
    pieces.push({ newStart: len, oldStart: copiedTo, oldEnd: i, verbatim: true });
    out.push(src.slice(copiedTo, i));
    len += i - copiedTo;
    copiedTo = i;
  };
  const replace = (from: number, to: number, text: string): void => {
    copyUpTo(from);
    pieces.push({ newStart: len, oldStart: from, oldEnd: to, verbatim: false });
    out.push(text);
    len += text.length;
    copiedTo = to;
  };

  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "'" || c === '"') {
      i = skipQuoted(src, i, c);
    } else if (c === '-' && src[i + 1] === '-') {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === '\\' && src[i + 1] === '?') {
      replace(i, i + 2, '?'); // knex's escape for a literal `?` (jsonb operators)
      i += 2;
    } else if (c === '?') {
      const identifier = src[i + 1] === '?';
      const width = identifier ? 2 : 1;
      const index = next++;
      params.push({ index, source: src.slice(i, i + width), kind: identifier ? 'unknown' : 'value' });
      replace(i, i + width, `$${index}`);
      i += width;
    } else if (style.named && c === ':' && src[i - 1] !== ':' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j])) j++;
      const name = src.slice(i + 1, j);
      let index = names.get(name);
      if (index === undefined) {
        index = next++;
        names.set(name, index);
        params.push({ index, source: src.slice(i, j), kind: 'value' });
      }
      replace(i, j, `$${index}`);
      i = j;
    } else i++;
  }
  if (pieces.length === 0) return region;
  copyUpTo(src.length);
  const text = out.join('');

  const toOld = (offset: number): number => {
    if (offset >= text.length) return src.length;
    let lo = 0;
    let hi = pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (pieces[mid].newStart <= offset) lo = mid;
      else hi = mid - 1;
    }
    const p = pieces[lo];
    const delta = offset - p.newStart;
    if (p.verbatim) return p.oldStart + delta;
    return delta === 0 ? p.oldStart : Math.min(p.oldStart + delta, p.oldEnd - 1);
  };
  return { text, toHost: (offset) => region.toHost(toOld(Math.max(0, offset))), params, origin: region.origin };
}

function skipQuoted(s: string, i: number, q: string): number {
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === q) {
      if (s[j + 1] === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return s.length;
}
