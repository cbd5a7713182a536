/**
 * The TLS edge of a listener: picks the certificate and client-auth policy per server name (SNI) from
 * the current snapshot, and refuses connections whose client certificate fails the policy before any
 * HTTP is read. Its hooks are attached to a Node TLS server by `attachTlsEdge`.
 *
 * Node sends no TLS alert when a client certificate is refused after the handshake, so every refusal
 * is logged with its reason and counted (`rejections`).
 */

import type { Server as NetServer } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { checkClientCertificate } from './client-auth.js';
import type { ClientCertificate } from './client-certificate.js';
import type { TlsDomain, TlsSnapshot } from './tls-snapshot.js';

const kTlsState = Symbol('portcullis.tlsState');

/** What the edge learnt about a connection; read by the pipeline. */
export interface ConnectionTls {
  /** The domain SNI chose (the listener default when none matched). */
  readonly domain: TlsDomain;
  /** The server name the client asked for, lower-case, or undefined without SNI. */
  readonly servername: string | undefined;
  /** The verified client certificate, when the domain's policy asked for one and it verified. */
  readonly clientCert: ClientCertificate | undefined;
}

type StatefulSocket = TLSSocket & { [kTlsState]?: ConnectionTls };

/** The edge state of a connection, once its handshake passed the edge. */
export function connectionTls(socket: unknown): ConnectionTls | undefined {
  return (socket as StatefulSocket | undefined)?.[kTlsState];
}

export interface TlsEdgeOptions {
  /** The current TLS snapshot (read on every handshake). */
  readonly current: () => TlsSnapshot | undefined;
  readonly logger: Logger;
  readonly listener: string;
  readonly now?: () => Date;
  /** Told of every refusal (metrics, audit): the reason, the domain's tenant when known, the peer address. */
  readonly onRejection?: (reason: string, where: { readonly tenant: string | undefined; readonly remote: string | undefined }) => void;
}

export class TlsEdge {
  /** Refused client-certificate handshakes by reason. */
  readonly rejections = new Map<string, number>();
  private readonly now: () => Date;

  constructor(private readonly opts: TlsEdgeOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Node's SNICallback: the domain's context, the default's, or an error (refused) when neither. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const domain = this.opts.current()?.resolve(servername);
    if (domain) cb(null, domain.context);
    else cb(new Error('unknown server name'));
  };

  /**
   * Runs on 'secureConnection' before the HTTP layer sees the socket. Returns false after destroying a
   * connection that fails its domain's policy (or whose server name is refused).
   */
  admit(socket: TLSSocket): boolean {
    const servername = typeof (socket as { servername?: unknown }).servername === 'string' ? ((socket as { servername: string }).servername.toLowerCase() as string) : undefined;
    const domain = this.opts.current()?.resolve(servername);
    if (!domain) return this.refuse(socket, 'unknown server name', servername);
    const result = checkClientCertificate(socket, domain.clientAuth, this.now());
    if (!result.ok) return this.refuse(socket, result.reason, servername, domain);
    (socket as StatefulSocket)[kTlsState] = { domain, servername, clientCert: result.cert };
    return true;
  }

  private refuse(socket: TLSSocket, reason: string, servername: string | undefined, domain?: TlsDomain): false {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
    this.opts.onRejection?.(reason, { tenant: domain?.tenant, remote: socket.remoteAddress?.replace(/^::ffff:/, '') });
    const peer = socket.getPeerX509Certificate?.();
    this.opts.logger.warn(
      {
        listener: this.opts.listener,
        reason,
        servername,
        tenant: domain?.tenant,
        domain: domain?.name,
        remote: socket.remoteAddress,
        clientSubject: peer?.subject.replace(/\n/g, ','),
        clientFingerprint: peer?.fingerprint256,
        resumed: socket.isSessionReused(),
      },
      'client certificate refused',
    );
    socket.destroy();
    return false;
  }
}

/**
 * Wires an edge into a TLS (or HTTPS/HTTP2) server: the server asks for client certificates only
 * while some domain wants them (`requestCert` is read per connection), never rejects on its own, and
 * the edge's admission runs before any other 'secureConnection' listener.
 */
export function attachTlsEdge(server: NetServer & { requestCert?: boolean; rejectUnauthorized?: boolean }, edge: TlsEdge, current: () => TlsSnapshot | undefined): void {
  server.rejectUnauthorized = false;
  server.prependListener('connection', () => {
    server.requestCert = current()?.requestCert ?? false;
  });
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    edge.admit(socket);
  });
}
