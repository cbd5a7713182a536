import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { gatewayError, type ErrorKind } from '../core/errors.js';
import type { Listener } from './listener.js';

type AnyServer = HttpServer | HttpsServer;

/**
 * Answers HTTP framing errors Node detects before a request exists: oversized head → 431, timeouts →
 * 408, anything malformed → 400, each as JSON on a closing connection. Never leaves a socket hanging.
 */
export function answerClientErrors(server: AnyServer, logger: Logger, listener: string): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const kind: ErrorKind =
      err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
    const ge = gatewayError(kind);
    const body = ge.toJSONString();
    logger.info({ listener, code: err.code, status: ge.status, remote: socket.remoteAddress }, 'rejected malformed request');
    socket.end(
      `HTTP/1.1 ${ge.status} ${STATUS_CODES[ge.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/**
 * Wraps a Node HTTP(S) server in the {@link Listener} lifecycle, with graceful drain: on stop it closes
 * idle keep-alive connections at once, lets active requests finish (their responses carry
 * `Connection: close` via `isDraining`), and destroys whatever remains after the grace period.
 */
export function serverListener(name: string, server: AnyServer, host: string, port: number, onDrainStart: () => void): Listener {
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
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
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
