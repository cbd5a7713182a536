/**
 * Header rules at the proxy boundary (RFC 9110 §7.6, RFC 7239 conventions as practised by nginx and Envoy).
 *
 * Request, client → upstream:
 *   - hop-by-hop headers (and any named in `Connection`) are dropped;
 *   - `Host` becomes the target's host unless the service preserves the client's;
 *   - `X-Forwarded-For` gets the client address appended when the client is a trusted proxy, and is
 *     replaced by it otherwise; `X-Forwarded-Proto` and `X-Forwarded-Host` likewise are only kept from
 *     trusted proxies; an untrusted `Forwarded` header is dropped;
 *   - `Via` gets "1.1 portcullis" appended; `X-Request-Id` is set to the request's id;
 *   - the service's configured headers are set last and win.
 *   - `X-Forwarded-Client-Cert` from a client is always dropped: only the gateway asserts identities;
 *   - from HTTP/2 clients: pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) are never
 *     forwarded as headers (the authority is the Host), and split `Cookie` fields are joined with "; "
 *     (RFC 9113 §8.2.3), as the upstream request is HTTP/1.1.
 * Response, upstream → client: hop-by-hop headers are dropped.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Request headers the proxy sets itself; incoming values are dropped (or merged when trusted). */
const REWRITTEN = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via', 'x-request-id']);

/**
 * Headers only the gateway may assert, dropped from every client request whatever the trust: the
 * client-certificate identity (forward-client-cert plugin) and the authenticated caller (service
 * `access.forwardIdentity`) are the gateway's own truth.
 */
export const IDENTITY_HEADERS = ['x-portcullis-tenant', 'x-portcullis-application', 'x-portcullis-credential', 'x-portcullis-auth-method'] as const;
const GATEWAY_ONLY = new Set<string>(['x-forwarded-client-cert', ...IDENTITY_HEADERS]);

export interface ForwardInput {
  /** `req.rawHeaders`: name, value, name, value… */
  rawHeaders: readonly string[];
  clientIp: string;
  /** Whether the direct peer is a trusted proxy whose forwarding headers are kept. */
  trustedPeer: boolean;
  /** "https" or "http": how the client reached the gateway. */
  proto: string;
  /** The Host header as received (with port). */
  host: string;
  /** Host header for the upstream, or undefined to keep the client's. */
  upstreamHost: string | undefined;
  requestId: string;
  /** Headers configured on the service, already lower-cased; they win over the client's. */
  extra: ReadonlyArray<readonly [string, string]>;
  /** Plugin edits (lower-case name → value, null removes); they win over everything. */
  edits: ReadonlyMap<string, string | null> | undefined;
  /** Client headers the gateway consumed (verified credentials): dropped; `extra` and `edits` still apply. */
  consumed?: ReadonlySet<string> | undefined;
  /** Protocol token for Via ("1.1" or "2.0"). */
  httpVersion: string;
}

/** Lower-case names listed in a Connection header (beyond close / keep-alive). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const name = t.trim().toLowerCase();
      if (name && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/** Builds the upstream request headers as a flat [name, value, …] array for undici. */
export function upstreamRequestHeaders(input: ForwardInput): string[] {
  const raw = input.rawHeaders;
  const dropped = connectionTokens(raw);
  const out: string[] = [];
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let via: string | undefined;
  let forwarded: string | undefined;
  let h2Cookie: string | undefined;
  const h2 = input.httpVersion === '2.0';
  const edits = input.edits;
  const consumed = input.consumed;
  const extraNames = input.extra.length > 0 ? new Set(input.extra.map(([n]) => n)) : undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-header
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (HOP_BY_HOP.has(name) || GATEWAY_ONLY.has(name) || dropped?.has(name) || extraNames?.has(name) || edits?.has(name) || consumed?.has(name)) continue;
    if (REWRITTEN.has(name)) {
      if (name === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (name === 'x-forwarded-proto') xfProto ??= value;
      else if (name === 'x-forwarded-host') xfHost ??= value;
      else if (name === 'via') via = via === undefined ? value : `${via}, ${value}`;
      else if (name === 'forwarded') forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
      continue;
    }
    if (h2 && name === 'cookie') {
      h2Cookie = h2Cookie === undefined ? value : `${h2Cookie}; ${value}`;
      continue;
    }
    out.push(raw[i]!, value);
  }
  if (h2Cookie !== undefined) out.push('cookie', h2Cookie);
  const trusted = input.trustedPeer;
  out.push('host', input.upstreamHost ?? input.host);
  out.push('x-forwarded-for', trusted && xff ? `${xff}, ${input.clientIp}` : input.clientIp);
  out.push('x-forwarded-proto', trusted && xfProto ? xfProto : input.proto);
  out.push('x-forwarded-host', trusted && xfHost ? xfHost : input.host);
  if (trusted && forwarded) out.push('forwarded', forwarded);
  const hop = `${input.httpVersion} portcullis`;
  out.push('via', via ? `${via}, ${hop}` : hop);
  out.push('x-request-id', input.requestId);
  for (const [n, v] of input.extra) if (!edits?.has(n)) out.push(n, v);
  if (edits) {
    for (const [n, v] of edits) {
      if (v === null) continue;
      const at = REWRITTEN.has(n) ? out.indexOf(n) : -1;
      if (at >= 0 && at % 2 === 0) out[at + 1] = v;
      else out.push(n, v);
    }
  }
  return out;
}

/**
 * Copies upstream response headers onto a plain object for `writeHead`, without hop-by-hop headers
 * (nor those named in the upstream's Connection header).
 */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  const conn = headers['connection'];
  const dropped = typeof conn === 'string' && conn !== 'keep-alive' && conn !== 'close' ? new Set(conn.split(',').map((t) => t.trim().toLowerCase())) : undefined;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || dropped?.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}
