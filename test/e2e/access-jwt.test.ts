/**
 * Tokens of a trusted JWT issuer end to end: a local JWKS server (plain HTTP on loopback), a
 * `jwt-issuer` config object, applications mapped by issuer and subject, the refusals, and key
 * rotation picked up by refetching the JWKS.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';
import { accessDoc, call, createCredential, grant, LENIENT_FAILURES, servicePath, startJwksServer, type JwksServer } from './access-harness.js';

const AUDIENCE = 'https://api.portcullis.test';

interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

interface TokenInput {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  claims?: Record<string, unknown>;
  kid?: string;
}

function sign(key: SigningKey, issuer: string, t: TokenInput = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...t.claims })
    .setProtectedHeader({ alg: key.alg, kid: t.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(t.iss ?? issuer)
    .setSubject(t.sub ?? 'svc-reporting')
    .setAudience(t.aud ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (t.expiresIn ?? 300))
    .sign(key.privateKey);
}

describe('JWT issuers', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let jwks: JwksServer;
  let rsa: SigningKey;
  let ec: SigningKey;
  let impostor: SigningKey;

  before(async () => {
    [rsa, ec, impostor] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-2'), signingKey('RS256', 'rsa-1')]);
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES } } });
    up = await startUpstream();
    jwks = await startJwksServer();
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
    await jwks?.close();
  });

  /**
   * A tenant trusting issuer `https://idp.test/<tenant>` (JWKS `<tenant>`, serving `keys`), with an
   * application `reporting` for subject `svc-reporting` subscribed to service `api` (methods [jwt]).
   */
  async function issuerTenant(tenant: string, keys: JWK[], issuerExtra: Record<string, unknown> = {}): Promise<{ issuer: string; path: string }> {
    const issuer = `https://idp.test/${tenant}`;
    jwks.set(tenant, keys);
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['jwt'], approval: 'auto' } }], {
        jwtIssuers: [{ name: 'idp', issuer, audiences: [AUDIENCE], jwksUrl: jwks.url(tenant), clockSkew: '5s', ...issuerExtra }],
        applications: [{ name: 'reporting', jwt: [{ issuer: 'idp', subject: 'svc-reporting' }] }, { name: 'other' }],
      }),
      tenant,
    );
    await grant(gw, tenant, 'reporting', 'api');
    return { issuer, path: servicePath(tenant, 'api') };
  }

  const bearer = (path: string, token: string) => call(gw, path, { headers: { authorization: `Bearer ${token}` } });

  it('accepts a valid RS256 token as the mapped application', async () => {
    const tenant = 'j-valid';
    const { issuer, path } = await issuerTenant(tenant, [rsa.publicJwk]);
    const from = gw.accessLog.length;
    const r = await bearer(path, await sign(rsa, issuer));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers['x-portcullis-application'], 'reporting');
    assert.equal(r.json.headers['x-portcullis-auth-method'], 'jwt');
    assert.equal(r.json.headers['x-portcullis-credential'], 'idp');
    assert.equal(jwks.fetches(tenant), 1);
    // A second token is verified with the cached key set.
    assert.equal((await bearer(path, await sign(rsa, issuer, { claims: { n: 2 } }))).status, 200);
    assert.equal(jwks.fetches(tenant), 1, 'the JWKS is fetched once, not per request');
    const line = gw.accessLog.slice(from).find((l) => l.path === path && l.status === 200)!;
    assert.equal(line.application, 'reporting');
    assert.equal(line.authMethod, 'jwt');
    assert.equal(line.credential, 'idp');
  });

  it('refuses wrong audience, expiry, unmapped subject, foreign issuer and a forged signature with the generic 401', async () => {
    const tenant = 'j-refuse';
    const { issuer, path } = await issuerTenant(tenant, [rsa.publicJwk]);
    const cases: Array<[string, Promise<string>]> = [
      ['wrong audience', sign(rsa, issuer, { aud: 'https://elsewhere.test' })],
      ['expired', sign(rsa, issuer, { expiresIn: -60 })],
      ['unmapped subject', sign(rsa, issuer, { sub: 'svc-unknown' })],
      ['unknown issuer', sign(rsa, issuer, { iss: 'https://idp.test/someone-else' })],
      ['forged signature (same kid, other key)', sign(impostor, issuer)],
      ['not a JWT', Promise.resolve('abc.def')],
    ];
    const bodies = new Set<string>();
    for (const [what, token] of cases) {
      const r = await bearer(path, await token);
      assert.equal(r.status, 401, `${what}: ${r.text}`);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="portcullis"', what);
      bodies.add(r.text);
    }
    assert.equal(bodies.size, 1, [...bodies].join(' | '));
    assert.equal((await bearer(path, await sign(rsa, issuer))).status, 200, 'a good token still works');
  });

  it("maps a token only within the issuer's tenant", async () => {
    const a = await issuerTenant('j-tenant-a', [rsa.publicJwk]);
    const b = await issuerTenant('j-tenant-b', [ec.publicJwk]);
    const tokenA = await sign(rsa, a.issuer);
    assert.equal((await bearer(a.path, tokenA)).status, 200);
    assert.equal((await bearer(b.path, tokenA)).status, 401, "tenant A's issuer means nothing to tenant B's service");
    assert.equal((await bearer(b.path, await sign(ec, b.issuer))).status, 200);
  });

  it('picks up a rotated key from the JWKS (new kid) once the refetch cooldown allows, and drops the retired one', async () => {
    const tenant = 'j-rotate';
    const { issuer, path } = await issuerTenant(tenant, [rsa.publicJwk], { jwksCooldown: '1s' });
    const old = await sign(rsa, issuer);
    const firstFetch = Date.now();
    assert.equal((await bearer(path, old)).status, 200);
    const fetched = jwks.fetches(tenant);

    // The identity provider rotates: only the new ES256 key (kid ec-2) is published.
    jwks.set(tenant, [ec.publicJwk]);
    const token = await sign(ec, issuer);
    const early = await bearer(path, token);
    // (Only provable when this request certainly fell within the cooldown; a loaded machine may be slower.)
    if (Date.now() - firstFetch < 1000) {
      assert.equal(early.status, 401, 'within the cooldown an unknown kid does not trigger a fetch');
      assert.equal(jwks.fetches(tenant), fetched);
    }
    await waitFor(async () => (await bearer(path, token)).status === 200, 3000, 'the new key to be fetched');
    assert.equal(jwks.fetches(tenant), fetched + 1, 'one refetch for the new kid');
    assert.equal((await bearer(path, await sign(ec, issuer, { claims: { n: 2 } }))).status, 200);
    assert.equal((await bearer(path, old)).status, 200, 'a token verified before the rotation stays valid until it expires');
    const retired = await bearer(path, await sign(rsa, issuer, { claims: { n: 3 } }));
    assert.equal(retired.status, 401, 'a new token signed with the retired key is refused');
  });

  it('answers the generic 401, not a server error, when the JWKS cannot be fetched', async () => {
    const tenant = 'j-no-jwks';
    const { issuer, path } = await issuerTenant(tenant, [rsa.publicJwk]);
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['jwt'], approval: 'auto' } }], {
        jwtIssuers: [{ name: 'idp', issuer, audiences: [AUDIENCE], jwksUrl: jwks.url('missing') }],
        applications: [{ name: 'reporting', jwt: [{ issuer: 'idp', subject: 'svc-reporting' }] }],
      }),
      tenant,
    );
    const r = await bearer(path, await sign(rsa, issuer));
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.type, 'unauthenticated');
  });

  it('accepts, under require all, a JWT and an API key that name the same application', async () => {
    const tenant = 'j-all';
    const issuer = `https://idp.test/${tenant}`;
    jwks.set(tenant, [ec.publicJwk]);
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['jwt', 'api-key'], require: 'all', approval: 'auto' } }], {
        jwtIssuers: [{ name: 'idp', issuer, audiences: [AUDIENCE], jwksUrl: jwks.url(tenant) }],
        applications: [{ name: 'reporting', jwt: [{ issuer: 'idp', subject: 'svc-reporting' }] }, { name: 'other' }],
      }),
      tenant,
    );
    await grant(gw, tenant, 'reporting', 'api');
    const path = servicePath(tenant, 'api');
    const own = (await createCredential(gw, tenant, 'reporting')).secret;
    const foreign = (await createCredential(gw, tenant, 'other')).secret;
    const token = await sign(ec, issuer);
    const both = await call(gw, path, { headers: { authorization: `Bearer ${token}`, 'x-api-key': own } });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.json.headers['x-portcullis-auth-method'], 'jwt,api-key');
    assert.equal((await bearer(path, token)).status, 401, 'the JWT alone is not enough');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': own } })).status, 401, 'the key alone is not enough');
    assert.equal((await call(gw, path, { headers: { authorization: `Bearer ${token}`, 'x-api-key': foreign } })).status, 401, 'two different applications');
  });
});
