import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { hostOf } from '../pipeline/request-handler.js';
import type { Listener } from './listener.js';
import { answerClientErrors, serverListener } from './http-server-lifecycle.js';

export interface RedirectListenerOptions {
  readonly host: string;
  readonly port: number;
  /** The HTTPS port clients are sent to; omitted from the URL when 443. */
  readonly httpsPort: () => number;
  readonly maxHeaderSize: number;
  readonly logger: Logger;
  /**
   * Endpoints answered here in plain HTTP instead of redirected (the PKI's CRLs and OCSP, which
   * relying parties fetch over http://); returns true when it answered.
   */
  readonly serve?: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | undefined;
}

/**
 * The plain-HTTP listener: every request gets a 308 Permanent Redirect to the same host, path and query
 * over HTTPS (308 keeps the method and body, unlike 301). Nothing is proxied in clear text; only the
 * gateway's own signed PKI answers (`serve`) are given here.
 */
export function createRedirectListener(opts: RedirectListenerOptions): Listener {
  let draining = false;
  const server = createServer({ maxHeaderSize: opts.maxHeaderSize, headersTimeout: 10_000, requestTimeout: 10_000 }, (req, res) => {
    const host = hostOf(req.headers.host);
    const url = req.url ?? '/';
    if (!host || !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(host) || url.charCodeAt(0) !== 47) {
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { type: 'bad_request', code: 'PC_ERR_BAD_REQUEST', message: 'A valid Host header and path are required' } }));
      return;
    }
    if (opts.serve) {
      const q = url.indexOf('?');
      if (opts.serve(req, res, q < 0 ? url : url.slice(0, q))) return;
    }
    const port = opts.httpsPort();
    const location = `https://${host}${port === 443 ? '' : `:${port}`}${url}`;
    const headers: Record<string, string> = { location, 'content-length': '0' };
    if (draining) headers.connection = 'close';
    res.writeHead(308, headers);
    res.end();
  });
  answerClientErrors(server, opts.logger, 'http');
  return serverListener('http', server, opts.host, opts.port, () => {
    draining = true;
  });
}
