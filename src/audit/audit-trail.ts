/**
 * The gateway's audit trail: admin actions are appended inside their own transactions (see
 * ConfigService); events the data plane raises (security events) are queued here and appended in
 * batches, off the request path. A failed append is retried on the next flush: entries stay queued
 * (up to `maxQueue`, beyond which the oldest are dropped and the drop is logged and counted).
 *
 * Security events repeat (a scanner tries a thousand keys): the first occurrence of a `key` is
 * recorded at once, repeats within `dedupeWindowMs` are counted and recorded as one summary entry
 * with `details.repeated` when the window closes.
 */

import type { Logger } from 'pino';
import type { AuditEntryInput, AuditLinker, Store } from '../storage/store.js';
import { DATA_PLANE_ACTOR } from './audit-context.js';
import { verifyAuditChain, type ChainReport } from './audit-chain.js';

export interface SecurityEvent {
  /** `security.<event>`, e.g. `security.auth_failures`. */
  readonly action: string;
  readonly tenant: string | null;
  readonly sourceIp: string | null;
  readonly object?: { kind: string; name: string } | null;
  readonly details?: Record<string, unknown>;
}

export interface AuditTrailOptions {
  readonly store: Pick<Store, 'audit'>;
  readonly link: AuditLinker;
  readonly logger: Logger;
  readonly flushIntervalMs?: number;
  readonly dedupeWindowMs?: number;
  readonly maxQueue?: number;
  readonly now?: () => number;
}

interface Repeats {
  readonly event: SecurityEvent;
  readonly until: number;
  count: number;
}

export class AuditTrail {
  readonly link: AuditLinker;
  readonly #opts: AuditTrailOptions;
  readonly #queue: AuditEntryInput[] = [];
  readonly #repeats = new Map<string, Repeats>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;
  /** Entries dropped because the queue was full (storage down for long). */
  dropped = 0;

  constructor(opts: AuditTrailOptions) {
    this.#opts = opts;
    this.link = opts.link;
    this.#timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Queues a security event (deduplicated by `key`). Never throws. */
  security(key: string, event: SecurityEvent): void {
    const now = (this.#opts.now ?? Date.now)();
    const seen = this.#repeats.get(key);
    if (seen && seen.until > now) {
      seen.count += 1;
      return;
    }
    if (seen) this.#closeWindow(key, seen);
    this.#repeats.set(key, { event, until: now + (this.#opts.dedupeWindowMs ?? 60_000), count: 0 });
    this.#enqueue(this.#entry(event, undefined));
  }

  /** Appends everything queued (and closes elapsed dedupe windows). Concurrent calls share one run. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Walks the whole chain (platform administrators). */
  verify(store: Pick<Store, 'audit'>): Promise<ChainReport> {
    return verifyAuditChain((after, limit) => store.audit.raw(after, limit), this.link);
  }

  /** Flushes (closing every dedupe window) and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const [key, r] of this.#repeats) this.#closeWindow(key, r);
    await this.flush();
  }

  #entry(event: SecurityEvent, repeated: number | undefined): AuditEntryInput {
    return {
      tenant: event.tenant,
      actor: DATA_PLANE_ACTOR,
      action: event.action,
      object: event.object ?? null,
      diff: null,
      sourceIp: event.sourceIp,
      details: repeated === undefined ? (event.details ?? null) : { ...event.details, repeated },
    };
  }

  #closeWindow(key: string, r: Repeats): void {
    this.#repeats.delete(key);
    if (r.count > 0) this.#enqueue(this.#entry(r.event, r.count));
  }

  #enqueue(entry: AuditEntryInput): void {
    this.#queue.push(entry);
    const max = this.#opts.maxQueue ?? 100_000;
    if (this.#queue.length > max) {
      const n = this.#queue.length - max;
      this.#queue.splice(0, n);
      this.dropped += n;
      this.#opts.logger.error({ dropped: n }, 'audit queue full: oldest security events dropped');
    }
  }

  async #flushOnce(): Promise<void> {
    const now = (this.#opts.now ?? Date.now)();
    for (const [key, r] of this.#repeats) if (r.until <= now) this.#closeWindow(key, r);
    if (this.#queue.length === 0) return;
    const batch = this.#queue.slice(0, 1000);
    try {
      await this.#opts.store.audit.append(batch, this.link);
      this.#queue.splice(0, batch.length);
    } catch (err) {
      this.#opts.logger.warn({ err, queued: this.#queue.length }, 'audit append failed; will retry');
    }
  }
}
