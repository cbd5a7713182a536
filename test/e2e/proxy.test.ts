import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startGateway, startSseUpstream, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';

/** Sends raw bytes over TLS and returns everything the server answers until it closes. */
function rawTls(gw: TestGateway, payload: string): Promise<string> {
  const url = new URL(gw.httpsUrl);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: gw.caPem, servername: 'localhost' }, () => socket.write(payload));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error('socket hung')));
  });
}

describe('data plane: proxying', () => {
  let gw: TestGateway;
  let echo: TestUpstream;
  let sse: TestUpstream;
  let slow: TestUpstream;
  let endless: TestUpstream;
  let endlessClosed: Promise<void>;

  before(async () => {
    gw = await startGateway({ settings: { limits: { maxBodySize: '8mb' } } });
    echo = await startUpstream();
    sse = await startSseUpstream();
    slow = await startUpstream(() => {
      /* never answers */
    });
    let upstreamClosed: () => void = () => undefined;
    endlessClosed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    endless = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const t = setInterval(() => res.write('data: tick\n\n'), 50);
      res.on('close', () => {
        clearInterval(t);
        upstreamClosed();
      });
      req.resume();
    });
    await gw.apply({
      services: [
        {
          name: 'echo',
          upstream: { targets: [{ url: echo.url }] },
          routes: [
            { name: 'echo', paths: ['/echo'] },
            { name: 'echo-strip', paths: ['/strip'], stripPath: true },
            { name: 'posts', paths: [{ path: '/posts', match: 'exact' }], methods: ['POST', 'PUT'] },
            {
              name: 'decorated',
              paths: ['/decorated'],
              plugins: { headers: { request: { set: { 'x-added': 'yes' }, remove: ['x-drop-me'] }, response: { set: { 'x-from-gateway': '1' } } } },
            },
          ],
        },
        { name: 'based', upstream: { targets: [{ url: `${echo.url}/base/` }] }, routes: [{ name: 'based', paths: ['/based'] }] },
        { name: 'sse', upstream: { targets: [{ url: sse.url }] }, routes: [{ name: 'sse', paths: ['/events'] }] },
        { name: 'slow', upstream: { targets: [{ url: slow.url }], timeouts: { headers: '300ms' } }, routes: [{ name: 'slow', paths: ['/slow'] }] },
        { name: 'down', upstream: { targets: [{ url: 'http://127.0.0.1:1' }] }, routes: [{ name: 'down', paths: ['/down'] }] },
        { name: 'endless', upstream: { targets: [{ url: endless.url }] }, routes: [{ name: 'endless', paths: ['/endless'] }] },
      ],
    });
  });

  after(async () => {
    await gw.stop();
    await Promise.all([echo.close(), sse.close(), slow.close(), endless.close()]);
  });

  it('forwards with conventional proxy headers and strips hop-by-hop ones', async () => {
    const r = await request(`${gw.httpsUrl}/echo/a/b?x=1&y=2`, {
      dispatcher: gw.agent,
      headers: { 'x-request-id': 'req-123', 'x-forwarded-for': '6.6.6.6', 'x-custom': 'kept' },
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-request-id'], 'req-123');
    const seen = (await r.body.json()) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/echo/a/b?x=1&y=2');
    assert.equal(seen.headers['x-request-id'], 'req-123');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot inject X-Forwarded-For');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], new URL(gw.httpsUrl).host);
    assert.equal(seen.headers.via, '1.1 portcullis');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers.host, new URL(echo.url).host);
  });

  it('strips hop-by-hop headers and those named in Connection', async () => {
    const raw = await rawTls(gw, 'GET /echo/hop HTTP/1.1\r\nHost: localhost\r\nConnection: close, x-hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Kept: 1\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200/);
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-hop'], undefined);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers.te, undefined);
    assert.equal(seen.headers['x-kept'], '1');
  });

  it('generates a request id when none (or an unsafe one) is sent', async () => {
    const r = await request(`${gw.httpsUrl}/echo`, { dispatcher: gw.agent, headers: { 'x-request-id': 'bad id with spaces' } });
    const seen = (await r.body.json()) as { headers: Record<string, string> };
    assert.match(seen.headers['x-request-id']!, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-request-id'], seen.headers['x-request-id']);
  });

  it('strips the matched prefix and prepends the target base path', async () => {
    const a = (await (await request(`${gw.httpsUrl}/strip/x?q=1`, { dispatcher: gw.agent })).body.json()) as { url: string };
    assert.equal(a.url, '/x?q=1');
    const b = (await (await request(`${gw.httpsUrl}/strip`, { dispatcher: gw.agent })).body.json()) as { url: string };
    assert.equal(b.url, '/');
    const c = (await (await request(`${gw.httpsUrl}/based/y`, { dispatcher: gw.agent })).body.json()) as { url: string };
    assert.equal(c.url, '/base/based/y');
  });

  it('normalises dot segments before routing', async () => {
    const r = await rawTls(gw, 'GET /nothing/../echo/z HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(r, /^HTTP\/1\.1 200/);
    assert.match(r, /"url":"\/echo\/z"/);
  });

  it('runs route plugins: request and response header edits', async () => {
    const r = await request(`${gw.httpsUrl}/decorated`, { dispatcher: gw.agent, headers: { 'x-drop-me': '1' } });
    assert.equal(r.headers['x-from-gateway'], '1');
    const seen = (await r.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-added'], 'yes');
    assert.equal(seen.headers['x-drop-me'], undefined);
  });

  it('streams large uploads both with Content-Length and chunked', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const r1 = await request(`${gw.httpsUrl}/echo/upload`, { method: 'POST', dispatcher: gw.agent, body: big });
    const s1 = (await r1.body.json()) as { body: string; headers: Record<string, string> };
    assert.equal(s1.body.length, big.length);
    const r2 = await request(`${gw.httpsUrl}/echo/upload`, { method: 'POST', dispatcher: gw.agent, body: Readable.from([big.subarray(0, 1000), big.subarray(1000)]) });
    const s2 = (await r2.body.json()) as { body: string; headers: Record<string, string> };
    assert.equal(s2.body.length, big.length);
    assert.equal(s2.headers['transfer-encoding'], 'chunked');
  });

  it('delivers SSE events one by one as the upstream sends them', async () => {
    const r = await request(`${gw.httpsUrl}/events`, { dispatcher: gw.agent });
    assert.equal(r.headers['content-type'], 'text/event-stream');
    const arrivals: Array<{ n: number; lag: number }> = [];
    let buffered = '';
    for await (const chunk of r.body) {
      buffered += chunk.toString();
      let idx: number;
      while ((idx = buffered.indexOf('\n\n')) !== -1) {
        const event = JSON.parse(buffered.slice(6, idx)) as { n: number; sentAt: number };
        buffered = buffered.slice(idx + 2);
        arrivals.push({ n: event.n, lag: Date.now() - event.sentAt });
      }
    }
    assert.deepEqual(arrivals.map((a) => a.n), [1, 2, 3, 4, 5]);
    for (const a of arrivals) assert.ok(a.lag < 100, `event ${a.n} arrived ${a.lag} ms after it was sent (batched?)`);
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const ac = new AbortController();
    const r = await request(`${gw.httpsUrl}/endless`, { dispatcher: gw.agent, signal: ac.signal });
    await r.body[Symbol.asyncIterator]().next();
    ac.abort();
    await Promise.race([endlessClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('upstream request was not aborted')), 3000))]);
  });

  it('answers unknown routes with 404 JSON and wrong methods with 405 and Allow', async () => {
    const r = await request(`${gw.httpsUrl}/nope`, { dispatcher: gw.agent });
    assert.equal(r.statusCode, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(((await r.body.json()) as any).error.type, 'route_not_found');
    const m = await request(`${gw.httpsUrl}/posts`, { dispatcher: gw.agent });
    assert.equal(m.statusCode, 405);
    assert.equal(m.headers.allow, 'POST, PUT');
    assert.equal(((await m.body.json()) as any).error.type, 'method_not_allowed');
  });

  it('refuses oversized bodies with 413, by Content-Length and while streaming', async () => {
    const tooBig = Buffer.alloc(9 * 1024 * 1024, 'b');
    const r1 = await request(`${gw.httpsUrl}/echo`, { method: 'POST', dispatcher: gw.agent, body: tooBig });
    assert.equal(r1.statusCode, 413);
    assert.equal(((await r1.body.json()) as any).error.type, 'payload_too_large');
    const before = echo.requests.length;
    const r2 = await request(`${gw.httpsUrl}/echo`, { method: 'POST', dispatcher: gw.agent, body: Readable.from([tooBig.subarray(0, 4e6), tooBig.subarray(4e6)]) }).catch((e: Error) => e);
    if (r2 instanceof Error) {
      // The gateway may close while the client is still sending; the request must not have been served.
      assert.ok(echo.requests.length >= before);
    } else {
      assert.equal(r2.statusCode, 413);
      await r2.body.dump();
    }
  });

  it('answers oversized headers with 431 and malformed HTTP with 400, as JSON', async () => {
    const big = await rawTls(gw, `GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    assert.match(big, /"type":"request_header_fields_too_large"/);
    const bad = await rawTls(gw, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    assert.match(bad, /"type":"bad_request"/);
  });

  it('maps an unreachable upstream to 502 and a silent one to 504', async () => {
    const down = await request(`${gw.httpsUrl}/down`, { dispatcher: gw.agent });
    assert.equal(down.statusCode, 502);
    assert.equal(((await down.body.json()) as any).error.type, 'upstream_unavailable');
    const slowR = await request(`${gw.httpsUrl}/slow`, { dispatcher: gw.agent });
    assert.equal(slowR.statusCode, 504);
    assert.equal(((await slowR.body.json()) as any).error.type, 'upstream_timeout');
  });

  it('redirects plain HTTP to HTTPS with 308, keeping path and query', async () => {
    const httpUrl = new URL(gw.started.httpUrl!);
    const httpsPort = new URL(gw.httpsUrl).port;
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: httpUrl.hostname, port: httpUrl.port, path: '/echo/x?y=1', method: 'POST', headers: { host: `api.example.test:${httpUrl.port}` } }, (r) => {
        r.resume();
        resolve({ status: r.statusCode!, location: r.headers.location });
      });
      req.on('error', reject);
      req.end('body');
    });
    assert.equal(res.status, 308);
    assert.equal(res.location, `https://api.example.test:${httpsPort}/echo/x?y=1`);
  });

  it('writes one access-log line per request with route, timings, bytes and TLS facts', async () => {
    const r = await request(`${gw.httpsUrl}/echo/logged`, { method: 'POST', dispatcher: gw.agent, headers: { 'x-request-id': 'log-me' }, body: 'hello' });
    await r.body.dump();
    await waitFor(() => gw.accessLog.some((l) => l.requestId === 'log-me'), 2000, `access log line (have: ${gw.accessLog.map((l) => `${l.path}:${l.status}:${l.requestId}`).join(' ')})`);
    const line = gw.accessLog.find((l) => l.requestId === 'log-me')!;
    assert.equal(line.status, 200);
    assert.equal(line.route, 'echo');
    assert.equal(line.service, 'echo');
    assert.equal(line.tenant, 'default');
    assert.equal(line.upstream, echo.url);
    assert.equal(line.bytesIn, 5);
    assert.ok(line.bytesOut > 0);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(typeof line.upstreamMs, 'number');
    assert.match(line.tlsVersion, /^TLSv1\.[23]$/);
    assert.ok(line.tlsCipher);
    assert.equal(line.log, 'access');
    const notFound = gw.accessLog.find((l) => l.path === '/nope');
    assert.equal(notFound?.status, 404);
  });
});
