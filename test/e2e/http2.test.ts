/**
 * HTTP/2 on the TLS listeners: a real HTTP/2 client (node:http2, and curl --http2 once) through the
 * gateway to real HTTP/1.1 upstreams. Checks what differs from HTTP/1.1: ALPN, pseudo-headers never
 * forwarded (the authority becomes Host), no connection-specific response headers, bodies without
 * Content-Length, split cookies, multi-value response headers, unbuffered SSE, early errors with an
 * unread body, the access log, and draining with GOAWAY.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGateway, startSseUpstream, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';

interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  rstCode: number | undefined;
}

function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string | Buffer | Array<string | Buffer>): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      responseHeaders = h;
      status = Number(h[':status']);
    });
    stream.on('data', (c: string) => (text += c));
    stream.on('close', () => resolve({ status, headers: responseHeaders, body: text, rstCode: stream.rstCode }));
    stream.on('error', reject);
    if (Array.isArray(body)) {
      for (const part of body) stream.write(part);
      stream.end();
    } else if (body !== undefined) stream.end(body);
  });
}

function h2Connect(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { ca }, () => resolve(session));
    session.once('error', reject);
  });
}

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

describe('HTTP/2 data plane', () => {
  let gw: TestGateway;
  let echo: TestUpstream;
  let sse: TestUpstream;
  let cookies: TestUpstream;
  let session: ClientHttp2Session;

  before(async () => {
    gw = await startGateway({ settings: { limits: { maxBodySize: '1mb' } } });
    echo = await startUpstream();
    sse = await startSseUpstream({ connection: 'keep-alive' });
    cookies = await startUpstream((req, res) => {
      // Two Set-Cookie fields (an array in Node), a repeated list header, a repeated header HTTP/2 allows
      // only once, and hop-by-hop headers that must not leak.
      res.writeHead(200, [
        ['content-type', 'text/plain'],
        ['set-cookie', 'a=1; Secure'],
        ['set-cookie', 'b=2; Secure'],
        ['x-multi', 'one'],
        ['x-multi', 'two'],
        ['content-language', 'en'],
        ['content-language', 'fr'],
        ['keep-alive', 'timeout=5'],
        ['strict-transport-security', 'max-age=0'],
      ].flat());
      res.end(String(req.headers.cookie));
    });
    await gw.apply({
      services: [
        { name: 'echo', upstream: { targets: [{ url: echo.url }] }, routes: [{ name: 'echo', paths: ['/echo'] }, { name: 'posts', paths: [{ path: '/posts', match: 'exact' }], methods: ['POST'] }] },
        { name: 'sse', upstream: { targets: [{ url: sse.url }] }, routes: [{ name: 'sse', paths: ['/events'] }] },
        { name: 'cookies', upstream: { targets: [{ url: cookies.url }] }, routes: [{ name: 'cookies', paths: ['/cookies'] }] },
      ],
    });
    session = await h2Connect(gw.httpsUrl, gw.caPem);
  });

  after(async () => {
    session?.close();
    await gw?.stop();
    await Promise.all([echo?.close(), sse?.close(), cookies?.close()]);
  });

  it('negotiates h2 by ALPN and proxies GET with the authority as Host and no pseudo-header upstream', async () => {
    assert.equal(session.alpnProtocol, 'h2');
    const authority = new URL(gw.httpsUrl).host;
    const r = await h2Request(session, { ':path': '/echo/a/b?x=1', 'x-request-id': 'h2-get', 'x-custom': 'kept' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], 'h2-get');
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    for (const h of CONNECTION_SPECIFIC) assert.equal(r.headers[h], undefined, `${h} on an HTTP/2 response`);
    const seen = JSON.parse(r.body) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/echo/a/b?x=1');
    assert.deepEqual(Object.keys(seen.headers).filter((k) => k.startsWith(':')), [], 'pseudo-headers forwarded upstream');
    assert.equal(seen.headers.host, new URL(echo.url).host);
    assert.equal(seen.headers['x-forwarded-host'], authority);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.match(seen.headers.via!, /^2\.0 portcullis$/);
    assert.equal(echo.requests.at(-1)!.httpVersion, '1.1', 'upstream requests stay HTTP/1.1');
  });

  it('routes on the :authority host', async () => {
    const r = await h2Request(session, { ':path': '/echo/host', ':authority': 'api.example.test' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-host'], 'api.example.test');
  });

  it('proxies POST bodies with and without Content-Length', async () => {
    const a = await h2Request(session, { ':method': 'POST', ':path': '/posts', 'content-type': 'text/plain', 'content-length': '11' }, 'hello world');
    assert.equal(a.status, 200);
    const seenA = JSON.parse(a.body) as { method: string; body: string; headers: Record<string, string> };
    assert.equal(seenA.method, 'POST');
    assert.equal(seenA.body, 'hello world');
    assert.equal(seenA.headers['content-length'], '11');
    const b = await h2Request(session, { ':method': 'POST', ':path': '/posts' }, ['chunk one, ', 'chunk two']);
    assert.equal(b.status, 200);
    const seenB = JSON.parse(b.body) as { body: string; headers: Record<string, string> };
    assert.equal(seenB.body, 'chunk one, chunk two');
    assert.equal(seenB.headers['transfer-encoding'], 'chunked');
  });

  it('joins split Cookie fields for the HTTP/1.1 upstream and passes multi-value response headers (writeHead with arrays)', async () => {
    const r = await h2Request(session, { ':path': '/cookies', cookie: ['a=1', 'b=2'] });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'a=1; b=2');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Secure', 'b=2; Secure']);
    assert.equal(r.headers['x-multi'], 'one, two');
    assert.equal(r.headers['content-language'], 'fr', 'a single-value header sent twice keeps its last value');
    assert.equal(r.headers['keep-alive'], undefined);
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000', "the gateway's HSTS replaces the upstream's");
  });

  it('delivers SSE events one by one as the upstream sends them', async () => {
    const stream = session.request({ ':path': '/events' });
    const arrivals: Array<{ n: number; lag: number }> = [];
    let headers: IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8');
    let buffered = '';
    for await (const chunk of stream as AsyncIterable<string>) {
      buffered += chunk;
      let idx: number;
      while ((idx = buffered.indexOf('\n\n')) !== -1) {
        const event = JSON.parse(buffered.slice(6, idx)) as { n: number; sentAt: number };
        buffered = buffered.slice(idx + 2);
        arrivals.push({ n: event.n, lag: Date.now() - event.sentAt });
      }
    }
    assert.equal(headers['content-type'], 'text/event-stream');
    assert.equal(headers.connection, undefined);
    assert.deepEqual(arrivals.map((a) => a.n), [1, 2, 3, 4, 5]);
    for (const a of arrivals) assert.ok(a.lag < 100, `event ${a.n} arrived ${a.lag} ms after it was sent (batched?)`);
  });

  it("answers with the gateway's JSON errors (404, 405 with Allow)", async () => {
    const r = await h2Request(session, { ':path': '/nope' });
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal((JSON.parse(r.body) as { error: { type: string } }).error.type, 'route_not_found');
    const m = await h2Request(session, { ':path': '/posts' });
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'POST');
  });

  it('answers 413 to oversized bodies and closes only that stream, cleanly', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'z');
    const declared = await h2Request(session, { ':method': 'POST', ':path': '/posts', 'content-length': String(big.length) }, big);
    assert.equal(declared.status, 413);
    assert.equal((JSON.parse(declared.body) as { error: { type: string } }).error.type, 'payload_too_large');
    const streamed = await h2Request(session, { ':method': 'POST', ':path': '/posts' }, [big.subarray(0, 1e6), big.subarray(1e6)]);
    assert.equal(streamed.status, 413);
    assert.equal(streamed.rstCode, 0, 'closed with NO_ERROR');
    // The session is still usable.
    assert.equal((await h2Request(session, { ':path': '/echo/after' })).status, 200);
  });

  it('writes access-log lines with httpVersion and the TLS facts of the session', async () => {
    await h2Request(session, { ':path': '/echo/logged', 'x-request-id': 'h2-log' });
    await waitFor(() => gw.accessLog.some((l) => l.requestId === 'h2-log'), 2000, 'access log line');
    const line = gw.accessLog.find((l) => l.requestId === 'h2-log')!;
    assert.equal(line.httpVersion, '2.0');
    assert.equal(line.status, 200);
    assert.match(line.tlsVersion, /^TLSv1\.[23]$/);
    assert.ok(line.tlsCipher);
    assert.equal(line.clientIp, '127.0.0.1');
    await waitFor(() => gw.accessLog.some((l) => l.error === 'PC_ERR_BODY_TOO_LARGE'), 2000, 'the 413 lines');
    // An HTTP/1.1 client on the same listener is logged as such.
    const { request } = await import('undici');
    await (await request(`${gw.httpsUrl}/echo/logged-h1`, { dispatcher: gw.agent, headers: { 'x-request-id': 'h1-log' } })).body.dump();
    await waitFor(() => gw.accessLog.some((l) => l.requestId === 'h1-log'), 2000, 'HTTP/1.1 access log line');
    assert.equal(gw.accessLog.find((l) => l.requestId === 'h1-log')!.httpVersion, '1.1');
  });

  it('serves the admin API over HTTP/2 too', async () => {
    const admin = await h2Connect(gw.adminUrl, gw.caPem);
    try {
      assert.equal(admin.alpnProtocol, 'h2');
      const r = await h2Request(admin, { ':path': '/healthz' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
      const denied = await h2Request(admin, { ':path': '/admin/v1/tenants' });
      assert.equal(denied.status, 401);
      const ok = await h2Request(admin, { ':path': '/admin/v1/tenants', authorization: `Bearer ${gw.token}` });
      assert.equal(ok.status, 200);
    } finally {
      admin.close();
    }
  });

  it('works with curl --http2', async () => {
    const caFile = join(gw.dataDir, 'ca-for-curl.pem');
    await writeFile(caFile, gw.caPem);
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('curl', ['-sS', '--max-time', '10', '--http2', '--cacert', caFile, '-D', '-', '-w', '\n%{http_version}', `${gw.httpsUrl}/echo/curl`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^HTTP\/2 200/);
    assert.match(out.stdout, /^strict-transport-security: max-age=31536000\r?$/m);
    assert.match(out.stdout, /"url":"\/echo\/curl"/);
    assert.match(out.stdout, /\n2$/);
  });
});

describe('HTTP/2 graceful stop', () => {
  let gw: TestGateway;
  let slow: TestUpstream;

  before(async () => {
    gw = await startGateway({ settings: { shutdownTimeout: 5000 } });
    slow = await startUpstream((_req, res) => setTimeout(() => res.end('finished'), 600));
    await gw.apply({ services: [{ name: 'slow', upstream: { targets: [{ url: slow.url }] }, routes: [{ name: 'slow', paths: ['/slow'] }] }] });
  });

  after(async () => {
    await gw.stop();
    await slow.close();
  });

  it('sends GOAWAY, finishes the streams in flight without connection headers, and stops', async () => {
    const session = await h2Connect(gw.httpsUrl, gw.caPem);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    session.on('error', () => undefined);
    const inFlight = Array.from({ length: 3 }, () => h2Request(session, { ':path': '/slow' }));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const stopping = gw.gateway.stop();
    await waitFor(() => goaway, 2000, 'GOAWAY');
    const results = await Promise.all(inFlight);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      for (const h of CONNECTION_SPECIFIC) assert.equal(r.headers[h], undefined, `${h} on an HTTP/2 response`);
    }
    await stopping;
    assert.ok(Date.now() - t0 < 4000, 'stop waited for the grace period instead of the drain');
    session.destroy();
  });
});

describe('timeouts on the HTTP/2 listener, for both protocols', () => {
  let gw: TestGateway;
  let echo: TestUpstream;

  before(async () => {
    gw = await startGateway({ settings: { limits: { headersTimeout: '1s', requestTimeout: '2s', keepAliveTimeout: '1s' } } });
    echo = await startUpstream();
    await gw.apply({ services: [{ name: 'echo', upstream: { targets: [{ url: echo.url }] }, routes: [{ name: 'echo', paths: ['/echo'] }] }] });
  });

  after(async () => {
    await gw.stop();
    await echo.close();
  });

  it('answers an HTTP/1.1 client that never finishes its head with 408 (headersTimeout)', async () => {
    const { connect: tlsConnect } = await import('node:tls');
    const url = new URL(gw.httpsUrl);
    const t0 = Date.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: gw.caPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => socket.write('GET /echo HTTP/1.1\r\nHost: localhost\r\n'));
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(8000, () => reject(new Error('socket hung')));
    });
    assert.match(raw, /^HTTP\/1\.1 408 /);
    assert.match(raw, /"type":"request_timeout"/);
    assert.match(raw, /\r\nstrict-transport-security: max-age=31536000\r\n/);
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
  });

  it('answers an HTTP/2 request whose body stalls with 408 (requestTimeout) and keeps the session', async () => {
    const session = await h2Connect(gw.httpsUrl, gw.caPem);
    try {
      const t0 = Date.now();
      const r = await new Promise<H2Response>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/echo/slow-body' }, { endStream: false });
        stream.write('partial…'); // and never ends
        let status = 0;
        let body = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (body += c));
        stream.on('close', () => resolve({ status, headers: {}, body, rstCode: stream.rstCode }));
        stream.on('error', reject);
      });
      assert.equal(r.status, 408);
      assert.match(r.body, /"type":"request_timeout"/);
      assert.ok(Date.now() - t0 >= 1500 && Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      assert.equal((await h2Request(session, { ':path': '/echo/next' })).status, 200);
    } finally {
      session.close();
    }
  });

  it('closes an idle HTTP/2 session with GOAWAY after keepAliveTimeout', async () => {
    const session = await h2Connect(gw.httpsUrl, gw.caPem);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    assert.equal((await h2Request(session, { ':path': '/echo/idle' })).status, 200);
    await waitFor(() => goaway, 4000, 'GOAWAY on an idle session');
    await closed;
  });
});
