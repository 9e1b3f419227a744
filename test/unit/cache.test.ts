// The bounded cache behind the plan cache and the parse memo: what it keeps, what it drops, and its bounds.
import * as assert from 'node:assert/strict';
import { Lru, planWeight } from '../../server/src/core/planCache';

describe('unit: the two-generation cache', () => {
  it('never holds more than its entry budget, and keeps what was read recently', () => {
    const c = new Lru<number>(10);
    for (let i = 0; i < 1000; i++) {
      c.set(`k${i}`, i);
      // One key read all along, as a statement left unchanged in a file saved again and again.
      assert.equal(c.get('k0'), 0, `k0 lost after ${i} writes`);
      assert.ok(c.size <= 10, `size ${c.size} after ${i} writes`);
    }
    // The most recent writes are there; old ones that nobody read are gone.
    assert.equal(c.get('k999'), 999);
    assert.equal(c.get('k995'), 995);
    assert.equal(c.get('k500'), undefined);
  });

  it('keeps at least the last half of its budget, whatever was read', () => {
    const c = new Lru<number>(100);
    for (let i = 0; i < 1000; i++) c.set(`k${i}`, i);
    for (let i = 950; i < 1000; i++) assert.equal(c.get(`k${i}`), i);
  });

  it('bounds the summed weight too, and counts an overwrite once', () => {
    const c = new Lru<string>(1000, (_k, v) => v.length, 100);
    for (let i = 0; i < 200; i++) {
      c.set(`k${i}`, 'x'.repeat(10));
      assert.ok(c.weight <= 100, `weight ${c.weight} after ${i} writes`);
    }
    const before = c.weight;
    c.set('k199', 'y'.repeat(10));
    assert.equal(c.weight, before);
    assert.equal(c.get('k199'), 'y'.repeat(10));
  });

  it('stores nothing with a budget of 0, and empties when resized to 0', () => {
    const off = new Lru<number>(0);
    off.set('a', 1);
    assert.equal(off.get('a'), undefined);
    const c = new Lru<number>(10);
    c.set('a', 1);
    c.resize(0);
    assert.equal(c.size, 0);
    c.set('b', 2);
    assert.equal(c.get('b'), undefined);
  });

  it('weighs a plan by its nodes and its key', () => {
    const leaf = { 'Node Type': 'Seq Scan', 'Total Cost': 1 };
    const plan = (p: object) => ({ kind: 'plan' as const, plan: p as never, elapsedMs: 0, generic: false, paramTypes: [], serverVersion: 15 });
    const one = planWeight('k', plan(leaf));
    const three = planWeight('k', plan({ ...leaf, Plans: [leaf, leaf] }));
    assert.equal(three - one, 2 * (one - 2));
    assert.ok(planWeight('k'.repeat(1000), plan(leaf)) > one);
  });
});
