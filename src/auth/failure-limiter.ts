/**
 * Limits failed authentication attempts per client address and per tenant, in fixed windows.
 *
 * - A source over `perSource` failures in the window is refused with 429 before its credentials are
 *   even looked at, until the window ends.
 * - A tenant over `perTenant` failures (many sources, e.g. credential stuffing) keeps serving valid
 *   credentials, but further failures answer 429 instead of 401 until the window ends.
 *
 * Memory is bounded: at most `maxKeys` counters; when full, expired windows are swept, then the
 * oldest counters dropped. Counts are per node (a cluster allows up to nodes × limit).
 */

export interface FailureLimits {
  readonly perSource: number;
  readonly perTenant: number;
  readonly windowMs: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = Object.freeze({ perSource: 20, perTenant: 1000, windowMs: 60_000 });

interface Window {
  count: number;
  readonly endsAt: number;
}

export type FailureScope = 'source' | 'tenant';

export class AuthFailureLimiter {
  readonly #limits: FailureLimits;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, Window>();
  readonly #onLimit: ((scope: FailureScope, key: string, count: number) => void) | undefined;

  constructor(opts: { limits?: FailureLimits; now?: () => number; maxKeys?: number; onLimit?: (scope: FailureScope, key: string, count: number) => void } = {}) {
    this.#limits = opts.limits ?? DEFAULT_FAILURE_LIMITS;
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = opts.maxKeys ?? 100_000;
    this.#onLimit = opts.onLimit;
  }

  /** True when `source` is over its limit: refuse without checking credentials. */
  sourceBlocked(source: string): boolean {
    return this.#over(`s:${source}`, this.#limits.perSource);
  }

  /** True when `tenant` is over its limit: failures answer 429. */
  tenantBlocked(tenant: string): boolean {
    return this.#over(`t:${tenant}`, this.#limits.perTenant);
  }

  /** Counts one failure against both. */
  record(source: string, tenant: string): void {
    this.#bump(`s:${source}`, 'source', source, this.#limits.perSource);
    this.#bump(`t:${tenant}`, 'tenant', tenant, this.#limits.perTenant);
  }

  /** Seconds until the window of a blocked source (or tenant) ends (for Retry-After); at least 1. */
  retryAfterSeconds(key: string, scope: FailureScope = 'source'): number {
    const w = this.#windows.get(`${scope === 'source' ? 's' : 't'}:${key}`);
    return w ? Math.max(1, Math.ceil((w.endsAt - this.#now()) / 1000)) : 1;
  }

  #over(key: string, limit: number): boolean {
    const w = this.#windows.get(key);
    return w !== undefined && w.endsAt > this.#now() && w.count >= limit;
  }

  #bump(key: string, scope: FailureScope, id: string, limit: number): void {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (!w || w.endsAt <= now) {
      if (w) this.#windows.delete(key);
      if (this.#windows.size >= this.#maxKeys) this.#sweep(now);
      w = { count: 0, endsAt: now + this.#limits.windowMs };
      this.#windows.set(key, w);
    }
    w.count += 1;
    if (w.count === limit) this.#onLimit?.(scope, id, w.count);
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (w.endsAt <= now) this.#windows.delete(k);
    // Still full: drop the oldest (Map keeps insertion order).
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(k);
    }
  }
}
