// The plan cache: EXPLAIN results and catalog facts kept between runs, so that saving a file plans only the
// statements whose plan could have changed. Pure data: the planner reports the versions (ports.ts
// `SchemaVersions`), this module only builds keys from them and remembers.
import type { DatabaseInfo, ExplainResult, PlanRequest, QualifiedName, RelationInfo, SchemaVersions } from './ports';
import { relationKey } from './ports';

export const DEFAULT_PLAN_CACHE_ENTRIES = 10_000;

/** A Map in least-recently-used order, bounded by `max` (0: stores nothing). */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(public max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    if (this.max <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    this.trim();
  }

  resize(max: number): void {
    this.max = max;
    this.trim();
  }

  clear(): void {
    this.map.clear();
  }

  private trim(): void {
    while (this.map.size > Math.max(0, this.max)) {
      const oldest = this.map.keys().next();
      if (oldest.done) return;
      this.map.delete(oldest.value);
    }
  }
}

/**
 * A statement's plan depends on its text, how its parameters are planned, the database (and whatever the
 * planner puts in `scope`: server version, user functions, the embedded engine's schema hash) and the
 * relations it names, each at its change marker. A name that does not resolve is part of the key as absent,
 * so that creating the table replans the statement.
 */
export function planKey(req: PlanRequest, relations: QualifiedName[], versions: SchemaVersions): string {
  const markers = [...new Set(relations.map(relationKey))]
    .sort()
    .map((k) => `${k}=${versions.relations.get(k) ?? '-'}`)
    .join('\u0001');
  return `${versions.scope}\u0000${req.paramCount}\u0000${markers}\u0000${req.sql}`;
}

export function relationCacheKey(key: string, versions: SchemaVersions): string | undefined {
  const marker = versions.relations.get(key);
  return marker === undefined ? undefined : `${versions.scope}\u0000${marker}\u0000${key}`;
}

export class PlanCache {
  /** Plans only: errors are not kept (they may come from something no marker covers, and are what the user is fixing). */
  readonly plans: Lru<Extract<ExplainResult, { kind: 'plan' }>>;
  readonly relations: Lru<RelationInfo>;
  /**
   * What the database offers the fixes (extensions), by scope: the scope's marker covers pg_extension; an
   * extension newly made available on the server's disk shows after a restart of the language server.
   */
  readonly databases = new Lru<DatabaseInfo>(8);

  constructor(maxEntries = DEFAULT_PLAN_CACHE_ENTRIES) {
    this.plans = new Lru(maxEntries);
    this.relations = new Lru(maxEntries);
  }

  resize(maxEntries: number): void {
    this.plans.resize(maxEntries);
    this.relations.resize(maxEntries);
  }
}
