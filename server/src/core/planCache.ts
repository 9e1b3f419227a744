// The plan cache: EXPLAIN results and catalog facts kept between runs, so that saving a file plans only the
// statements whose plan could have changed. Pure data: the planner reports the versions (ports.ts
// `SchemaVersions`), this module only builds keys from them and remembers.
import type { DatabaseInfo, ExplainResult, PlanRequest, RelationInfo, SchemaVersions } from './ports';
import { walkPlan } from './plan';

export const DEFAULT_PLAN_CACHE_ENTRIES = 10_000;
/**
 * At most about this much memory for cached plans, whatever their number (half of it is kept for sure).
 * Plans of open documents are held by their analyses as well, so this is mostly what closed ones cost.
 */
export const PLAN_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * Bytes a cached plan holds, estimated: ~570 per plan node (measured over 3,000 plans of the benchmark's
 * statements, heap growth against node count), plus the key, which holds the statement's text.
 */
export function planWeight(key: string, plan: Extract<ExplainResult, { kind: 'plan' }>): number {
  let nodes = 0;
  walkPlan(plan.plan, () => nodes++);
  return 600 * nodes + 2 * key.length;
}

/**
 * A bounded cache that keeps what was used recently: at most `max` entries and about `maxWeight` of
 * weight (an estimate of bytes, from `weigh`). Two generations instead of an exact least-recently-used
 * order: new and recently read entries go to the young map; when it holds half the budget, it becomes the
 * old one and the previous old one is dropped. A read of an old entry moves it back. A hit in the young
 * map is one Map lookup, where an exact LRU pays a delete and a re-insert on every hit (5,000 of each on
 * every save of a 5,000-statement file). What survives is anything read or written within the last half
 * of the budget: a working set must fit in half of it.
 */
export class Lru<V> {
  private young = new Map<string, { v: V; w: number }>();
  private old = new Map<string, { v: V; w: number }>();
  private youngWeight = 0;
  private oldWeight = 0;

  constructor(
    public max: number,
    private readonly weigh: (key: string, value: V) => number = () => 0,
    private readonly maxWeight = Infinity,
  ) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The summed estimate of what is held. */
  get weight(): number {
    return this.youngWeight + this.oldWeight;
  }

  get(key: string): V | undefined {
    const y = this.young.get(key);
    if (y) return y.v;
    const o = this.old.get(key);
    if (!o) return undefined;
    this.old.delete(key);
    this.oldWeight -= o.w;
    this.put(key, o);
    return o.v;
  }

  set(key: string, value: V): void {
    if (this.max <= 0) return;
    const o = this.old.get(key);
    if (o) {
      this.old.delete(key);
      this.oldWeight -= o.w;
    }
    const y = this.young.get(key);
    if (y) this.youngWeight -= y.w;
    this.put(key, { v: value, w: this.weigh(key, value) });
  }

  resize(max: number): void {
    if (max === this.max) return;
    this.max = max;
    if (max <= 0) return this.clear();
    // Rare (a settings change): keep the young generation if it fits, as the old one.
    if (this.young.size > max / 2) this.clear();
    else this.rotate();
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngWeight = this.oldWeight = 0;
  }

  private put(key: string, e: { v: V; w: number }): void {
    this.young.set(key, e);
    this.youngWeight += e.w;
    if (this.young.size >= Math.max(1, this.max / 2) || this.youngWeight >= this.maxWeight / 2) this.rotate();
  }

  private rotate(): void {
    this.old = this.young;
    this.oldWeight = this.youngWeight;
    this.young = new Map();
    this.youngWeight = 0;
  }
}

/**
 * A statement's plan depends on its text, how its parameters are planned, the database (and whatever the
 * planner puts in `scope`: server version, user functions, the embedded engine's schema hash) and the
 * relations it names, each at its change marker. A name that does not resolve is part of the key as absent,
 * so that creating the table replans the statement. The context is all of that but the text;
 * `relationKeys`: the relations' keys, each once, sorted (ParsedStatement.relations).
 */
export function planContext(req: Pick<PlanRequest, 'paramCount'>, relationKeys: readonly string[], versions: SchemaVersions): string {
  const markers = relationKeys.map((k) => `${k}=${versions.relations.get(k) ?? '-'}`).join('\u0001');
  return `${versions.scope}\u0000${req.paramCount}\u0000${markers}`;
}

/** The plan cache's key: the context and the statement's text. */
export function planKey(context: string, sql: string): string {
  return `${context}\u0000${sql}`;
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

  /** `maxEntries` plans are kept for sure (the caches hold up to twice that: see Lru). */
  constructor(maxEntries = DEFAULT_PLAN_CACHE_ENTRIES) {
    this.plans = new Lru(2 * maxEntries, planWeight, PLAN_CACHE_BYTES);
    this.relations = new Lru(2 * maxEntries);
  }

  resize(maxEntries: number): void {
    this.plans.resize(2 * maxEntries);
    this.relations.resize(2 * maxEntries);
  }
}
