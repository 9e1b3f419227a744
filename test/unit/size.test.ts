// Table sizes: the settings and the statistics file decide what "large" means.
import * as assert from 'node:assert/strict';
import { normalizeSettings } from '../../common/protocol';
import type { RelationInfo } from '../../server/src/core/ports';
import { isLarge, parseTableSizes, sizeFactor, tableSize } from '../../server/src/core/size';

const orders = { schema: 'public', name: 'orders', kind: 'r', reltuples: 120_000, relpages: 1000, columns: [], indexes: [] } as RelationInfo;

describe('table sizes', () => {
  it('reads JSON and the CSV / psql output of SELECT relname, reltuples FROM pg_class', () => {
    assert.deepEqual(parseTableSizes('{ "orders": 5e7, "bad": -1, "worse": "x" }'), { orders: 5e7 });
    assert.deepEqual(parseTableSizes('orders,50000000\npublic.customers\t2000000\n relname | reltuples \n---------+--\n events | 1e+09\n(3 rows)\n'), {
      orders: 50_000_000,
      'public.customers': 2_000_000,
      events: 1e9,
    });
    assert.deepEqual(parseTableSizes('{ not json'), {});
  });

  it('prefers schema.name over name over the development statistics, and scales estimates by the ratio', () => {
    const s = (sizes: Record<string, number>) => normalizeSettings({ tableSizes: sizes });
    assert.deepEqual(tableSize(orders, s({})), { rows: 120_000, configured: false });
    assert.deepEqual(tableSize(orders, s({ orders: 5e7 })), { rows: 5e7, configured: true });
    assert.deepEqual(tableSize(orders, s({ orders: 5e7, 'public.orders': 6e7 })), { rows: 6e7, configured: true });
    assert.equal(sizeFactor(orders, s({ orders: 1.2e7 })), 100);
    assert.equal(isLarge(tableSize({ ...orders, reltuples: 500 }, s({})), s({})), false);
    assert.equal(isLarge(tableSize({ ...orders, reltuples: 500 }, s({ orders: 1e6 })), s({})), true);
  });
});
