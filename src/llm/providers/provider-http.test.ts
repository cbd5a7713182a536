import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { exchange } from './provider-exchange.js';
import { sendJson, splitUrl } from './provider-http.js';
import { ProviderError, type ProviderTarget } from './provider.js';
import { testIo } from './provider.conformance.js';

describe('splitUrl', () => {
  it('gives what new URL gives, slicing plain URLs and parsing the rest', () => {
    const urls = [
      'http://127.0.0.1:8080/v1/chat/completions',
      'https://x.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5:streamGenerateContent?alt=sse',
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5%3A0/converse',
      'http://[::1]:3000/api/chat',
      'http://h/a/../b',
      'http://h/a/./b',
      'http://h/x/..',
      'http://h/a/..?x',
      'http://h/.well-known/x',
      'http://h/a b',
      'http://h/é',
      'http://h/x#frag',
      'http://h?x=1',
      'http://h',
      'HTTP://H/x',
      'http://h:80/x',
      'https://h:443/x',
    ];
    for (const url of urls) {
      const u = new URL(url);
      assert.deepEqual(splitUrl(url), { origin: u.origin, path: u.pathname + u.search }, url);
    }
  });
});

describe('buffered provider exchange', () => {
  let server: Server;
  let origin: string;
  let pool: Pool;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.url === '/bom') {
        res.setHeader('content-type', 'application/json');
        res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":true}')]));
      } else if (req.url === '/big-error') {
        res.statusCode = 500;
        res.end('x'.repeat(200_000));
      } else if (req.url === '/hang') {
        res.flushHeaders();
      } else res.end('{"echo":"' + req.headers['x-k'] + '"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new Pool(origin);
  });
  after(async () => {
    await pool.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const target = (): ProviderTarget => ({ tenant: 't', provider: 'p', type: 'openai', model: 'm', baseUrl: origin, apiKey: undefined, keyName: undefined, headers: [['x-k', 'v']], options: {}, dispatcher: pool });

  it('parses a JSON answer, a byte order mark dropped', async () => {
    assert.deepEqual(await sendJson(target(), testIo(), { url: `${origin}/x`, body: {} }, 'P'), { echo: 'v' });
    assert.deepEqual(await sendJson(target(), testIo(), { url: `${origin}/bom`, body: {} }, 'P'), { ok: true });
  });

  it('keeps at most the error cap of a failed answer, and the connection usable', async () => {
    const a = await exchange(pool, { origin, path: '/big-error', method: 'POST', headers: {}, body: '{}', headersTimeout: 5000, bodyTimeout: 5000 }, testIo(), 1000);
    assert.equal(a.status, 500);
    assert.equal(a.body.length, 1000);
    assert.deepEqual(await sendJson(target(), testIo(), { url: `${origin}/x`, body: {} }, 'P'), { echo: 'v' });
  });

  it("rejects with the attempt's abort reason", async () => {
    const ac = new AbortController();
    const reason = new ProviderError('timeout', 504, 'timeout_error', 'attempt timed out');
    setTimeout(() => ac.abort(reason), 20);
    await assert.rejects(sendJson(target(), testIo(ac.signal), { url: `${origin}/hang`, body: {} }, 'P'), (e: unknown) => e === reason);
    await assert.rejects(sendJson(target(), testIo(ac.signal), { url: `${origin}/x`, body: {} }, 'P'), (e: unknown) => e === reason);
  });
});
