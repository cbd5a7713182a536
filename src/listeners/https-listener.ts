import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as h2, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { gatewayError } from '../core/errors.js';
import { setSessionSocket } from './connection-socket.js';
import { hstsHeaderValue, type HstsPolicy } from './hsts.js';
import type { Listener } from './listener.js';
import { answerClientErrors, serverListener, type ConnectionControl } from './http-server-lifecycle.js';
import { http1ResponseClass, http2ResponseClass } from './response-policy.js';
import { DEFAULT_TLS_POLICY, listenerTlsOptions, type ListenerTlsPolicy } from './tls-policy.js';

export interface HttpsListenerOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly limits: { maxHeaderSize: number; headersTimeout: number; requestTimeout: number; keepAliveTimeout: number };
  /**
   * The request handler, for both protocols: HTTP/2 requests arrive as Node's compatibility objects
   * (`Http2ServerRequest`/`Http2ServerResponse`, duck-typed like their HTTP/1.1 counterparts;
   * `req.httpVersionMajor === 2` tells them apart).
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly logger: Logger;
  /** Called when the listener starts draining. */
  readonly onDrainStart?: () => void;
  /** The listener's TLS policy; default: the strict policy. */
  readonly tls?: ListenerTlsPolicy | undefined;
  /** HSTS on every response of this listener; default: none. */
  readonly hsts?: HstsPolicy | undefined;
  /**
   * Further Node TLS server options (SNICallback, requestCert…). They cannot override the policy's
   * fields (versions, ciphers, cipher order, curves). Contexts an SNICallback returns should be built
   * with `listenerTlsOptions(policy)` too, so every context of the listener carries the same policy.
   */
  readonly tlsOptions?: TlsOptions | undefined;
  /**
   * Called once with the Node server, before it listens, to attach connection-level hooks (for
   * example the TLS edge's SNI and client-certificate checks). HTTP/1.1 and HTTP/2 share the server.
   */
  readonly configureServer?: ((server: Http2SecureServer) => void) | undefined;
}

/** The HTTP/1.1 settings Node's HTTP/2 server reads from itself for its `allowHTTP1` fallback. */
interface Http1Fallback {
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  requireHostHeader: boolean;
  connectionsCheckingInterval: number;
  closeIdleConnections(): void;
}

/**
 * An HTTPS listener speaking HTTP/2 and HTTP/1.1 (ALPN `h2`, `http/1.1`; clients without ALPN get
 * HTTP/1.1), with the listener's TLS policy, HSTS, request limits and graceful stop.
 *
 * HTTP/1.1 connections are served by Node's own HTTP/1.1 server code inside the HTTP/2 server
 * (`allowHTTP1`), which reads `maxHeaderSize` (431), `headersTimeout`, `requestTimeout` (408),
 * `keepAliveTimeout` and `requireHostHeader` from the server object: they are set there, as
 * `https.createServer` would. HTTP/2 gets the equivalents: the header list limit is advertised
 * (SETTINGS_MAX_HEADER_LIST_SIZE) and enforced, a request body not received within `requestTimeout`
 * is answered 408 and its stream reset, and a session with no open stream for `keepAliveTimeout` is
 * closed with GOAWAY.
 *
 * Stop: HTTP/1.1 idle connections close at once (and whichever become idle while draining); responses
 * in flight carry `Connection: close`. HTTP/2 sessions get GOAWAY (`session.close()`), so clients open
 * no new stream while the streams in flight finish. Whatever remains at the deadline is destroyed.
 */
export function createHttpsListener(opts: HttpsListenerOptions): Listener {
  const { limits, logger } = opts;
  const hsts = hstsHeaderValue(opts.hsts);
  let draining = false;

  const handler = opts.handler as unknown as (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;
  const onRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    if (req.httpVersionMajor === 2 && limits.requestTimeout > 0) armRequestTimeout(req as Http2ServerRequest, res as Http2ServerResponse, limits.requestTimeout);
    handler(req, res);
  };

  const server: Http2SecureServer = createSecureServer(
    {
      ...opts.tlsOptions,
      ...listenerTlsOptions(opts.tls ?? DEFAULT_TLS_POLICY), // the policy always wins
      cert: opts.certPem,
      key: opts.keyPem,
      allowHTTP1: true,
      noDelay: true,
      settings: { maxHeaderListSize: limits.maxHeaderSize },
      Http1ServerResponse: http1ResponseClass({ hsts }),
      Http2ServerResponse: http2ResponseClass({ hsts }),
    },
    onRequest,
  );
  const fallback = server as unknown as Http1Fallback;
  fallback.maxHeaderSize = limits.maxHeaderSize;
  fallback.headersTimeout = limits.headersTimeout;
  fallback.requestTimeout = limits.requestTimeout;
  fallback.keepAliveTimeout = limits.keepAliveTimeout;
  fallback.requireHostHeader = true;
  // Node checks the two timeouts on an interval (30 s by default, so a 30 s headersTimeout fired after
  // 30 to 60 s): check at least twice per shortest timeout.
  const shortest = Math.min(limits.headersTimeout || Infinity, limits.requestTimeout || Infinity);
  fallback.connectionsCheckingInterval = Math.min(30_000, Math.max(250, Math.floor(shortest / 2)));

  answerClientErrors(server, logger, opts.name, hsts === undefined ? {} : { 'strict-transport-security': hsts });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    logger.debug({ listener: opts.name, code: err.code, remote: socket.remoteAddress }, 'TLS handshake failed');
  });
  server.on('sessionError', (err: NodeJS.ErrnoException) => {
    logger.debug({ listener: opts.name, code: err.code }, 'HTTP/2 session error');
  });

  // Every TCP connection (before TLS, so the deadline also catches stalled handshakes).
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const sessions = new Set<ServerHttp2Session>();
  // Node creates the session and emits 'session' synchronously from its own 'secureConnection'
  // listener, which runs before ours: the session seen last belongs to the socket seen next.
  let lastSession: ServerHttp2Session | undefined;
  server.on('session', (session: ServerHttp2Session) => {
    lastSession = session;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    let open = 0;
    session.on('stream', (stream) => {
      open++;
      stream.once('close', () => open--);
    });
    if (limits.keepAliveTimeout > 0) {
      session.setTimeout(limits.keepAliveTimeout, () => {
        if (open === 0) session.close();
      });
    }
    if (draining) session.close();
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (lastSession && socket.alpnProtocol === 'h2') setSessionSocket(lastSession, socket);
    lastSession = undefined;
  });

  let sweep: NodeJS.Timeout | undefined;
  const control: ConnectionControl = {
    drain() {
      draining = true;
      fallback.closeIdleConnections();
      for (const session of sessions) session.close();
      // HTTP/1.1 connections whose response started before the drain are not marked to close:
      // close them as soon as they are idle.
      sweep = setInterval(() => fallback.closeIdleConnections(), 200);
      sweep.unref();
      server.once('close', () => clearInterval(sweep));
    },
    closeAll() {
      clearInterval(sweep);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
  opts.configureServer?.(server);
  return serverListener(opts.name, server, opts.host, opts.port, opts.onDrainStart ?? (() => undefined), control);
}

/**
 * HTTP/2 counterpart of HTTP/1.1's `requestTimeout`: a request whose body has not fully arrived in
 * time is answered 408 (when no response has started) and its stream is closed.
 */
function armRequestTimeout(req: Http2ServerRequest, res: Http2ServerResponse, ms: number): void {
  const stream = req.stream;
  if (stream.endAfterHeaders) return; // no body: nothing to wait for
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.closed || stream.state.remoteClose) return;
    if (res.headersSent) {
      stream.close(h2.NGHTTP2_CANCEL);
      return;
    }
    const ge = gatewayError('REQUEST_TIMEOUT');
    const body = ge.toJSONString();
    res.writeHead(ge.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body); // the response class then closes the stream (RST_STREAM NO_ERROR)
  }, ms);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}
