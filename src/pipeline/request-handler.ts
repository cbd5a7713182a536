import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { gatewayError } from '../core/errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { stillTrusted } from '../tls/client-auth.js';
import type { ConnectionTls } from '../tls/tls-edge.js';
import { runRequestHooks, type HookChain } from './compiled-route.js';
import { RequestContext, requestAuthority } from './context.js';

export interface RequestHandlerDeps {
  /** Read once per request: the request keeps the snapshot it started with. */
  readonly snapshots: { readonly current: Snapshot | undefined };
  readonly logger: Logger;
  /** True while shutting down: responses then carry `Connection: close`. */
  readonly isDraining: () => boolean;
  /**
   * The gateway's own endpoints under `/_portcullis/` (OAuth2 token and keys), tried before routing;
   * returns true when it answered.
   */
  readonly internal?: ((ctx: RequestContext, snapshot: Snapshot) => boolean) | undefined;
}

const INTERNAL_PREFIX = '/_portcullis/';

const kContext = Symbol('portcullis.context');

const REQUEST_ID_RE = /^[A-Za-z0-9._:@/+=-]{1,200}$/;

/** A client-supplied id is kept when it is short and printable; otherwise a UUID is generated. */
function requestIdOf(req: IncomingMessage): string {
  const v = req.headers['x-request-id'];
  return typeof v === 'string' && REQUEST_ID_RE.test(v) ? v : randomUUID();
}

/** Lower-case host without port ("[::1]:8443" → "[::1]"). */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const end = header.charCodeAt(0) === 91 /* [ */ ? header.indexOf(']') + 1 : header.indexOf(':');
  return (end > 0 ? header.slice(0, end) : header).toLowerCase();
}

/** Paths with dot segments, doubled slashes or encoded dots are normalised before routing. */
export function normalisePath(path: string): string {
  if (!path.includes('/.') && !path.includes('//') && !/%2e/i.test(path)) return path;
  const resolved = new URL(path.replace(/\/{2,}/g, '/'), 'http://n').pathname;
  return resolved.replace(/\/{2,}/g, '/');
}

/**
 * The nearest address in X-Forwarded-For that is not a trusted proxy (walking from the right, the
 * hop closest to the gateway), or the leftmost when every hop is trusted; undefined without one.
 */
export function forwardedOrigin(header: string | string[] | undefined, trusted: (address: string) => boolean): string | undefined {
  if (header === undefined) return undefined;
  const hops = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.startsWith('::ffff:') ? hops[i]!.slice(7) : hops[i]!;
    if (isIP(hop) === 0) return undefined; // not an address: do not trust anything further left
    if (!trusted(hop)) return hop;
  }
  return hops.length > 0 ? hops[0] : undefined;
}

function clientIpOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * A request must be for the TLS domain its connection was admitted to: a connection (or a resumed
 * session, or an HTTP/2 connection reused across names) admitted under one domain's policy does not
 * vouch for another domain's hosts. On an mTLS domain the Host must also be the SNI name itself.
 */
function misdirected(tls: ConnectionTls, host: string, snapshot: Snapshot): boolean {
  const hostDomain = snapshot.tls?.resolve(host);
  if (hostDomain !== undefined && (hostDomain.tenant !== tls.domain.tenant || hostDomain.name !== tls.domain.name)) return true;
  return tls.domain.clientAuth.mode !== 'off' && tls.servername !== undefined && host !== tls.servername;
}

const kCheckedIn = Symbol('portcullis.checkedIn');

type ConnectionRefusal = 'CLIENT_CERT_REVOKED' | 'CLIENT_CERT_UNTRUSTED' | 'CLIENT_CERT_REQUIRED';

/**
 * Why a TLS connection admitted under an earlier configuration may no longer be served, or
 * undefined: its client certificate was revoked; its domain no longer trusts the certificate's
 * issuer (a CA removed or no longer shared); its domain now requires a certificate the connection
 * did not present; or its mutual-TLS domain is gone. New connections meet all of these in the
 * handshake. Checked once per connection and snapshot.
 */
function connectionRefusal(tls: ConnectionTls & { [kCheckedIn]?: Snapshot }, snapshot: Snapshot): ConnectionRefusal | undefined {
  if (tls[kCheckedIn] === snapshot) return undefined;
  const cert = tls.clientCert;
  if (cert !== undefined && snapshot.pki?.revokedFingerprints.has(cert.fingerprint256)) return 'CLIENT_CERT_REVOKED';
  const admitted = tls.domain.clientAuth;
  const current = snapshot.tls?.resolve(tls.servername)?.clientAuth;
  if (current !== admitted) {
    if (current === undefined) {
      if (admitted.mode !== 'off') return 'CLIENT_CERT_UNTRUSTED';
    } else if (cert !== undefined) {
      if (!stillTrusted(cert, current)) return 'CLIENT_CERT_UNTRUSTED';
    } else if (current.mode === 'required') {
      return 'CLIENT_CERT_REQUIRED';
    }
  }
  tls[kCheckedIn] = snapshot;
  return undefined;
}

/**
 * The HTTP entry point of the data plane: route, request phases, terminal handler; log phase on close.
 * Never throws: every failure becomes a registry error response (or a cut stream once it started).
 */
export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger } = deps;

  /** The one 'close' listener every response shares (no closure per request). */
  function onResponseClose(this: ServerResponse & { [kContext]?: RequestContext }): void {
    const ctx = this[kContext];
    if (!ctx) return;
    this[kContext] = undefined;
    ctx.onClientClose?.();
    runLog(ctx, ctx.logChain);
  }

  function runLog(ctx: RequestContext, chain: HookChain | undefined): void {
    if (!chain) return;
    for (const hook of chain.log) {
      try {
        hook(ctx);
      } catch (err) {
        logger.error({ err, requestId: ctx.requestId }, 'log hook failed');
      }
    }
  }

  return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const snapshot = deps.snapshots.current;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    const ctx = new RequestContext(req, res, requestIdOf(req), clientIpOf(req), path, query, hostOf(requestAuthority(req)), performance.now(), Date.now());
    ctx.isDraining = deps.isDraining;
    if (!snapshot) {
      ctx.fail(gatewayError('NOT_READY'));
      return;
    }
    ctx.logChain = snapshot.globalChain;
    if (snapshot.proxy.isTrustedPeer(ctx.clientIp)) {
      ctx.trustedPeer = true;
      ctx.originIp = forwardedOrigin(req.headers['x-forwarded-for'], snapshot.proxy.isTrustedPeer) ?? ctx.clientIp;
    }
    (res as ServerResponse & { [kContext]?: RequestContext })[kContext] = ctx;
    res.on('close', onResponseClose);
    if (path.charCodeAt(0) !== 47 /* / */) {
      ctx.fail(gatewayError('BAD_REQUEST', 'Request target must be an absolute path'));
      return;
    }
    try {
      path = normalisePath(path);
    } catch {
      ctx.fail(gatewayError('BAD_REQUEST', 'Malformed request path'));
      return;
    }
    ctx.path = path;
    const tls = ctx.tls;
    if (tls !== undefined && misdirected(tls, ctx.host, snapshot)) {
      ctx.fail(gatewayError('MISDIRECTED_REQUEST', `Host "${ctx.host}" does not match the TLS server name of this connection`));
      return;
    }
    if (deps.internal !== undefined && path.startsWith(INTERNAL_PREFIX) && deps.internal(ctx, snapshot)) return;
    // A connection the configuration no longer admits (see connectionRefusal): refused from its next
    // request on, and closed.
    const refusal = tls !== undefined ? connectionRefusal(tls, snapshot) : undefined;
    if (refusal !== undefined) {
      const socket = ctx.socket;
      res.once('finish', () => socket.destroy());
      ctx.fail(gatewayError(refusal));
      return;
    }
    const method = req.method ?? 'GET';
    const hit = snapshot.router.match(method, ctx.host, path);
    if (!hit) {
      const allowed = snapshot.router.allowedMethods(ctx.host, path);
      if (allowed.length > 0) {
        res.setHeader('allow', allowed.join(', '));
        ctx.fail(gatewayError('METHOD_NOT_ALLOWED', `Method ${method} is not allowed here; allowed: ${allowed.join(', ')}`));
      } else {
        ctx.fail(gatewayError('ROUTE_NOT_FOUND'));
      }
      return;
    }
    const route = hit.value;
    ctx.route = route;
    ctx.logChain = route.chain;
    if (route.stripPath && hit.match === 'prefix' && hit.pattern !== '/') {
      const rest = path.slice(hit.pattern.length);
      ctx.upstreamPath = rest.length === 0 ? '/' : rest;
    } else {
      ctx.upstreamPath = path;
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > snapshot.proxy.maxBodyBytes) {
      if (req.httpVersionMajor < 2) res.setHeader('connection', 'close');
      ctx.fail(gatewayError('BODY_TOO_LARGE', `Request body exceeds the limit of ${snapshot.proxy.maxBodyBytes} bytes`));
      return;
    }
    try {
      const pending = runRequestHooks(route.chain.request, ctx);
      if (pending) {
        pending.then(
          () => (ctx.responded ? undefined : route.chain.handler(ctx)),
          (err: unknown) => fail(ctx, err),
        ).catch((err: unknown) => fail(ctx, err));
      } else if (!ctx.responded) {
        route.chain.handler(ctx).catch((err: unknown) => fail(ctx, err));
      }
    } catch (err) {
      fail(ctx, err);
    }
  };

  function fail(ctx: RequestContext, err: unknown): void {
    const ge = ctx.error ?? undefined;
    if (!ge && !(err instanceof Error && err.name === 'GatewayError')) logger.error({ err, requestId: ctx.requestId }, 'request failed');
    ctx.fail(err);
  }
}
