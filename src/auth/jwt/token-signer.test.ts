import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { JwksRegistry } from './jwks-registry.js';
import { JwtAuthenticator } from './jwt-authenticator.js';
import { JwtIssuerSpecSchema } from './jwt-issuer-spec.js';
import { generateSigningKey, publicJwks, signAccessToken } from './token-signer.js';

describe('token signer', () => {
  const registry = new JwksRegistry();
  after(() => registry.close());

  it('generates ES256 keys whose kid is the RFC 7638 thumbprint, and a public JWKS without private members', async () => {
    const key = await generateSigningKey();
    assert.equal(key.kid, await calculateJwkThumbprint(key.publicJwk, 'sha256'));
    assert.equal(key.privateJwk.kty, 'EC');
    assert.equal(typeof key.privateJwk.d, 'string');
    const jwks = publicJwks([key]);
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual(jwks.keys[0], { ...key.publicJwk, kid: key.kid, alg: 'ES256', use: 'sig' });
    assert.equal('d' in jwks.keys[0]!, false);
  });

  it('round-trips through JwtAuthenticator with static keys = publicJwks, surfacing the cnf thumbprint', async () => {
    const [old, current] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    const spec = JwtIssuerSpecSchema.parse({ name: 'gateway', issuer: 'https://gw.example/', audiences: ['api'], keys: publicJwks([old!, current!]).keys });
    const now = Date.now();
    const auth = new JwtAuthenticator([{ tenant: 'acme', spec }], { jwks: registry, now: () => now });
    const thumb = Buffer.alloc(32, 1).toString('base64url');
    const token = await signAccessToken(current!, { iss: 'https://gw.example/', aud: 'api', sub: 'app-1', ttlSeconds: 600, cnfX5tS256: thumb, scope: 'read write', extra: { client_id: 'app-1', sub: 'ignored' } }, now);

    assert.deepEqual(decodeProtectedHeader(token), { alg: 'ES256', kid: current!.kid, typ: 'at+jwt' });
    const v = await auth.verify(token);
    assert.equal(v.subject, 'app-1');
    assert.equal(v.certThumbprint, thumb);
    assert.equal(v.claims.scope, 'read write');
    assert.equal(v.claims.client_id, 'app-1');
    assert.equal(typeof v.claims.jti, 'string');
    const iat = Math.floor(now / 1000);
    assert.equal(v.claims.iat, iat);
    assert.equal(v.claims.nbf, iat);
    assert.equal(v.expiresAt, (iat + 600) * 1000);

    // The other key of the set verifies its own tokens too.
    assert.equal((await auth.verify(await signAccessToken(old!, { iss: 'https://gw.example/', aud: 'api', sub: 'app-2', ttlSeconds: 60, jti: 'j1' }, now))).claims.jti, 'j1');
  });

  it('refuses a non-positive or fractional ttl', async () => {
    const key = await generateSigningKey();
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(signAccessToken(key, { iss: 'i', aud: 'a', sub: 's', ttlSeconds }), RangeError);
    }
  });
});
