import type { AddressInfo } from 'node:net';

/** A listening server with a lifecycle. `stop` is safe after a partial or failed start. */
export interface Listener {
  readonly name: string;
  /** Resolves once listening; rejects (for example EADDRINUSE) without leaving a server behind. */
  start(): Promise<void>;
  /**
   * Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes what is left.
   * Idempotent.
   */
  stop(graceMs: number): Promise<void>;
  /** The bound address; throws before start. */
  address(): AddressInfo;
}
