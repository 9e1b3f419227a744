import * as assert from 'node:assert/strict';
import { extractSqlRegions, type ExtractOptions } from '../../../server/src/core/embedded/extract';
import type { SqlRegion } from '../../../server/src/core/regions';

export function regions(src: string, options?: ExtractOptions, languageId = 'typescript'): SqlRegion[] {
  return extractSqlRegions(src, languageId, options);
}

/** The single region of `src`; fails when there is not exactly one. */
export function only(src: string, options?: ExtractOptions, languageId = 'typescript'): SqlRegion {
  const found = regions(src, options, languageId);
  assert.equal(found.length, 1, `expected one region, got ${JSON.stringify(found.map((r) => r.text))}`);
  return found[0];
}

/** The host characters the `nth` occurrence of `token` in the region's text maps to. */
export function hostOf(src: string, region: SqlRegion, token: string, nth = 0): string {
  let a = -1;
  for (let i = 0; i <= nth; i++) {
    a = region.text.indexOf(token, a + 1);
    assert.ok(a >= 0, `${JSON.stringify(token)} not in ${JSON.stringify(region.text)}`);
  }
  return src.slice(region.toHost(a), region.toHost(a + token.length));
}

/**
 * Asserts that `token` in the region's text maps to exactly the host characters where it is written: its first
 * occurrence in `src` at or after `after` (a string that occurs once in `src`).
 */
export function assertMaps(src: string, region: SqlRegion, token: string, after?: string): void {
  const a = region.text.indexOf(token);
  assert.ok(a >= 0, `${JSON.stringify(token)} not in ${JSON.stringify(region.text)}`);
  const expected = src.indexOf(token, after === undefined ? 0 : src.indexOf(after));
  assert.ok(expected >= 0);
  assert.equal(region.toHost(a), expected, 'start');
  assert.equal(region.toHost(a + token.length), expected + token.length, 'end');
}
