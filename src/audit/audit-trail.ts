/**
 * The gateway's audit trail: admin actions are appended inside their own transactions (see
 * ConfigService); events the data plane raises (security events) are queued here and appended in
 * batches, off the request path. A failed append is retried on the next flush: entries stay queued
 * (up to `maxQueue`, beyond which the oldest are dropped and the drop is logged and counted; a batch
 * being appended is held outside the queue until the append settles).
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

/** Entries per append. */
const BATCH_SIZE = 1000;

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

  /**
   * Appends everything queued, in batches (and closes elapsed dedupe windows), until the queue is
   * empty or an append fails. Never rejects. Concurrent calls share one run.
   */
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

  /** Stops the timer and flushes, closing every dedupe window. Entries still queued when storage fails stay queued. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const [key, r] of this.#repeats) this.#closeWindow(key, r);
    // A run in progress may already be past its last batch: flush again once it has settled.
    await this.#flushing;
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
    this.#trim();
  }

  /** Drops the oldest entries beyond `maxQueue`, counting and logging the drop. */
  #trim(): void {
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
    while (this.#queue.length > 0) {
      // Taken out of the queue while in flight, so that trimming meanwhile only drops queued entries.
      const batch = this.#queue.splice(0, BATCH_SIZE);
      try {
        await this.#opts.store.audit.append(batch, this.link);
      } catch (err) {
        this.#queue.unshift(...batch);
        this.#trim();
        this.#opts.logger.warn({ err, queued: this.#queue.length }, 'audit append failed; will retry');
        return;
      }
    }
  }
}
