/**
 * Records when credentials were last used without a database write per request: uses are kept in
 * memory (one entry per credential) and written in one batch every `intervalMs`, and on stop.
 */

import type { Logger } from 'pino';
import type { Store } from '../storage/store.js';

export class UsageRecorder {
  #pending = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<Store, 'touchCredentials'>,
    private readonly logger: Logger,
    intervalMs = 10_000,
  ) {
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Notes a use of credential `id` now. */
  touch(id: string, at: number = Date.now()): void {
    this.#pending.set(id, at);
  }

  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.store.touchCredentials([...batch].map(([id, at]) => ({ id, at: new Date(at).toISOString() })));
    } catch (err) {
      // Keep the newer of the two for the next attempt.
      for (const [id, at] of batch) if ((this.#pending.get(id) ?? 0) < at) this.#pending.set(id, at);
      this.logger.warn({ err }, 'recording credential use failed; will retry');
    }
  }
}
