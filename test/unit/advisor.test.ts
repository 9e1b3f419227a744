// The index advisor on its own: candidates from a statement and catalog facts, no database.
import * as assert from 'node:assert/strict';
import { normalizeSettings } from '../../common/protocol';
import { adviseIndexes } from '../../server/src/core/advisor';
import { parseDocument } from '../../server/src/core/document';
import { loadParser } from '../../server/src/core/parse';
import type { RelationInfo } from '../../server/src/core/ports';
import { wholeDocumentRegion } from '../../server/src/core/regions';
import type { RuleContext } from '../../server/src/core/rules/types';

before(loadParser);

const orders: RelationInfo = {
  schema: 'public',
  name: 'orders',
  kind: 'r',
  reltuples: 1e6,
  relpages: 1e4,
  columns: ['id', 'customer_id', 'status', 'total', 'created_at'].map((name) => ({
    name,
    type: 'bigint',
    notNull: true,
    ...(name === 'status' ? { stats: { nullFrac: 0, nDistinct: 3, mostCommonValues: ['shipped', 'pending', 'refunded'], mostCommonFreqs: [0.8, 0.18, 0.02] } } : {}),
  })),
  indexes: [
    {
      name: 'orders_customer_id_status_idx',
      unique: false,
      primary: false,
      method: 'btree',
      keyColumns: ['customer_id', 'status'],
      keyDefs: ['customer_id', 'status'],
      predicate: null,
      definition: 'CREATE INDEX orders_customer_id_status_idx ON public.orders USING btree (customer_id, status)',
    },
  ],
};

function advise(sql: string, info: RelationInfo = orders, opts: { sort?: boolean } = {}) {
  const doc = parseDocument('file:///a.sql', 1, sql, [wholeDocumentRegion(sql)]);
  const stmt = doc.statements[0];
  const table = stmt.blocks[0].tables[0];
  const ctx: RuleContext = {
    stmt,
    settings: normalizeSettings({}),
    host: 'sql',
    plan: { 'Node Type': 'Result', 'Startup Cost': 0, 'Total Cost': 0, 'Plan Rows': 0, 'Plan Width': 0 },
    analyzed: false,
    relation: () => info,
    relationByName: () => info,
    size: () => ({ rows: info.reltuples, configured: false }),
  };
  return adviseIndexes({ table, ctx, ...opts });
}

describe('index advisor', () => {
  it('skips a candidate an existing index already covers and names that index', () => {
    const a = advise('SELECT * FROM orders WHERE customer_id = $1');
    assert.deepEqual(a.fixes, []);
    assert.equal(a.coveredBy?.name, 'orders_customer_id_status_idx');
  });

  it('equality columns first, then the range column; a partial variant for a rare constant', () => {
    const a = advise("SELECT * FROM orders WHERE total > 100 AND status = 'refunded'");
    assert.deepEqual(
      a.fixes.map((f) => f.ddl(false)),
      [
        'CREATE INDEX IF NOT EXISTS orders_status_total_idx ON orders (status, total);',
        "CREATE INDEX IF NOT EXISTS orders_total_refunded_idx ON orders (total) WHERE status = 'refunded';",
      ],
    );
    assert.equal(a.fixes[0].candidate.needsRealBuild, false, 'a plain B-tree can be hypothetical');
    assert.equal(a.fixes[1].candidate.needsRealBuild, true, 'a partial index needs real statistics');
    assert.equal(a.fixes[1].candidate.sql, "CREATE INDEX orders_total_refunded_idx ON orders (total) WHERE status = 'refunded'");
  });

  it('offers INCLUDE columns for a narrow select list, as a refinement of the plain candidate', () => {
    const a = advise('SELECT id, total FROM orders WHERE created_at > $1 ORDER BY created_at');
    assert.deepEqual(
      a.fixes.map((f) => [f.ddl(true), f.refines]),
      [
        ['CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);', undefined],
        ['CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_incl_id_total_idx ON orders (created_at) INCLUDE (id, total);', 'orders_created_at_idx'],
      ],
    );
  });

  it('sort columns after the equality columns; DESC only where directions are mixed', () => {
    const same = advise("SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 5", orders, { sort: true });
    assert.equal(same.fixes[0].candidate.sql, 'CREATE INDEX orders_status_created_at_id_idx ON orders (status, created_at, id)');
    const mixed = advise("SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at DESC, id LIMIT 5", orders, { sort: true });
    assert.equal(mixed.fixes[0].candidate.sql, 'CREATE INDEX orders_status_created_at_id_idx ON orders (status, created_at DESC, id)');
  });

  it('writes ON ONLY the parent, each partition, then ATTACH, for a partitioned table (schema-qualified as written)', () => {
    const events: RelationInfo = {
      ...orders,
      name: 'events',
      kind: 'p',
      indexes: [],
      partitions: [
        { schema: 'app', name: 'events_2024' },
        { schema: 'app', name: 'events_2025' },
      ],
    };
    const a = advise('SELECT * FROM app.events WHERE customer_id = 7', { ...events, schema: 'app' });
    assert.equal(
      a.fixes[0].ddl(true),
      [
        'CREATE INDEX IF NOT EXISTS events_customer_id_idx ON ONLY app.events (customer_id);',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_customer_id_idx ON app.events_2024 (customer_id);',
        'ALTER INDEX app.events_customer_id_idx ATTACH PARTITION app.events_2024_customer_id_idx;',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_customer_id_idx ON app.events_2025 (customer_id);',
        'ALTER INDEX app.events_customer_id_idx ATTACH PARTITION app.events_2025_customer_id_idx;',
      ].join('\n'),
    );
    assert.equal(a.fixes[0].candidate.needsRealBuild, true, 'hypopg cannot model partitioned indexes');
  });
});
