import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Logger } from 'pino';
import { gatewayError, type ErrorKind } from '../core/errors.js';
import type { Listener } from './listener.js';

/**
 * Answers HTTP/1.1 framing errors Node detects before a request exists: oversized head → 431,
 * timeouts → 408, anything malformed → 400, each as JSON on a closing connection. Any other error
 * (a reset, a failed TLS handshake, which TLS servers also report as `clientError`) just closes the
 * socket. Never leaves a socket hanging. `extraHeaders` are added to every answer (HSTS on TLS listeners).
 */
export function answerClientErrors(server: NetServer, logger: Logger, listener: string, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const extra = Object.entries(extraHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  server.on('clientError', (err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Socket) => {
    const code = err.code ?? '';
    const httpError = code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (!httpError || !socket.writable) {
      socket.destroy();
      return;
    }
    const kind: ErrorKind = code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
    const ge = gatewayError(kind);
    const body = ge.toJSONString();
    logger.info({ listener, code: err.code, status: ge.status, remote: socket.remoteAddress }, 'rejected malformed request');
    socket.end(
      `HTTP/1.1 ${ge.status} ${STATUS_CODES[ge.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
    );
  });
}

/** How a listener closes its connections when it stops. */
export interface ConnectionControl {
  /** Draining began (the server no longer accepts): close what is idle, ask the rest to finish. */
  drain(): void;
  /** The grace period is over: close everything still open. */
  closeAll(): void;
}

/** Node's HTTP/1.1 server: idle keep-alive connections close at once, the rest at the deadline. */
export function httpConnectionControl(server: HttpServer): ConnectionControl {
  return {
    drain: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}

/**
 * Wraps a Node server in the {@link Listener} lifecycle, with graceful drain: on stop it stops
 * accepting, lets `control` close idle connections and ask active ones to finish (HTTP/1.1 responses
 * carry `Connection: close` via `isDraining`; HTTP/2 sessions get a GOAWAY), and closes whatever
 * remains after the grace period.
 */
export function serverListener(
  name: string,
  server: NetServer,
  host: string,
  port: number,
  onDrainStart: () => void,
  control: ConnectionControl = httpConnectionControl(server as HttpServer),
): Listener {
  let started = false;
  let stopping: Promise<void> | undefined;
  return {
    name,
    start() {
      return new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          server.off('listening', onListening);
          reject(err);
        };
        const onListening = () => {
          server.off('error', onError);
          started = true;
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
    },
    stop(graceMs) {
      if (stopping) return stopping;
      if (!started) return (stopping = Promise.resolve());
      onDrainStart();
      stopping = new Promise<void>((resolve) => {
        // Kept referenced: stop() must settle within graceMs even when the connections left are ones the
        // event loop no longer counts (a half-closed TLS socket), else a caller awaiting it could see
        // the process run out of work first. It is cleared as soon as the server has closed.
        const timer = setTimeout(() => control.closeAll(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        control.drain();
      });
      return stopping;
    },
    address() {
      const a = server.address();
      if (!a || typeof a === 'string') throw new Error(`${name} listener is not started`);
      return a as AddressInfo;
    },
  };
}
