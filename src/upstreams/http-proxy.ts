import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { gatewayError } from '../core/errors.js';
import { requestAuthority, type RequestContext } from '../pipeline/context.js';
import type { BodyTransform, ResponseHead } from '../pipeline/plugin.js';
import type { Cluster } from './cluster.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { mapUpstreamError } from './upstream-errors.js';

/** Data-plane settings the proxy needs, fixed per snapshot. */
export interface ProxySettings {
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Whether the direct peer address is a trusted proxy. */
  readonly isTrustedPeer: (address: string) => boolean;
}

/**
 * Streams the request to one of the cluster's endpoints and the response back, without buffering:
 * each upstream chunk is written as it arrives, and upstream reads pause while the client is slow
 * (backpressure). Resolves when the exchange is over, successfully or not; failures before the
 * response starts are answered as JSON errors (502/504/413), later ones cut the connection.
 */
export function proxyRequest(ctx: RequestContext, cluster: Cluster, settings: ProxySettings): Promise<void> {
  const endpoint = cluster.pick();
  const req = ctx.req;
  ctx.upstreamTarget = endpoint.origin;
  const headers = upstreamRequestHeaders({
    rawHeaders: req.rawHeaders,
    clientIp: ctx.clientIp,
    trustedPeer: ctx.trustedPeer,
    proto: ctx.tlsSocket ? 'https' : 'http',
    host: requestAuthority(req) ?? ctx.host,
    upstreamHost: cluster.options.preserveHost ? undefined : endpoint.hostHeader,
    requestId: ctx.requestId,
    extra: cluster.options.headers,
    edits: ctx.upstreamHeaderEdits,
    consumed: ctx.consumedHeaders,
    httpVersion: req.httpVersionMajor === 2 ? '2.0' : '1.1',
  });
  const path = endpoint.basePath + ctx.upstreamPath + ctx.query;
  return new Promise<void>((resolve) => {
    const handler = new ProxyHandler(ctx, resolve);
    ctx.upstreamStartedAt = performance.now();
    const options: Dispatcher.DispatchOptions & { servername: string } = {
      path,
      method: req.method ?? 'GET',
      headers,
      // dispatch accepts async iterables (see undici's Dispatcher docs); its typings list only streams.
      body: requestBody(req, ctx, settings.maxBodyBytes) as IncomingMessage | null,
      headersTimeout: cluster.options.headersTimeout,
      bodyTimeout: cluster.options.bodyTimeout,
      // undici derives a server name from each request's Host header (the client's, with
      // preserveHost) and reconnects when it changes. A constant per endpoint avoids that churn;
      // the pool's TLS connector sends the configured SNI whatever this says. (Accepted by
      // undici's dispatch, missing from its typings.)
      servername: endpoint.origin,
    };
    endpoint.dispatcher.dispatch(options, handler);
  });
}

/** The request body for undici: none, the request stream itself, or a counting stream when length is unknown. */
function requestBody(req: IncomingMessage, ctx: RequestContext, limit: number): IncomingMessage | AsyncIterable<Buffer> | null {
  const length = req.headers['content-length'];
  if (length !== undefined) {
    ctx.bytesIn = Number(length);
    return ctx.bytesIn === 0 ? null : req;
  }
  // HTTP/2 has no Transfer-Encoding: a body without Content-Length is one whose HEADERS frame did not end the stream.
  const h2Body = req.httpVersionMajor === 2 && !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  if (req.headers['transfer-encoding'] === undefined && !h2Body) return null;
  return countingBody(req, ctx, limit);
}

async function* countingBody(req: IncomingMessage, ctx: RequestContext, limit: number): AsyncIterable<Buffer> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    ctx.bytesIn += chunk.length;
    if (ctx.bytesIn > limit) throw gatewayError('BODY_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes`);
    yield chunk;
  }
}

/** undici dispatch handler writing the upstream response into the client response. */
class ProxyHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private transforms: BodyTransform[] | undefined;
  private done = false;
  /** Created on the first backpressure only. */
  private onDrain: (() => void) | undefined;
  private readonly onClientClose = (): void => {
    if (!this.done) this.controller?.abort(new Error('client closed the connection'));
  };

  constructor(
    private readonly ctx: RequestContext,
    private readonly resolve: () => void,
  ) {
    ctx.onClientClose = this.onClientClose;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.ctx.res.destroyed) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return;
    const ctx = this.ctx;
    ctx.upstreamHeadersAt = performance.now();
    const head: ResponseHead = { status, headers: clientResponseHeaders(headers) };
    ctx.finalHeaders(head.headers);
    const chain = ctx.route!.chain;
    for (const hook of chain.onResponse) hook(ctx, head);
    for (const make of chain.transformResponse) {
      const t = make(ctx, head);
      if (t) (this.transforms ??= []).push(t);
    }
    if (this.transforms) delete head.headers['content-length'];
    ctx.responded = true;
    ctx.res.writeHead(head.status, head.headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    let out: Buffer | undefined = chunk;
    if (this.transforms) for (const t of this.transforms) if (out) out = t.transform(out);
    if (!out || out.length === 0) return;
    this.ctx.bytesOut += out.length;
    if (!this.ctx.res.write(out)) {
      controller.pause();
      this.ctx.res.once('drain', (this.onDrain ??= () => this.controller?.resume()));
    }
  }

  onResponseEnd(): void {
    if (this.transforms) {
      for (let i = 0; i < this.transforms.length; i++) {
        let out = this.transforms[i]!.flush();
        for (let j = i + 1; out && j < this.transforms.length; j++) out = this.transforms[j]!.transform(out);
        if (out && out.length > 0) {
          this.ctx.bytesOut += out.length;
          this.ctx.res.write(out);
        }
      }
    }
    this.finish();
    this.ctx.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish();
    if (this.ctx.res.destroyed) return; // the client left; nothing to answer
    this.ctx.fail(mapUpstreamError(err));
  }

  private finish(): void {
    this.done = true;
    this.ctx.onClientClose = undefined;
    this.resolve();
  }
}
