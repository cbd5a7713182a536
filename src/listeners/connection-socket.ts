/**
 * The client connection behind a request, for HTTP/1.1 and HTTP/2 alike.
 *
 * For HTTP/1.1, `req.socket` is the TLS socket. For HTTP/2 it is a proxy that forwards to the
 * session's socket only while the stream is open: once the stream closes (when access logs run) it
 * forwards to the stream object instead, and TLS facts (`encrypted`, `getProtocol()`, `getCipher()`,
 * `getPeerCertificate()`) are gone. The TLS listener therefore records each HTTP/2 session's real
 * socket on the session, and request code resolves the connection through {@link connectionSocketOf}.
 */

import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const kConnectionSocket = Symbol('portcullis.connectionSocket');

type Tagged = Http2Session & { [kConnectionSocket]?: TLSSocket };

/** Records the TLS socket carrying an HTTP/2 session (the listener calls this for every session). */
export function setSessionSocket(session: Http2Session, socket: TLSSocket): void {
  (session as Tagged)[kConnectionSocket] = socket;
}

/** The TLS socket carrying an HTTP/2 session, when the listener recorded it. */
export function sessionSocket(session: Http2Session | undefined): TLSSocket | undefined {
  return session ? (session as Tagged)[kConnectionSocket] : undefined;
}

/**
 * The connection a request arrived on: the real socket, usable for the request's whole life and
 * after it (never write to it for an HTTP/2 request: the session owns it).
 */
export function connectionSocketOf(req: IncomingMessage | Http2ServerRequest): Socket {
  if (req.httpVersionMajor === 2) {
    const s = sessionSocket((req as Http2ServerRequest).stream?.session);
    if (s) return s;
  }
  return req.socket as Socket;
}
