/**
 * Writing LLM answers to the client: JSON answers and errors in the client's format, and streams
 * written event by event with backpressure, ended by the format's closing or error event. Response
 * headers say who answered: `x-portcullis-provider`, `x-portcullis-deployment`,
 * `x-portcullis-attempts`, and `x-portcullis-cache` (hit, miss) when the cache is on.
 */

import type { ServerResponse } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import type { RequestContext } from '../../pipeline/context.js';
import { ProviderError } from '../providers/provider.js';
import { ClientLink } from '../routing/client-link.js';
import type { ChatChunk, Usage } from '../wire/chat.js';
import type { ClientFormat, StreamEncoder } from './client-format.js';

export interface AnswerInfo {
  readonly provider: string;
  readonly deployment: string;
  readonly attempts: number;
  readonly cache?: 'hit' | 'miss' | undefined;
}

/** What a stream delivered, for usage: text and tool arguments sent, the provider's usage, how it ended. */
export interface StreamState {
  text: string;
  usage: Usage | undefined;
  error: ProviderError | undefined;
  aborted: boolean;
}

function infoHeaders(info: AnswerInfo, headers: Record<string, string | string[] | undefined>): void {
  headers['x-portcullis-provider'] = info.provider;
  headers['x-portcullis-deployment'] = info.deployment;
  headers['x-portcullis-attempts'] = String(info.attempts);
  if (info.cache) headers['x-portcullis-cache'] = info.cache;
}

/** A {@link ClientLink} for the client going away, wired to the request's close hook until `done()`. */
export function clientAbort(ctx: RequestContext): { link: ClientLink; done(): void } {
  const link = new ClientLink();
  ctx.onClientClose = () => link.leave(new ProviderError('connection', 499, 'api_error', 'The client closed the connection'));
  return {
    link,
    done: () => {
      ctx.onClientClose = undefined;
    },
  };
}

/** A 200 JSON answer; `info` (who answered) is absent for the gateway's own answers (model lists). */
export function sendJsonAnswer(ctx: RequestContext, body: unknown, info?: AnswerInfo): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[] | undefined> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  if (info) infoHeaders(info, headers);
  ctx.finalHeaders(headers);
  ctx.responded = true;
  ctx.res.writeHead(200, headers);
  ctx.res.end(text);
}

/** An error in the client's format, with the provider's status (and Retry-After on 429/503). */
/**
 * What the client is told about a failure. A provider refusing the gateway's own key (401/403) is
 * the gateway's problem, not the caller's: it becomes a 502 without the provider's text (which may
 * quote part of the key, as OpenAI's "Incorrect API key provided: sk-…" does).
 */
function clientFacing(e: ProviderError | GatewayError): ProviderError | GatewayError {
  if (!(e instanceof ProviderError) || e.kind !== 'status' || (e.status !== 401 && e.status !== 403)) return e;
  return new ProviderError('status', 502, 'api_error', `The provider refused the gateway's credentials (HTTP ${e.status}); an administrator must check this provider's keys`);
}

export function sendError(ctx: RequestContext, format: ClientFormat, failure: ProviderError | GatewayError): void {
  const res = ctx.res;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const e = clientFacing(failure);
  const code = e instanceof GatewayError ? e.code : e.options.code;
  const text = format.errorBody(e.status, e.type, e.message, code);
  const headers: Record<string, string | string[] | undefined> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  if (e instanceof ProviderError && e.retryAfterMs !== undefined && (e.status === 429 || e.status === 503)) headers['retry-after'] = String(Math.ceil(e.retryAfterMs / 1000));
  ctx.finalHeaders(headers);
  ctx.responded = true;
  res.writeHead(e.status === 499 ? 400 : e.status, headers);
  res.end(text);
}

function drain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function track(state: StreamState, chunk: ChatChunk): void {
  if (chunk.usage) state.usage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta.content) state.text += c.delta.content;
    if (c.delta.tool_calls) for (const t of c.delta.tool_calls) state.text += (t.function?.name ?? '') + (t.function?.arguments ?? '');
  }
}

/** Resolves on the next tick, after the uncork Node's response queued for what was written before. */
function nextTick(): Promise<void> {
  return new Promise<void>((resolve) => process.nextTick(resolve));
}

/**
 * Writes a stream whose first chunk has arrived: head, then each chunk as the encoder frames it.
 * Frames up to the first one with text (the first token) are written at once and let leave before
 * anything else is translated; after that, the frames translated in one run (the events of one
 * network read from the provider) are written together, in one write on the next tick — when Node
 * would have sent them anyway — instead of one chunked write per frame. Reading from the provider
 * waits while the client is not taking what was written (backpressure). A provider failure after
 * this point ends the stream with the format's error event (the status can no longer change); the
 * client going away stops reading from the provider.
 */
export async function writeStreamed(
  ctx: RequestContext,
  it: AsyncIterator<ChatChunk>,
  first: IteratorResult<ChatChunk>,
  enc: StreamEncoder,
  state: StreamState,
  info: AnswerInfo,
): Promise<void> {
  const res = ctx.res;
  const headers: Record<string, string | string[] | undefined> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };
  infoHeaders(info, headers);
  ctx.finalHeaders(headers);
  ctx.responded = true;
  res.writeHead(200, headers);
  let r = first;
  let firstToken = false;
  /** Frames translated since the last write, written by `flush` on the next tick. */
  let pending = '';
  let blocked: Promise<void> | undefined;
  const flush = (): void => {
    if (pending === '' || res.writableEnded || res.destroyed) return;
    const text = pending;
    pending = '';
    if (!res.write(text)) blocked ??= drain(res);
  };
  try {
    while (!r.done) {
      track(state, r.value);
      const text = enc.push(r.value);
      if (text && firstToken) {
        if (pending === '') process.nextTick(flush);
        pending += text;
      } else if (text) {
        if (!res.write(text)) blocked ??= drain(res);
        if (state.text !== '') {
          firstToken = true;
          // Let the first token leave now: the response uncorks on the next tick, which a run of
          // already-buffered provider events (resolved promises) would otherwise hold back.
          await nextTick();
        }
      }
      if (blocked) {
        await blocked;
        blocked = undefined;
      }
      if (res.destroyed) {
        state.aborted = true;
        return;
      }
      r = await it.next();
    }
    const rest = pending;
    pending = '';
    res.end(rest + enc.end());
  } catch (err) {
    if (res.destroyed) {
      state.aborted = true;
      return;
    }
    const e = err instanceof ProviderError ? err : new ProviderError('protocol', 502, 'api_error', 'The provider stream failed', { cause: err });
    state.error = e;
    const rest = pending;
    pending = '';
    res.end(rest + enc.error(e.status, e.type, e.message));
  } finally {
    if (!r.done) void it.return?.()?.catch(() => undefined);
  }
}
