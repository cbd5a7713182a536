/**
 * The gateway's OAuth 2.0 client credentials grant end to end, with undici's fetch: tokens by HTTP
 * Basic and by form fields, their shape and signature (checked against the tenant JWKS with jose),
 * their use on an oauth2 service, the RFC 6749 errors, and revocation of the client.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { fetch } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';
import { accessDoc, call, createCredential, grant, LENIENT_FAILURES, revokeCredential, servicePath, type Issued } from './access-harness.js';

const TOKEN_PATH = '/_portcullis/oauth2/token';
const OAUTH_ONLY = { methods: ['oauth2'], approval: 'auto' };

describe('OAuth2 client credentials', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  before(async () => {
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES, tokenTtl: '2m' } } });
    up = await startUpstream();
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  /** A tenant with an application `batch` subscribed to service `api` (methods [oauth2]) and an oauth-client for it. */
  async function clientTenant(tenant: string): Promise<{ client: Issued; path: string }> {
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: OAUTH_ONLY }], { applications: [{ name: 'batch' }] }), tenant);
    await grant(gw, tenant, 'batch', 'api');
    return { client: await createCredential(gw, tenant, 'batch', { type: 'oauth-client' }), path: servicePath(tenant, 'api') };
  }

  async function tokenRequest(form: Record<string, string>, basic?: { id: string; secret: string }): Promise<{ status: number; headers: Headers; body: any }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
    const r = await fetch(`${gw.httpsUrl}${TOKEN_PATH}`, { method: 'POST', headers, body: new URLSearchParams(form).toString(), dispatcher: gw.agent });
    return { status: r.status, headers: r.headers as unknown as Headers, body: await r.json() };
  }

  const bearer = (path: string, token: string) => call(gw, path, { headers: { authorization: `Bearer ${token}` } });

  it('issues an ES256 at+jwt by HTTP Basic and by form fields, usable on an oauth2 service', async () => {
    const tenant = 'o-issue';
    const { client, path } = await clientTenant(tenant);
    assert.match(client.clientId!, /^pcc_[a-z2-7]{10}$/);
    assert.equal(client.clientId, client.prefix);

    const basic = await tokenRequest({ grant_type: 'client_credentials' }, { id: client.clientId!, secret: client.secret });
    assert.equal(basic.status, 200, JSON.stringify(basic.body));
    assert.equal(basic.headers.get('cache-control'), 'no-store');
    assert.equal(basic.body.token_type, 'Bearer');
    assert.equal(basic.body.expires_in, 120);
    const token = basic.body.access_token as string;
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, `urn:portcullis:tenant:${tenant}`);
    assert.equal(claims.aud, `urn:portcullis:tenant:${tenant}`);
    assert.equal(claims.sub, 'batch');
    assert.equal(claims.client_id, client.clientId);
    assert.equal(claims.exp! - claims.iat!, 120);
    assert.equal(claims.cnf, undefined, 'an unbound client gets an unbound token');

    const form = await tokenRequest({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: client.secret });
    assert.equal(form.status, 200, JSON.stringify(form.body));
    assert.notEqual(form.body.access_token, token);

    for (const t of [token, form.body.access_token as string]) {
      const r = await bearer(path, t);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.headers['x-portcullis-application'], 'batch');
      assert.equal(r.json.headers['x-portcullis-auth-method'], 'oauth2');
      assert.equal(r.json.headers['x-portcullis-credential'], client.clientId);
    }
    const key = await createCredential(gw, tenant, 'batch');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': key.secret } })).status, 401, 'an API key is not accepted by an oauth2-only service');
  });

  it('serves the tenant JWKS that verifies its tokens', async () => {
    const tenant = 'o-jwks';
    const { client } = await clientTenant(tenant);
    const { body } = await tokenRequest({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: client.secret });
    const r = await fetch(`${gw.httpsUrl}/_portcullis/oauth2/${tenant}/jwks.json`, { dispatcher: gw.agent });
    assert.equal(r.status, 200);
    const set = (await r.json()) as { keys: Array<Record<string, unknown>> };
    assert.equal(set.keys.length, 1);
    assert.equal(set.keys[0]!.kty, 'EC');
    assert.equal(set.keys[0]!.d, undefined, 'never the private key');
    assert.equal(set.keys[0]!.kid, decodeProtectedHeader(body.access_token).kid);
    const verified = await jwtVerify(body.access_token as string, createLocalJWKSet(set as never), {
      issuer: `urn:portcullis:tenant:${tenant}`,
      audience: `urn:portcullis:tenant:${tenant}`,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(verified.payload.sub, 'batch');
    const other = await fetch(`${gw.httpsUrl}/_portcullis/oauth2/o-issue-nobody/jwks.json`, { dispatcher: gw.agent });
    assert.equal(other.status, 404, 'no JWKS for a tenant that does not exist');
    await other.body?.cancel();
  });

  it('answers invalid_client for bad client credentials and unsupported_grant_type for other grants', async () => {
    const tenant = 'o-errors';
    const { client } = await clientTenant(tenant);
    const fake = 'A'.repeat(43);
    const failures = [
      await tokenRequest({ grant_type: 'client_credentials' }, { id: client.clientId!, secret: fake }),
      await tokenRequest({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: fake }),
      await tokenRequest({ grant_type: 'client_credentials', client_id: 'pcc_aaaaaaaaaa', client_secret: client.secret }),
      await tokenRequest({ grant_type: 'client_credentials' }),
    ];
    for (const f of failures) {
      assert.equal(f.status, 401, JSON.stringify(f.body));
      assert.equal(f.body.error, 'invalid_client');
      assert.match(f.headers.get('www-authenticate') ?? '', /^Basic /);
    }
    assert.equal(new Set(failures.map((f) => JSON.stringify(f.body))).size, 1, 'never says which part failed');

    const grantType = await tokenRequest({ grant_type: 'password', username: 'u', password: 'p' }, { id: client.clientId!, secret: client.secret });
    assert.equal(grantType.status, 400);
    assert.equal(grantType.body.error, 'unsupported_grant_type');
    const get = await fetch(`${gw.httpsUrl}${TOKEN_PATH}`, { dispatcher: gw.agent });
    assert.equal(get.status, 405);
    await get.body?.cancel();
    const json = await fetch(`${gw.httpsUrl}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }),
      dispatcher: gw.agent,
    });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
  });

  it("makes a revoked client's existing tokens fail on the next request", async () => {
    const tenant = 'o-revoke';
    const { client, path } = await clientTenant(tenant);
    const { body } = await tokenRequest({ grant_type: 'client_credentials' }, { id: client.clientId!, secret: client.secret });
    const token = body.access_token as string;
    assert.equal((await bearer(path, token)).status, 200);
    await revokeCredential(gw, tenant, client.id);
    const r = await bearer(path, token);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="portcullis"');
    const again = await tokenRequest({ grant_type: 'client_credentials' }, { id: client.clientId!, secret: client.secret });
    assert.equal(again.status, 401);
    assert.equal(again.body.error, 'invalid_client');
  });

  it("refuses a token on another tenant's service, and a tampered token", async () => {
    const a = await clientTenant('o-tenant-a');
    const b = await clientTenant('o-tenant-b');
    const { body } = await tokenRequest({ grant_type: 'client_credentials' }, { id: a.client.clientId!, secret: a.client.secret });
    const token = body.access_token as string;
    assert.equal((await bearer(a.path, token)).status, 200);
    assert.equal((await bearer(b.path, token)).status, 401);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${s}`;
    assert.equal((await bearer(a.path, forged)).status, 401);
  });
});
