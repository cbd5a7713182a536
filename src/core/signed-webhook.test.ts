import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { SIGNATURE_HEADER, signedWebhookSender, webhookSignature } from './signed-webhook.js';

describe('signed webhooks', () => {
  let server: Server;
  let url: string;
  /** Statuses to answer with, in order; 204 once exhausted. */
  let answers: number[] = [];
  const received: Array<{ headers: IncomingHttpHeaders; raw: Buffer }> = [];
  const send = signedWebhookSender(pino({ level: 'silent' }));

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('signs the exact body: HMAC-SHA-256, hex, sha256= prefix', async () => {
    received.length = 0;
    const body = JSON.stringify({ event: 'test', text: 'héllo' });
    assert.equal(await send({ url, secret: 'sixteen-chars-secret' }, body), true);
    const got = received[0]!;
    assert.equal(got.headers['content-type'], 'application/json');
    const signature = String(got.headers[SIGNATURE_HEADER]);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    const expected = createHmac('sha256', 'sixteen-chars-secret').update(got.raw).digest();
    assert.ok(timingSafeEqual(Buffer.from(signature.slice(7), 'hex'), expected));
    assert.equal(webhookSignature(body, 'sixteen-chars-secret'), signature);
  });

  it('sends no signature without a secret', async () => {
    received.length = 0;
    assert.equal(await send({ url }, '{}'), true);
    assert.equal(received[0]!.headers[SIGNATURE_HEADER], undefined);
  });

  it('retries error answers along the backoff table, then gives up', async () => {
    received.length = 0;
    answers = [500, 503];
    assert.equal(await send({ url }, '{}', { backoffMs: [0, 0] }), true, 'third attempt delivered');
    assert.equal(received.length, 3);
    received.length = 0;
    answers = [500, 500, 500];
    assert.equal(await send({ url }, '{}', { backoffMs: [0, 0] }), false);
    assert.equal(received.length, 3);
    answers = [];
  });

  it('does not send once aborted', async () => {
    received.length = 0;
    assert.equal(await send({ url }, '{}', { signal: AbortSignal.abort() }), false);
    assert.equal(received.length, 0);
  });
});
