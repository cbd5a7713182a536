import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, jwtVerify, type JWK } from 'jose';
import { JwksRegistry } from './jwks-registry.js';

/** A self-signed P-256 certificate for 127.0.0.1, made with openssl. */
function selfSignedCert(): { certPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-jwks-test-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('JwksRegistry', () => {
  const settings = { cacheMaxAge: 60_000, cooldown: 1000 };

  it('memoises resolvers per URL, CA and settings', async () => {
    const registry = new JwksRegistry();
    const a = registry.get('https://idp.example.com/jwks', settings);
    assert.equal(registry.get('https://idp.example.com/jwks', { ...settings }), a);
    assert.notEqual(registry.get('https://idp.example.com/jwks', { ...settings, cooldown: 2000 }), a);
    assert.notEqual(registry.get('https://idp.example.com/jwks', { ...settings, ca: 'PEM' }), a);
    assert.notEqual(registry.get('https://other.example.com/jwks', settings), a);
    assert.equal(registry.size, 4);
    await registry.retain([a]);
    assert.equal(registry.size, 1);
    assert.equal(registry.get('https://idp.example.com/jwks', settings), a);
    await registry.close();
    assert.throws(() => registry.get('https://idp.example.com/jwks', settings), /closed/);
  });

  describe('over https with a private CA', () => {
    let server: Server;
    let url: string;
    let certPem: string;
    let jwk: JWK;
    let token: string;
    let fetches = 0;

    before(async () => {
      const tls = selfSignedCert();
      certPem = tls.certPem;
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
      token = await new SignJWT({ sub: 's' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey);
      server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
        fetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('fetches through an agent that trusts jwksCa, and refuses the server without it', async () => {
      const registry = new JwksRegistry();
      try {
        const trusting = registry.get(url, { ...settings, ca: certPem });
        const { payload } = await jwtVerify(token, trusting);
        assert.equal(payload.sub, 's');
        assert.equal(fetches, 1);
        const before = fetches;
        await assert.rejects(jwtVerify(token, registry.get(url, { ...settings, timeoutMs: 2000 })));
        assert.equal(fetches, before, 'the system roots do not trust the test CA');
      } finally {
        await registry.close();
      }
    });

    it('closes its agents: a resolver kept past close() re-creates none', async () => {
      const registry = new JwksRegistry();
      const resolver = registry.get(url, { ...settings, ca: certPem });
      await registry.close();
      await assert.rejects(jwtVerify(token, resolver), /closed/);
    });
  });
});
