/**
 * Response classes of the TLS listeners. Every response, whoever writes it (the proxy, a plugin, the
 * gateway's own JSON errors, the admin API), passes through `writeHead` (Node calls it for implicit
 * headers too), which is where the listener's policy is applied:
 *
 *   - `Strict-Transport-Security` is the listener's value (when HSTS is enabled), replacing any value
 *     an upstream or plugin set: the edge owns the transport policy;
 *   - on HTTP/2 only, connection-specific header fields (`Connection`, `Keep-Alive`,
 *     `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, `TE`; RFC 9113 §8.2.2) are dropped, header
 *     values that are `undefined` are skipped, and headers HTTP/2 allows only once that arrive as arrays
 *     are collapsed to their last value, so code written for HTTP/1.1 (`writeHead` with header objects
 *     or arrays, `setHeader('connection', 'close')`) never breaks an HTTP/2 stream.
 *
 * On HTTP/2, once a response is complete while the client is still sending its request body (an
 * early error such as 413, an upstream answering before reading everything), the stream is closed with
 * RST_STREAM(NO_ERROR) (RFC 9113 §8.1): the HTTP/1.1 equivalent is `Connection: close`. Node does this
 * itself only when the body was never read.
 *
 * Node creates these through the server's `Http1ServerResponse` / `Http2ServerResponse` options.
 */

import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { constants as h2, Http2ServerResponse, type Http2ServerRequest, type ServerHttp2Stream } from 'node:http2';

const HSTS = 'strict-transport-security';

/** Connection-specific fields: meaningless in HTTP/2, and a protocol error if sent (RFC 9113 §8.2.2). */
export const H2_CONNECTION_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

/** Response fields Node's HTTP/2 layer refuses as arrays (ERR_HTTP2_HEADER_SINGLE_VALUE). */
const H2_SINGLE_VALUE = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

type HeadersArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

/** Any `writeHead` headers argument (object, flat array, array of pairs) as [name, value] pairs. */
function pairsOf(headers: HeadersArg): Array<[string, OutgoingHttpHeader | undefined]> {
  if (!headers) return [];
  if (!Array.isArray(headers)) return Object.entries(headers);
  const out: Array<[string, OutgoingHttpHeader | undefined]> = [];
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const pair of headers as unknown as Array<[string, OutgoingHttpHeader]>) out.push([String(pair[0]), pair[1]]);
  } else {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([String(headers[i]), headers[i + 1]]);
  }
  return out;
}

/** Removes HSTS from a headers argument (case-insensitively), copying only when it is present. */
function withoutHsts(headers: HeadersArg): HeadersArg {
  if (!headers) return headers;
  if (!Array.isArray(headers)) {
    let found = false;
    for (const k in headers) if (k.length === HSTS.length && k.toLowerCase() === HSTS) found = true;
    if (!found) return headers;
    const out: OutgoingHttpHeaders = {};
    for (const k in headers) if (k.toLowerCase() !== HSTS) out[k] = headers[k];
    return out;
  }
  const pairs = pairsOf(headers);
  if (!pairs.some(([k]) => k.toLowerCase() === HSTS)) return headers;
  const out: OutgoingHttpHeader[] = [];
  for (const [k, v] of pairs) if (k.toLowerCase() !== HSTS && v !== undefined) out.push(k, v as string);
  return out as OutgoingHttpHeader[];
}

/** An HTTP/2-safe copy of a headers argument (see the module comment). */
function h2Headers(headers: HeadersArg, dropHsts: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [rawName, value] of pairsOf(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (H2_CONNECTION_HEADERS.has(name) || (dropHsts && name === HSTS)) continue;
    const prev = out[name];
    let next: OutgoingHttpHeader = prev === undefined ? value : ([] as string[]).concat(prev as string | string[], value as string | string[]);
    if (Array.isArray(next)) {
      if (next.length === 0) continue;
      if (H2_SINGLE_VALUE.has(name)) next = next[next.length - 1]!;
    }
    out[name] = next;
  }
  return out;
}

function splitStatusArgs(a: unknown, b: unknown): { reason: string | undefined; headers: HeadersArg } {
  return typeof a === 'string' ? { reason: a, headers: b as HeadersArg } : { reason: undefined, headers: a as HeadersArg };
}

/**
 * After a complete response: ask a client still sending its request body to stop, and release a body
 * that arrived but was not read (see module comment).
 */
function closeUnfinishedRequest(this: ServerHttp2Stream): void {
  // The same deferral Node uses before closing a stream whose body was never read.
  setImmediate(() => {
    if (this.closed || this.destroyed || this.readableEnded) return;
    this.close(h2.NGHTTP2_NO_ERROR);
    // Node destroys a stream closed with NO_ERROR only once its readable side has been consumed to the
    // end; a handler that stopped reading (or destroyed the request) never will: discard the rest.
    this.removeAllListeners('data');
    this.resume();
  });
}

export interface ResponsePolicy {
  /** `Strict-Transport-Security` value for every response, or undefined for none. */
  readonly hsts: string | undefined;
}

/** The HTTP/1.1 response class for a listener (Node's own when there is nothing to apply). */
export function http1ResponseClass(policy: ResponsePolicy): typeof ServerResponse {
  const hsts = policy.hsts;
  if (hsts === undefined) return ServerResponse;
  class PolicyServerResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {}
  const base = ServerResponse.prototype.writeHead as (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse;
  Object.defineProperty(PolicyServerResponse.prototype, 'writeHead', {
    configurable: true,
    writable: true,
    value: function writeHead(this: ServerResponse, statusCode: number, a?: unknown, b?: unknown) {
      const { reason, headers } = splitStatusArgs(a, b);
      let rest: HeadersArg;
      if (headers && !Array.isArray(headers)) {
        // The policy's header joins the caller's object: with no header set before, Node then takes
        // the object as it is instead of calling setHeader for each of its headers.
        const out: OutgoingHttpHeaders = { [HSTS]: hsts };
        for (const k in headers) if (!(k.length === HSTS.length && k.toLowerCase() === HSTS)) out[k] = headers[k];
        rest = out;
      } else {
        if (!this.headersSent) this.setHeader(HSTS, hsts);
        rest = withoutHsts(headers);
      }
      return reason === undefined ? base.call(this, statusCode, rest) : base.call(this, statusCode, reason, rest);
    },
  });
  return PolicyServerResponse as typeof ServerResponse;
}

/** The HTTP/2 response class for a listener: HSTS plus the HTTP/2 header hygiene. */
export function http2ResponseClass(policy: ResponsePolicy): typeof Http2ServerResponse {
  const hsts = policy.hsts;
  class PolicyHttp2Response<Req extends Http2ServerRequest = Http2ServerRequest> extends Http2ServerResponse<Req> {}
  const proto = Http2ServerResponse.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const baseWriteHead = proto.writeHead!;
  const baseSetHeader = proto.setHeader!;
  const baseAppendHeader = proto.appendHeader!;
  const baseEnd = proto.end!;
  Object.defineProperties(PolicyHttp2Response.prototype, {
    writeHead: {
      configurable: true,
      writable: true,
      value: function writeHead(this: Http2ServerResponse, statusCode: number, a?: unknown, b?: unknown) {
        // A status message is not part of HTTP/2 (Node would warn): it is dropped.
        const { headers } = splitStatusArgs(a, b);
        const safe = h2Headers(headers, hsts !== undefined);
        if (hsts !== undefined && !this.headersSent && !this.stream.destroyed) baseSetHeader.call(this, HSTS, hsts);
        return baseWriteHead.call(this, statusCode, safe);
      },
    },
    setHeader: {
      configurable: true,
      writable: true,
      value: function setHeader(this: Http2ServerResponse, name: string, value: unknown) {
        if (typeof name === 'string' && H2_CONNECTION_HEADERS.has(name.trim().toLowerCase())) return this;
        return baseSetHeader.call(this, name, value);
      },
    },
    appendHeader: {
      configurable: true,
      writable: true,
      value: function appendHeader(this: Http2ServerResponse, name: string, value: unknown) {
        if (typeof name === 'string' && H2_CONNECTION_HEADERS.has(name.trim().toLowerCase())) return this;
        return baseAppendHeader.call(this, name, value);
      },
    },
    end: {
      configurable: true,
      writable: true,
      value: function end(this: Http2ServerResponse, ...args: unknown[]) {
        const stream = this.stream;
        const first = !this.writableEnded;
        const r = baseEnd.apply(this, args);
        if (first && !stream.destroyed && !stream.closed) {
          if (stream.writableFinished) closeUnfinishedRequest.call(stream);
          else stream.once('finish', closeUnfinishedRequest);
        }
        return r;
      },
    },
    // http.ServerResponse has `destroyed`; Node's HTTP/2 compatibility response does not. Code written
    // for HTTP/1.1 (`if (res.destroyed) …`) reads the stream's state through this.
    destroyed: {
      configurable: true,
      get(this: Http2ServerResponse) {
        return this.stream.destroyed;
      },
    },
  });
  return PolicyHttp2Response as typeof Http2ServerResponse;
}
