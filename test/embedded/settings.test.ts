// The embedded engine's settings as the client may send them: partial, null, or of the wrong type.
import * as assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../common/protocol';

describe('embedded: settings', () => {
  it('defaults to auto, the usual schema places and no row counts', () => {
    const s = normalizeSettings(null);
    assert.equal(s.database, 'auto');
    assert.deepEqual(s.schemaFiles, []);
    assert.deepEqual(s.embedded.rowCounts, {});
    assert.deepEqual(s, DEFAULT_SETTINGS);
  });

  it('keeps valid values', () => {
    const s = normalizeSettings({
      database: 'embedded',
      schemaFiles: [' db/*.sql ', 'migrations/**/*.sql'],
      embedded: { rowCounts: { orders: 5e6, 'public.customers': 120_000.7, empty: 0 } },
    });
    assert.equal(s.database, 'embedded');
    assert.deepEqual(s.schemaFiles, ['db/*.sql', 'migrations/**/*.sql']);
    assert.deepEqual(s.embedded.rowCounts, { orders: 5_000_000, 'public.customers': 120_000, empty: 0 });
  });

  it('drops what it cannot use instead of failing', () => {
    const s = normalizeSettings({
      database: 'EMBEDDED',
      schemaFiles: 'schema.sql',
      embedded: { rowCounts: { a: -1, b: 'many', c: Infinity, ' ': 5, d: null, ok: 3 } },
    });
    assert.equal(s.database, 'auto');
    assert.deepEqual(s.schemaFiles, []);
    assert.deepEqual(s.embedded.rowCounts, { ok: 3 });
    assert.deepEqual(normalizeSettings({ schemaFiles: ['', 3, 'x.sql'], embedded: [] }).schemaFiles, ['x.sql']);
    assert.deepEqual(normalizeSettings({ embedded: { rowCounts: [1, 2] } }).embedded.rowCounts, {});
  });
});
