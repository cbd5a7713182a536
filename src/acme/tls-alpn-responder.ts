/**
 * Answers tls-alpn-01 validations (RFC 8737) on the TLS listener. Node's TLS server picks a
 * certificate by server name before it sees the client's ALPN list, so while a validation is pending
 * (on any node: the answers are in the shared store) each new connection's ClientHello is read first:
 * a client offering only `acme-tls/1` is handed to a small TLS server presenting the challenge
 * certificate for its server name; every other connection goes on to the listener unchanged (the
 * bytes read are put back, and Node's TLS layer consumes them first). With no validation pending,
 * connections go straight to the listener, at no cost.
 */

import { createSecureContext, createServer, type Server as TlsServer } from 'node:tls';
import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientHelloAlpn } from '../tls/client-hello-alpn.js';
import type { AcmeChallenges } from './acme-challenges.js';

export const ACME_TLS_ALPN = 'acme-tls/1';

type ConnectionListener = (this: NetServer, socket: Socket) => void;

export class TlsAlpnResponder {
  /** A validation may be pending: peek at ClientHellos. */
  private active = false;
  private readonly server: TlsServer;

  constructor(
    private readonly challenges: AcmeChallenges,
    private readonly logger: Logger,
  ) {
    this.server = createServer(
      {
        ALPNProtocols: [ACME_TLS_ALPN],
        minVersion: 'TLSv1.2',
        SNICallback: (servername, cb) => {
          this.challenges.tlsAlpn01(servername).then(
            (answer) => (answer ? cb(null, createSecureContext({ cert: answer.certPem, key: answer.keyPem, minVersion: 'TLSv1.2' })) : cb(new Error('no tls-alpn-01 challenge for this name'))),
            (err: unknown) => cb(err as Error),
          );
        },
      },
      (socket) => socket.end(),
    );
    this.server.on('tlsClientError', () => undefined);
  }

  setActive(active: boolean): void {
    this.active = active;
  }

  /**
   * Puts the responder in front of a TLS server's own connection handling. Returns false (and
   * leaves the server as it was) when the server's TLS connection listener cannot be found.
   */
  attach(server: NetServer): boolean {
    const tlsListener = server.listeners('connection').find((l) => l.name === 'tlsConnectionListener') as ConnectionListener | undefined;
    if (!tlsListener) {
      this.logger.warn('tls-alpn-01 validations cannot be answered on this listener (Node TLS internals changed); use http-01');
      return false;
    }
    server.removeListener('connection', tlsListener);
    server.on('connection', (socket: Socket) => {
      if (!this.active) {
        tlsListener.call(server, socket);
        return;
      }
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        const alpn = clientHelloAlpn(chunk);
        if (alpn?.length === 1 && alpn[0] === ACME_TLS_ALPN) this.server.emit('connection', socket);
        else tlsListener.call(server, socket);
      });
    });
    return true;
  }

  close(): void {
    this.server.close();
  }
}
