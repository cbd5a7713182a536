import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RequestContext } from '../../pipeline/context.js';
import type { Plugin } from '../../pipeline/plugin.js';

const kTlsInfo = Symbol('portcullis.tlsInfo');

interface TlsInfo {
  version: string | null;
  cipher: string;
  clientCert: string | undefined;
}

/** TLS facts of a connection, computed once per socket (keep-alive requests share them). */
function tlsInfo(socket: TLSSocket & { [kTlsInfo]?: TlsInfo }): TlsInfo {
  let info = socket[kTlsInfo];
  if (!info) {
    const peer = socket.getPeerCertificate?.();
    const subject = peer && peer.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join(',') : undefined;
    info = { version: socket.getProtocol(), cipher: socket.getCipher()?.name ?? '', clientCert: subject || undefined };
    socket[kTlsInfo] = info;
  }
  return info;
}

function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** One JSON line describing a finished (or aborted) request. Contains no credentials or bodies. */
export function accessLogEntry(ctx: RequestContext): Record<string, unknown> {
  const end = performance.now();
  const res = ctx.res;
  const tls = ctx.tlsSocket ? tlsInfo(ctx.tlsSocket) : undefined;
  return {
    requestId: ctx.requestId,
    method: ctx.req.method,
    httpVersion: ctx.req.httpVersion,
    host: ctx.host,
    path: ctx.path,
    status: res.headersSent ? res.statusCode : 0,
    aborted: !res.writableFinished,
    durationMs: ms(end - ctx.startedAt),
    upstreamMs: ctx.upstreamStartedAt > 0 ? ms((ctx.upstreamHeadersAt || end) - ctx.upstreamStartedAt) : undefined,
    tenant: ctx.route?.tenant,
    route: ctx.route?.name,
    service: ctx.route?.service,
    upstream: ctx.upstreamTarget,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    clientIp: ctx.clientIp,
    tlsVersion: tls?.version ?? undefined,
    tlsCipher: tls?.cipher,
    clientCert: tls?.clientCert,
    error: ctx.error?.code,
  };
}

export const AccessLogConfigSchema = z.object({}).strict();

/**
 * The access log: a global plugin joining the `log` phase, writing one structured JSON line per request
 * to its own pino logger (stdout or a file). Runs after the response, so it adds no latency to it.
 */
export function accessLogPlugin(logger: Logger): Plugin<z.output<typeof AccessLogConfigSchema>> {
  return {
    name: 'access-log',
    description: 'One structured JSON line per request',
    configSchema: AccessLogConfigSchema,
    priority: 0,
    create() {
      return {
        log(ctx) {
          logger.info(accessLogEntry(ctx), 'request');
        },
      };
    },
  };
}
