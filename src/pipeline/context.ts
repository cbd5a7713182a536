import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { toGatewayError, type GatewayError } from '../core/errors.js';
import { connectionSocketOf } from '../listeners/connection-socket.js';
import type { Caller } from '../auth/caller.js';
import type { ClientCertificate } from '../tls/client-certificate.js';
import { connectionTls, type ConnectionTls } from '../tls/tls-edge.js';
import type { CompiledRoute, HookChain } from './compiled-route.js';

/** What a request carries across phases. One instance per request; fields are filled as phases run. */
const notDraining = (): boolean => false;

/**
 * The authority the client asked for, with port: HTTP/2's `:authority` pseudo-header (RFC 9113
 * §8.3.1: it takes the place of Host), else the Host header.
 */
export function requestAuthority(req: IncomingMessage): string | undefined {
  const authority = req.headers[':authority'];
  return typeof authority === 'string' && authority !== '' ? authority : req.headers.host;
}

export class RequestContext {
  /** `process.hrtime.bigint()`-free monotonic start, in ms (performance.now()). */
  readonly startedAt: number;
  /** Wall-clock start, ms since epoch. */
  readonly startedAtEpoch: number;
  /** Path without query, normalised (dot segments resolved). What routing saw. */
  path: string;
  /** Query string including the leading "?", or "". */
  query: string;
  /** Lower-case host without port. */
  host: string;
  route: CompiledRoute | undefined = undefined;
  /** The path to send upstream (after stripPath), without query. */
  upstreamPath: string;
  /** Chosen upstream target origin (for logs). */
  upstreamTarget: string | undefined = undefined;
  /** performance.now() when the upstream request was dispatched, and when its headers arrived. */
  upstreamStartedAt = 0;
  upstreamHeadersAt = 0;
  /** Request body bytes read from the client, response body bytes written to it. */
  bytesIn = 0;
  bytesOut = 0;
  /**
   * Called when the client connection closes, before the log phase: the terminal handler sets it
   * while an upstream exchange runs (to abort it) and clears it when done. One listener per request.
   */
  onClientClose: (() => void) | undefined = undefined;
  /** The hooks whose `log` phase runs for this request: the route's chain, or the global one before routing. */
  logChain: HookChain | undefined = undefined;
  /**
   * The client's address as far as the gateway can tell: the direct peer, or, when the peer is a
   * trusted proxy, the nearest untrusted address of its X-Forwarded-For. What failure limits and the
   * audit trail count (behind a load balancer, the peer is the balancer for everyone).
   */
  originIp: string;
  /** Whether the direct peer is a trusted proxy (its forwarding headers are believed). Set once by the request handler. */
  trustedPeer = false;
  /** The authenticated caller, once the authenticate phase identified one. */
  caller: Caller | undefined = undefined;
  /** Set once a response (success or error) has been started by any phase. */
  responded = false;
  /** The error that ended the request, when one did. */
  error: GatewayError | undefined = undefined;
  /**
   * Upstream request header edits made by plugins (lower-case name → value, or null to remove). Applied
   * by the proxy after its own header rules, so they win.
   */
  upstreamHeaderEdits: Map<string, string | null> | undefined = undefined;
  /**
   * Client request headers the gateway consumed (credentials it verified): the client's copies are
   * not forwarded upstream. Headers the service itself configures are unaffected.
   */
  consumedHeaders: Set<string> | undefined = undefined;
  /** Per-request values plugins share with later phases, keyed by plugin name. Created lazily. */
  private localsStore: Map<string, unknown> | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly clientIp: string,
    path: string,
    query: string,
    host: string,
    now: number,
    nowEpoch: number,
  ) {
    this.socket = connectionSocketOf(req);
    this.originIp = clientIp;
    this.path = path;
    this.upstreamPath = path;
    this.query = query;
    this.host = host;
    this.startedAt = now;
    this.startedAtEpoch = nowEpoch;
  }

  /** True while the gateway shuts down: responses then close their connection. Set by the request handler. */
  isDraining: () => boolean = notDraining;
  /**
   * The client connection, captured at start (Node detaches it from `req` once the exchange ends).
   * For HTTP/2, the session's TLS socket (never write to it: the session owns it).
   */
  readonly socket: Socket;

  /** The TLS socket when the request arrived over TLS. */
  get tlsSocket(): TLSSocket | undefined {
    const s = this.socket as TLSSocket;
    return s.encrypted ? s : undefined;
  }

  /**
   * Response headers every response of this request must carry (request id; `Connection: close` while
   * draining, on HTTP/1.1 only: HTTP/2 has no connection header, its sessions drain with GOAWAY).
   */
  finalHeaders(headers: Record<string, string | string[] | undefined>): void {
    headers['x-request-id'] = this.requestId;
    if (this.isDraining() && this.req.httpVersionMajor < 2) headers.connection = 'close';
  }

  /** Marks a client request header as consumed (see {@link consumedHeaders}). `name` must be lower-case. */
  consumeRequestHeader(name: string): void {
    (this.consumedHeaders ??= new Set()).add(name);
  }

  /** Sets (or with null, removes) a header on the upstream request. `name` must be lower-case. */
  setUpstreamHeader(name: string, value: string | null): void {
    (this.upstreamHeaderEdits ??= new Map()).set(name, value);
  }

  /** The connection's TLS facts from the edge: domain, server name, verified client certificate. */
  get tls(): ConnectionTls | undefined {
    return connectionTls(this.socket);
  }

  /** The verified client certificate (mutual TLS), when the connection presented one. */
  get clientCert(): ClientCertificate | undefined {
    return connectionTls(this.socket)?.clientCert;
  }

  locals<T>(key: string): T | undefined {
    return this.localsStore?.get(key) as T | undefined;
  }

  setLocal(key: string, value: unknown): void {
    (this.localsStore ??= new Map()).set(key, value);
  }

  /**
   * Ends the request with a registry error as JSON. When the response has already started, the
   * connection is cut instead (the status can no longer change). Never throws.
   */
  fail(err: unknown): void {
    const ge = toGatewayError(err);
    this.error ??= ge;
    const res = this.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    this.responded = true;
    const body = ge.toJSONString();
    res.statusCode = ge.status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('x-request-id', this.requestId);
    // A request body left unread would desynchronise a keep-alive connection: close it instead.
    // (HTTP/2 has no connection header: an unread body only holds its own stream, which the listener
    // closes with RST_STREAM(NO_ERROR) once this response is complete.)
    if ((!this.req.complete || this.isDraining()) && this.req.httpVersionMajor < 2) res.setHeader('connection', 'close');
    if (ge.status === 401 && !res.hasHeader('www-authenticate')) res.setHeader('www-authenticate', 'Bearer');
    res.end(body);
  }
}
