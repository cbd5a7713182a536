import type { ProviderError } from '../providers/provider.js';

/**
 * How a running LLM request hears that its client went away: the request's side calls
 * {@link leave} (once the connection closed); whoever is running the request's provider calls
 * watches through {@link onGone}. A plain field rather than an AbortSignal and its listener list,
 * which cost more than the rest of the bookkeeping per request: one watcher at a time (the
 * executor, then the stream it handed over), which replaces the previous one by assignment.
 */
export class ClientLink {
  /** Why the client went away, once it has. */
  gone: ProviderError | undefined;
  /** Called once, from {@link leave}, with the reason; undefined when nobody watches. */
  onGone: ((reason: ProviderError) => void) | undefined;

  /** The client went away: records the reason and tells the watcher. Later calls do nothing. */
  leave(reason: ProviderError): void {
    if (this.gone) return;
    this.gone = reason;
    this.onGone?.(reason);
  }
}
