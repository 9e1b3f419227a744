// docs/rules.md and the per-rule settings are generated (npm run docs:rules); these fail when they drift.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { normalizeSettings } from '../../common/protocol';
import { ROOT, renderPackageJson, renderRulesDoc } from '../../scripts/rules-doc';
import { RULES } from '../../server/src/core/rules';
import { FIXTURE_FILE } from '../rules/fixtures.test';

describe('rule documentation and settings', () => {
  it('docs/rules.md is generated from the rules and their .md files (run npm run docs:rules)', () => {
    assert.equal(readFileSync(path.join(ROOT, 'docs/rules.md'), 'utf8'), renderRulesDoc());
  });

  it('package.json has one sqlInsight.rules.<id> setting per rule (run npm run docs:rules)', () => {
    const current = readFileSync(path.join(ROOT, 'package.json'), 'utf8');
    assert.equal(current, renderPackageJson(current));
    const props = (JSON.parse(current) as { contributes: { configuration: { properties: Record<string, unknown> } } }).contributes
      .configuration.properties;
    for (const r of RULES) assert.ok(props[`sqlInsight.rules.${r.id}`], r.id);
  });

  it('every rule has a unique id, a file named by it and its doc beside it; no orphan docs', () => {
    const dir = path.join(ROOT, 'server/src/core/rules');
    const ids = RULES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    for (const id of ids) {
      assert.ok(existsSync(path.join(dir, `${id}.ts`)), `${id}.ts`);
      assert.ok(existsSync(path.join(dir, `${id}.md`)), `${id}.md`);
    }
    const docs = readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3));
    assert.deepEqual(docs.sort(), [...ids].sort());
  });

  it('every rule has positive and negative fixtures (rules that need EXPLAIN ANALYZE have their own tests)', () => {
    const fixtures = path.join(ROOT, 'test/fixtures/rules');
    for (const r of RULES) {
      if (r.needs === 'analyze') continue;
      const dir = path.join(fixtures, r.id);
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => FIXTURE_FILE.test(f)) : [];
      const firstLines = files.map((f) => readFileSync(path.join(dir, f), 'utf8').split('\n', 1)[0]);
      assert.ok(firstLines.some((l) => l.includes(r.id)), `${r.id}: a fixture that triggers it`);
      assert.ok(firstLines.some((l) => !l.includes(r.id)), `${r.id}: a look-alike fixture that keeps it quiet`);
    }
  });

  it('normalizeSettings keeps valid rule levels and table sizes and drops the rest', () => {
    const s = normalizeSettings({
      rules: { 'select-star': 'Information', 'seq-scan-large-table': 'off', x: 'loud', y: 'default', z: 3 },
      tableSizes: { orders: 50_000_000, 'public.customers': 2e6, bad: -1, worse: 'many', '': 5 },
    });
    assert.deepEqual(s.rules, { 'select-star': 'information', 'seq-scan-large-table': 'off' });
    assert.deepEqual(s.tableSizes, { orders: 50_000_000, 'public.customers': 2e6 });
    assert.deepEqual(normalizeSettings({ rules: [], tableSizes: null }).rules, {});
  });
});
