/**
 * One buffered provider exchange through `Dispatcher.dispatch`, as the proxy route sends upstream
 * calls: no URL parsing per call beyond the path, no response stream and no `AsyncResource` — the
 * answer's bytes are collected as they arrive and handed over once, whole. For answers read whole
 * (JSON); streams go through undici's `request()` (provider-http.ts).
 */

import type { Dispatcher } from 'undici';
import type { AttemptIo } from './provider.js';

/** Response headers as undici hands them to a dispatch handler (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A provider's whole answer. */
export interface BufferedAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The body's bytes; for a non-2xx answer at most the `errorCap` first ones. */
  readonly body: Buffer;
}

/** What one exchange sends: dispatch options without the handler-side settings. */
export interface ExchangeRequest {
  readonly origin: string;
  readonly path: string;
  readonly method: 'POST' | 'GET';
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | undefined;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
}

/**
 * Sends `req` through `dispatcher` and resolves with the whole answer, whatever its status. Rejects
 * with undici's error on a network failure or timeout, and with the abort reason when the attempt
 * is aborted first (`io.onAbort`; the request is then cancelled). A body beyond `errorCap` bytes on
 * a non-2xx answer is read and discarded, so the connection stays reusable.
 */
export function exchange(dispatcher: Dispatcher, req: ExchangeRequest, io: Pick<AttemptIo, 'onAbort'>, errorCap: number): Promise<BufferedAnswer> {
  return new Promise<BufferedAnswer>((resolve, reject) => {
    const handler = new BufferingHandler(errorCap, resolve, reject);
    handler.unwatch = io.onAbort((reason) => handler.abort(reason));
    if (!handler.settled) dispatcher.dispatch(req, handler);
  });
}

/** Collects one answer; settles its promise exactly once (answer, failure or abort). */
class BufferingHandler implements Dispatcher.DispatchHandler {
  settled = false;
  /** Stops watching the attempt's abort; set right after construction. */
  unwatch: () => void = () => undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private status = 0;
  private headers: ResponseHeaders = {};
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly errorCap: number,
    private readonly resolve: (a: BufferedAnswer) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  /** The attempt was aborted: cancel the request (now, or once undici hands over its controller) and reject. */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.abortReason = reason instanceof Error ? reason : new Error('The request was cancelled');
    this.controller?.abort(this.abortReason);
    this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: ResponseHeaders): void {
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status >= 300 && this.size >= this.errorCap) return;
    this.parts.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.done();
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.resolve({ status: this.status, headers: this.headers, body: this.status >= 300 ? body.subarray(0, this.errorCap) : body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.done();
    this.reject(err);
  }

  private done(): void {
    this.settled = true;
    this.unwatch();
  }
}
