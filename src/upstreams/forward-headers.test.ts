import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardInput } from './forward-headers.js';

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

const base: ForwardInput = {
  rawHeaders: [],
  clientIp: '203.0.113.7',
  trustedPeer: false,
  proto: 'https',
  host: 'api.example.com',
  upstreamHost: 'backend:8080',
  requestId: 'rid',
  extra: [],
  edits: undefined,
  httpVersion: '1.1',
};

describe('upstreamRequestHeaders', () => {
  it('drops hop-by-hop headers and those named in Connection', () => {
    const h = pairs(upstreamRequestHeaders({ ...base, rawHeaders: ['Connection', 'keep-alive, X-Secret', 'X-Secret', '1', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Upgrade', 'h2c', 'Accept', '*/*'] }));
    assert.deepEqual(Object.keys(h).filter((k) => /connection|secret|keep-alive|^te$|upgrade/i.test(k)), []);
    assert.equal(h.Accept, '*/*');
  });

  it('replaces forwarding headers from untrusted peers and extends them from trusted ones', () => {
    const raw = ['X-Forwarded-For', '10.0.0.1', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'evil', 'Forwarded', 'for=1.2.3.4', 'Via', '1.1 edge'];
    const untrusted = pairs(upstreamRequestHeaders({ ...base, rawHeaders: raw }));
    assert.equal(untrusted['x-forwarded-for'], '203.0.113.7');
    assert.equal(untrusted['x-forwarded-proto'], 'https');
    assert.equal(untrusted['x-forwarded-host'], 'api.example.com');
    assert.equal(untrusted.forwarded, undefined);
    assert.equal(untrusted.via, '1.1 edge, 1.1 portcullis');
    const trusted = pairs(upstreamRequestHeaders({ ...base, rawHeaders: raw, trustedPeer: true }));
    assert.equal(trusted['x-forwarded-for'], '10.0.0.1, 203.0.113.7');
    assert.equal(trusted['x-forwarded-proto'], 'http');
    assert.equal(trusted['x-forwarded-host'], 'evil');
    assert.equal(trusted.forwarded, 'for=1.2.3.4');
  });

  it('sets Host to the target unless preserved, and lets configured headers and edits win', () => {
    const h = pairs(
      upstreamRequestHeaders({
        ...base,
        rawHeaders: ['Host', 'api.example.com', 'Authorization', 'client', 'X-Remove', 'y'],
        extra: [['authorization', 'Bearer upstream']],
        edits: new Map([
          ['x-remove', null],
          ['x-added', 'v'],
        ]),
      }),
    );
    assert.equal(h.host, 'backend:8080');
    assert.equal(h.authorization, 'Bearer upstream');
    assert.equal(h.Authorization, undefined);
    assert.equal(h['X-Remove'], undefined);
    assert.equal(h['x-added'], 'v');
    const kept = pairs(upstreamRequestHeaders({ ...base, upstreamHost: undefined }));
    assert.equal(kept.host, 'api.example.com');
  });

  it("drops the client's copy of consumed credential headers, keeping the service's own", () => {
    const raw = ['Authorization', 'Bearer client-token', 'X-Api-Key', 'pck_x', 'Accept', '*/*'];
    const h = pairs(upstreamRequestHeaders({ ...base, rawHeaders: raw, consumed: new Set(['authorization', 'x-api-key']), extra: [['authorization', 'Bearer upstream']] }));
    assert.equal(h.Authorization, undefined);
    assert.equal(h['X-Api-Key'], undefined);
    assert.equal(h.authorization, 'Bearer upstream');
    assert.equal(h.Accept, '*/*');
  });
});

describe('upstreamRequestHeaders from HTTP/2 clients', () => {
  it('never forwards pseudo-headers, and joins split Cookie fields', () => {
    const flat = upstreamRequestHeaders({
      ...base,
      httpVersion: '2.0',
      host: 'api.example.com:8443',
      rawHeaders: [':method', 'GET', ':path', '/x', ':authority', 'api.example.com:8443', ':scheme', 'https', 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2'],
    });
    const names = flat.filter((_, i) => i % 2 === 0);
    assert.deepEqual(names.filter((n) => n.startsWith(':')), []);
    assert.deepEqual(names.filter((n) => n === 'cookie'), ['cookie']);
    const h = pairs(flat);
    assert.equal(h.cookie, 'a=1; b=2');
    assert.equal(h['x-forwarded-host'], 'api.example.com:8443');
    assert.equal(h.via, '2.0 portcullis');
  });
});

describe('clientResponseHeaders', () => {
  it('drops hop-by-hop response headers', () => {
    const h = clientResponseHeaders({ connection: 'x-internal', 'x-internal': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
    assert.deepEqual(h, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  });
});
