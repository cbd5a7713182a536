import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { RequestContext } from '../../pipeline/context.js';
import type { Plugin } from '../../pipeline/plugin.js';

const kTlsInfo = Symbol('portcullis.tlsInfo');

interface TlsInfo {
  version: string | null;
  cipher: string;
}

/** TLS facts of a connection, computed once per socket (keep-alive requests share them). */
function tlsInfo(socket: TLSSocket & { [kTlsInfo]?: TlsInfo }): TlsInfo {
  let info = socket[kTlsInfo];
  if (!info) {
    info = { version: socket.getProtocol(), cipher: socket.getCipher()?.name ?? '' };
    socket[kTlsInfo] = info;
  }
  return info;
}

function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Characters a JSON string literal escapes (and lone surrogates, which JSON.stringify escapes too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, or null. Plain strings (the usual case) skip the serialiser. */
function str(v: string | null | undefined): string {
  if (v === undefined || v === null) return 'null';
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/**
 * One JSON line (newline-terminated) describing a finished or aborted request. Built as a string in
 * one pass: the access log runs for every request, and an intermediate object plus a generic
 * serialiser cost a measurable share of the gateway's CPU (docs/benchmarks.md). Contains no
 * credentials or bodies: the caller appears by application and public credential identifier (API
 * key prefix, client_id, issuer name or certificate fingerprint), never by secret. Fields are always
 * present (null when unknown), so lines parse uniformly.
 */
export function accessLogLine(ctx: RequestContext, now: number = performance.now()): string {
  const res = ctx.res;
  const tls = ctx.tlsSocket ? tlsInfo(ctx.tlsSocket) : undefined;
  const cert = ctx.clientCert;
  const route = ctx.route;
  const caller = ctx.caller;
  const upstreamMs = ctx.upstreamStartedAt > 0 ? ms((ctx.upstreamHeadersAt || now) - ctx.upstreamStartedAt) : null;
  return (
    `{"time":"${new Date(ctx.startedAtEpoch).toISOString()}","log":"access","msg":"request"` +
    `,"requestId":${str(ctx.requestId)},"method":${str(ctx.req.method)},"httpVersion":${str(ctx.req.httpVersion)}` +
    `,"host":${str(ctx.host)},"path":${str(ctx.path)},"status":${res.headersSent ? res.statusCode : 0},"aborted":${!res.writableFinished}` +
    `,"durationMs":${ms(now - ctx.startedAt)},"upstreamMs":${upstreamMs}` +
    `,"tenant":${str(route?.tenant)},"route":${str(route?.name)},"service":${str(route?.service)},"upstream":${str(ctx.upstreamTarget)}` +
    `,"callerTenant":${str(caller?.tenant)},"application":${str(caller?.application)},"credential":${str(caller?.credential)},"authMethod":${caller ? str(caller.methods.join(',')) : 'null'}` +
    `,"bytesIn":${ctx.bytesIn},"bytesOut":${ctx.bytesOut},"clientIp":${str(ctx.clientIp)}` +
    `,"tlsVersion":${str(tls?.version)},"tlsCipher":${str(tls?.cipher)}` +
    `,"clientCert":${str(cert?.subjectText)},"clientCertFingerprint":${str(cert?.fingerprint256)},"error":${str(ctx.error?.code)}}\n`
  );
}

/** Where access-log lines go, one UTF-8 Buffer per line: a pino destination (sonic-boom, `contentMode: 'buffer'`) or any stream with `write`. */
export interface AccessLogSink {
  write(line: Buffer): unknown;
}

export const AccessLogConfigSchema = z.object({}).strict();

/**
 * The access log: a global plugin joining the `log` phase, writing one structured JSON line per request
 * to its sink (stdout or a file, buffered). Runs after the response, so it adds no latency to it.
 */
export function accessLogPlugin(sink: AccessLogSink): Plugin<z.output<typeof AccessLogConfigSchema>> {
  return {
    name: 'access-log',
    description: 'One structured JSON line per request',
    configSchema: AccessLogConfigSchema,
    priority: 0,
    create() {
      return {
        log(ctx) {
          sink.write(Buffer.from(accessLogLine(ctx)));
        },
      };
    },
  };
}
