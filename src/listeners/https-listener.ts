import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Logger } from 'pino';
import type { Listener } from './listener.js';
import { answerClientErrors, serverListener } from './http-server-lifecycle.js';
import { strictTlsOptions } from './tls-policy.js';

export interface HttpsListenerOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly limits: { maxHeaderSize: number; headersTimeout: number; requestTimeout: number; keepAliveTimeout: number };
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly logger: Logger;
  /** Called when the listener starts draining. */
  readonly onDrainStart?: () => void;
}

/** An HTTPS listener with the strict TLS policy, request limits and graceful stop. */
export function createHttpsListener(opts: HttpsListenerOptions): Listener {
  const server = createServer(
    {
      ...strictTlsOptions(),
      cert: opts.certPem,
      key: opts.keyPem,
      maxHeaderSize: opts.limits.maxHeaderSize,
      headersTimeout: opts.limits.headersTimeout,
      requestTimeout: opts.limits.requestTimeout,
      keepAliveTimeout: opts.limits.keepAliveTimeout,
      noDelay: true,
    },
    opts.handler,
  );
  answerClientErrors(server, opts.logger, opts.name);
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    opts.logger.debug({ listener: opts.name, code: err.code, remote: socket.remoteAddress }, 'TLS handshake failed');
  });
  return serverListener(opts.name, server, opts.host, opts.port, opts.onDrainStart ?? (() => undefined));
}
