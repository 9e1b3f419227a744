// How big a table is for every "large" decision: the user's `sqlInsight.tableSizes` (production sizes) win
// over the development database's own statistics, which are usually much smaller.
import type { SqlInsightSettings } from '../../../common/protocol';
import type { PlanNode } from './plan';
import { planNodes } from './plan';
import type { RelationInfo } from './ports';

export interface TableSize {
  rows: number;
  /** True when the number comes from sqlInsight.tableSizes. */
  configured: boolean;
}

/** Rows of a relation: `tableSizes["schema.name"]`, then `tableSizes["name"]`, then pg_class.reltuples. */
export function tableSize(info: RelationInfo | undefined, settings: SqlInsightSettings, fallbackRows?: number): TableSize | undefined {
  if (info) {
    const sizes = settings.tableSizes;
    const configured = sizes[`${info.schema}.${info.name}`] ?? sizes[info.name];
    if (configured !== undefined) return { rows: configured, configured: true };
    if (info.reltuples >= 0) return { rows: info.reltuples, configured: false };
  }
  return fallbackRows === undefined ? undefined : { rows: fallbackRows, configured: false };
}

export function isLarge(size: TableSize | undefined, settings: SqlInsightSettings): size is TableSize {
  return size !== undefined && size.rows >= settings.seqScanMinRows;
}

/** Dev → production factor for row estimates of one relation (1 when no size is configured). */
export function sizeFactor(info: RelationInfo | undefined, settings: SqlInsightSettings): number {
  const size = tableSize(info, settings);
  if (!info || !size?.configured || info.reltuples <= 0) return 1;
  return Math.max(1, size.rows / info.reltuples);
}

/** The factor for a plan node's rows: the largest factor among the relations it reads. */
export function nodeFactor(node: PlanNode, relationOf: (schema: string | undefined, name: string) => RelationInfo | undefined, settings: SqlInsightSettings): number {
  let f = 1;
  for (const n of planNodes(node)) {
    const name = n['Relation Name'];
    if (name) f = Math.max(f, sizeFactor(relationOf(n.Schema, name), settings));
  }
  return f;
}

/** "~120,000 rows" or "~50,000,000 rows (sqlInsight.tableSizes)". */
export function describeSize(size: TableSize, format: (n: number) => string): string {
  return `~${format(Math.round(size.rows))} rows${size.configured ? ' (sqlInsight.tableSizes)' : ''}`;
}

/**
 * Table sizes from a statistics file: a JSON object of numbers, or lines `name,rows` (also tab-, `|`- or
 * space-separated, as psql prints `SELECT relname, reltuples FROM pg_class`). Never throws; junk is skipped.
 */
export function parseTableSizes(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (name: unknown, rows: unknown): void => {
    const n = typeof rows === 'number' ? rows : Number(String(rows).trim());
    if (typeof name === 'string' && name.trim() && Number.isFinite(n) && n >= 0) out[name.trim()] = n;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const obj: unknown = JSON.parse(trimmed);
      if (obj && typeof obj === 'object' && !Array.isArray(obj)) for (const [k, v] of Object.entries(obj)) add(k, v);
    } catch {
      // Not JSON after all: nothing usable.
    }
    return out;
  }
  for (const line of trimmed.split(/\r?\n/)) {
    const parts = line.split(/[,\t|]|\s+/).map((p) => p.trim()).filter(Boolean);
    if (parts.length >= 2) add(parts[0], parts[parts.length - 1]);
  }
  return out;
}
