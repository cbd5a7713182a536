/**
 * The two ways an {@link AttemptIo} is made: {@link AttemptControl}, the executor's, which creates
 * an AbortSignal only when something reads `signal` (making one, and listening on it, cost more per
 * request than the rest of an attempt's bookkeeping; the buffered exchange watches through
 * `onAbort` instead), and {@link signalAttemptIo}, over a signal that already exists.
 */

import type { AttemptIo } from './provider.js';

const nothing = (): void => undefined;

/** One attempt's I/O limits and cancellation, aborted by {@link abort}. Not for concurrent use across threads (none is). */
export class AttemptControl implements AttemptIo {
  private ctl: AbortController | undefined;
  private aborted = false;
  private reason: unknown;
  private watchers: Set<(reason: unknown) => void> | undefined;

  constructor(
    readonly headersTimeout: number,
    readonly bodyTimeout: number,
  ) {}

  /** Made on first read; already aborted (with the reason) when the attempt was. */
  get signal(): AbortSignal {
    if (!this.ctl) {
      this.ctl = new AbortController();
      if (this.aborted) this.ctl.abort(this.reason);
    }
    return this.ctl.signal;
  }

  onAbort(fn: (reason: unknown) => void): () => void {
    if (this.aborted) {
      fn(this.reason);
      return nothing;
    }
    const watchers = (this.watchers ??= new Set());
    watchers.add(fn);
    return () => watchers.delete(fn);
  }

  /** Aborts the attempt with `reason` (the signal too, once made) and tells every watcher; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ctl?.abort(reason);
    const watchers = this.watchers;
    this.watchers = undefined;
    if (watchers) for (const fn of watchers) fn(reason);
  }
}

/** An {@link AttemptIo} over `signal`, with its limits. */
export function signalAttemptIo(signal: AbortSignal, headersTimeout: number, bodyTimeout: number): AttemptIo {
  return {
    signal,
    headersTimeout,
    bodyTimeout,
    onAbort(fn) {
      if (signal.aborted) {
        fn(signal.reason);
        return nothing;
      }
      const listener = (): void => fn(signal.reason);
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}
