/**
 * The exact-match response cache: non-streaming answers keyed by tenant and the normalised request
 * (canonical JSON of what determines the answer), for a TTL. The store is an interface; the default
 * is an in-memory LRU per gateway, and a shared store (Redis) can implement the same contract.
 */

import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.js';
import type { ChatRequest } from '../wire/chat.js';

export interface CachedAnswer {
  /** The response body as the client format wrote it is rebuilt from this canonical response. */
  readonly response: unknown;
  readonly provider: string;
  readonly deployment: string;
}

export interface ResponseCacheStore {
  get(key: string): CachedAnswer | undefined;
  set(key: string, value: CachedAnswer, ttlMs: number): void;
}

/** In-memory LRU with per-entry expiry. Map order is recency order (a hit re-inserts). */
export class MemoryResponseCache implements ResponseCacheStore {
  private readonly entries = new Map<string, { value: CachedAnswer; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): CachedAnswer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expires <= this.now()) return undefined;
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: CachedAnswer, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The cache key: tenant, client API, the model as asked, and every request field that shapes the
 * answer (not `stream`, `stream_options` or `user`).
 */
export function cacheKey(tenant: string, api: string, model: string, req: ChatRequest): string {
  const { stream: _s, stream_options: _so, user: _u, model: _m, ...rest } = req;
  return createHash('sha256').update(canonicalJson({ tenant, api, model, rest })).digest('base64url');
}

/** Whether the request asks to bypass the cache (`Cache-Control: no-cache` or `no-store`). */
export function bypassesCache(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(^|,)\s*(no-cache|no-store)\s*(,|$)/i.test(cacheControl);
}
