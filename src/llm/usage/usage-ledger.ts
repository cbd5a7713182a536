/**
 * The write side of LLM usage: records are queued in memory and written in batches (every
 * `flushInterval`, or sooner when `batchSize` are waiting), so a request never waits for storage.
 * A failed write keeps its records for the next flush; `close()` writes what is left. Only when
 * storage stays down past `maxPending` records are the oldest dropped, counted and logged.
 */

import type { Logger } from 'pino';
import type { LlmUsageStore, UsageRecordInput } from '../../storage/llm-usage-records.js';

export interface LedgerOptions {
  readonly flushInterval?: number;
  readonly batchSize?: number;
  readonly maxPending?: number;
}

export class UsageLedger {
  private pending: UsageRecordInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** Records dropped because storage was down too long (for metrics and tests). */
  dropped = 0;
  private readonly flushInterval: number;
  private readonly batchSize: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: LlmUsageStore,
    private readonly logger: Logger,
    opts: LedgerOptions = {},
  ) {
    this.flushInterval = opts.flushInterval ?? 1000;
    this.batchSize = opts.batchSize ?? 500;
    this.maxPending = opts.maxPending ?? 200_000;
  }

  record(r: UsageRecordInput): void {
    this.pending.push(r);
    if (this.pending.length > this.maxPending) {
      const over = this.pending.length - this.maxPending;
      this.pending.splice(0, over);
      this.dropped += over;
      this.logger.error({ dropped: over, total: this.dropped }, 'LLM usage records dropped: storage has been unavailable too long');
    }
    if (this.pending.length >= this.batchSize) void this.flush();
    else if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushInterval);
      this.timer.unref();
    }
  }

  /** Writes everything queued so far; resolves when done (or failed: the records stay queued). */
  flush(): Promise<void> {
    // Never rejects: a failed write keeps its records queued (and `record()` calls this unawaited).
    if (this.flushing) return this.flushing.catch(() => undefined).then(() => (this.pending.length > 0 ? this.flush() : undefined));
    if (this.pending.length === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.store
      .append(batch)
      .catch((err: unknown) => {
        this.pending = batch.concat(this.pending);
        this.logger.warn({ err, records: batch.length }, 'LLM usage write failed; retrying');
        if (!this.timer && !this.closed) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            void this.flush();
          }, this.flushInterval);
          this.timer.unref();
        }
        throw err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing.catch(() => undefined);
  }

  /** Stops the timer and writes what is queued, retrying for up to `timeoutMs`. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 || this.flushing) {
      await this.flush();
      if (this.pending.length === 0) break;
      if (Date.now() > deadline) {
        this.logger.error({ records: this.pending.length }, 'LLM usage records could not be written before shutdown');
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
