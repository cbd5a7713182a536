/**
 * Client certificates as identities end to end (curl --cert and undici): applications mapped by
 * fingerprint or SAN URI, `require: all` with mTLS plus an API key, and credentials bound to a
 * certificate (API keys, and OAuth2 clients whose tokens carry `cnf.x5t#S256`). The listener asks for
 * client certificates optionally (`https.clientAuth`), trusting a client CA made here. Clients connect
 * by the name `localhost` so that they send SNI: the default domain's client CAs are applied to
 * connections that name a server (without SNI, Node verifies with the listener's base context).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { fetch, type Agent } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';
import { accessDoc, call as callAt, clientAgent, clientCa, clientCert, createCredential, curl as curlAt, grant, LENIENT_FAILURES, namedOrigin, servicePath, type ClientCert } from './access-harness.js';

const SAN_B = 'spiffe://portcullis.test/app/beta';

describe('mTLS identities and certificate-bound credentials', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let work: string;
  let certA: ClientCert;
  let certB: ClientCert;
  let stranger: ClientCert;
  const agents: Record<'a' | 'b' | 'stranger', Agent> = {} as never;
  let origin: string;
  const call = (g: TestGateway, path: string, opts: Parameters<typeof callAt>[2] = {}) => callAt(g, path, { ...opts, origin });
  const curl = (g: TestGateway, path: string, opts: Parameters<typeof curlAt>[2] = {}) => curlAt(g, path, { ...opts, origin });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-access-mtls-'));
    const ca = await clientCa('Access Test Client CA');
    await writeFile(join(work, 'client-ca.pem'), ca.certPem);
    [certA, certB, stranger] = await Promise.all([
      clientCert(ca, 'alpha', ['spiffe://portcullis.test/app/alpha'], work),
      clientCert(ca, 'beta', [SAN_B], work),
      clientCert(ca, 'stranger', ['spiffe://portcullis.test/app/stranger'], work),
    ]);
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES }, https: { host: '127.0.0.1', port: 0, clientAuth: { mode: 'optional', caFile: join(work, 'client-ca.pem') } } } });
    up = await startUpstream();
    origin = namedOrigin(gw);
    agents.a = clientAgent(gw, { cert: certA });
    agents.b = clientAgent(gw, { cert: certB });
    agents.stranger = clientAgent(gw, { cert: stranger });
  });
  after(async () => {
    await Promise.all(Object.values(agents).map((a) => a.close()));
    await gw?.stop();
    await up?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('identifies applications by certificate fingerprint or SAN URI (curl --cert)', async () => {
    const tenant = 'm-identity';
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['mtls'], approval: 'auto' } }], {
        applications: [
          { name: 'by-fingerprint', mtls: [{ fingerprint: certA.fingerprintColons }] },
          { name: 'by-san', mtls: [{ sanUri: SAN_B }] },
        ],
      }),
      tenant,
    );
    await grant(gw, tenant, 'by-fingerprint', 'api');
    await grant(gw, tenant, 'by-san', 'api');
    const path = servicePath(tenant, 'api');

    const a = await curl(gw, path, { cert: certA });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.headers['x-portcullis-application'], 'by-fingerprint');
    assert.equal(a.json.headers['x-portcullis-auth-method'], 'mtls');
    assert.equal(a.json.headers['x-portcullis-credential'], certA.fingerprint);
    const b = await curl(gw, path, { cert: certB });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.headers['x-portcullis-application'], 'by-san');

    const unmapped = await curl(gw, path, { cert: stranger });
    assert.equal(unmapped.status, 401, unmapped.text);
    assert.equal(unmapped.headers['www-authenticate'], 'Bearer realm="portcullis"');
    const none = await curl(gw, path);
    assert.equal(none.status, 401);
    assert.equal(none.text, unmapped.text, 'no certificate and an unknown one look the same');

    const line = gw.accessLog.findLast((l) => l.path === path && l.status === 200 && l.application === 'by-san');
    assert.equal(line?.authMethod, 'mtls');
    assert.equal(line?.credential, certB.fingerprint);
    assert.equal(line?.clientCertFingerprint, certB.fingerprint);
  });

  it('needs both a certificate and an API key of the same application under require: all', async () => {
    const tenant = 'm-all';
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['mtls', 'api-key'], require: 'all', approval: 'auto' } }], {
        applications: [
          { name: 'alpha', mtls: [{ fingerprint: certA.fingerprint }] },
          { name: 'beta', mtls: [{ sanUri: SAN_B }] },
        ],
      }),
      tenant,
    );
    await grant(gw, tenant, 'alpha', 'api');
    await grant(gw, tenant, 'beta', 'api');
    const path = servicePath(tenant, 'api');
    const alphaKey = (await createCredential(gw, tenant, 'alpha')).secret;

    const both = await curl(gw, path, { cert: certA, headers: { 'x-api-key': alphaKey } });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.json.headers['x-portcullis-application'], 'alpha');
    assert.equal(both.json.headers['x-portcullis-auth-method'], 'mtls,api-key');
    assert.equal(both.json.headers['x-portcullis-credential'], alphaKey.slice(0, 14), 'the key prefix names the credential');

    const cases: Array<[string, ClientCert | undefined, Record<string, string>]> = [
      ['certificate only', certA, {}],
      ['key only', undefined, { 'x-api-key': alphaKey }],
      ["another application's certificate", certB, { 'x-api-key': alphaKey }],
      ['an unmapped certificate', stranger, { 'x-api-key': alphaKey }],
    ];
    for (const [what, cert, headers] of cases) {
      const r = await curl(gw, path, { ...(cert ? { cert } : {}), headers });
      assert.equal(r.status, 401, `${what}: ${r.text}`);
    }
  });

  it('under require: any, takes either credential, but refuses two that name different applications', async () => {
    const tenant = 'm-any';
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['mtls', 'api-key'], require: 'any', approval: 'auto' } }], {
        applications: [
          { name: 'alpha', mtls: [{ fingerprint: certA.fingerprint }] },
          { name: 'beta', mtls: [{ sanUri: SAN_B }] },
        ],
      }),
      tenant,
    );
    await grant(gw, tenant, 'alpha', 'api');
    await grant(gw, tenant, 'beta', 'api');
    const path = servicePath(tenant, 'api');
    const alphaKey = (await createCredential(gw, tenant, 'alpha', { scopes: { services: ['api'] } })).secret;
    const headers = { 'x-api-key': alphaKey };

    const certOnly = await call(gw, path, { dispatcher: agents.b });
    assert.equal(certOnly.status, 200, certOnly.text);
    assert.equal(certOnly.json.headers['x-portcullis-application'], 'beta');
    const keyOnly = await call(gw, path, { headers });
    assert.equal(keyOnly.json.headers['x-portcullis-application'], 'alpha');
    const same = await call(gw, path, { headers, dispatcher: agents.a });
    assert.equal(same.status, 200);
    assert.equal(same.json.headers['x-portcullis-auth-method'], 'mtls,api-key');
    const unmapped = await call(gw, path, { headers, dispatcher: agents.stranger });
    assert.equal(unmapped.status, 200, 'an unmapped certificate is no identity: the key decides');
    assert.equal(unmapped.json.headers['x-portcullis-auth-method'], 'api-key');
    const mixed = await call(gw, path, { headers, dispatcher: agents.b });
    assert.equal(mixed.status, 401, `beta's certificate with alpha's key is ambiguous: ${mixed.text}`);
  });

  it('accepts an API key bound to a certificate only on connections presenting that certificate', async () => {
    const tenant = 'm-bound-key';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['api-key'], approval: 'auto' } }], { applications: [{ name: 'app' }] }), tenant);
    await grant(gw, tenant, 'app', 'api');
    const path = servicePath(tenant, 'api');
    const key = await createCredential(gw, tenant, 'app', { boundCertificate: certA.fingerprintColons });
    assert.equal(key.credential.boundCertificate, certA.fingerprint, 'stored normalised');
    const headers = { 'x-api-key': key.secret };

    assert.equal((await call(gw, path, { headers })).status, 401, 'without a certificate');
    assert.equal((await call(gw, path, { headers, dispatcher: agents.b })).status, 401, 'with another certificate');
    const ok = await call(gw, path, { headers, dispatcher: agents.a });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers['x-portcullis-auth-method'], 'api-key');
    assert.equal((await curl(gw, path, { headers, cert: certA })).status, 200, 'curl --cert as well');
    assert.equal((await curl(gw, path, { headers, cert: stranger })).status, 401);
  });

  it("binds an OAuth2 client's tokens to its certificate (cnf.x5t#S256)", async () => {
    const tenant = 'm-bound-client';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['oauth2'], approval: 'auto' } }], { applications: [{ name: 'app' }] }), tenant);
    await grant(gw, tenant, 'app', 'api');
    const path = servicePath(tenant, 'api');
    const client = await createCredential(gw, tenant, 'app', { type: 'oauth-client', boundCertificate: certA.fingerprint });
    const token = async (dispatcher: Agent) => {
      const r = await fetch(`${origin}/_portcullis/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: client.secret }).toString(),
        dispatcher,
      });
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };

    const withoutCert = await token(gw.agent);
    assert.equal(withoutCert.status, 401);
    assert.equal(withoutCert.body.error, 'invalid_client');
    assert.equal((await token(agents.b)).status, 401, "another certificate can't get a token");
    const issued = await token(agents.a);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const t = issued.body.access_token as string;
    assert.deepEqual(decodeJwt(t).cnf, { 'x5t#S256': certA.thumbprint });

    const auth = { authorization: `Bearer ${t}` };
    const plain = await call(gw, path, { headers: auth });
    assert.equal(plain.status, 401, 'a bound token is refused on a connection without the certificate');
    assert.equal((await call(gw, path, { headers: auth, dispatcher: agents.b })).status, 401, 'and with another certificate');
    const ok = await call(gw, path, { headers: auth, dispatcher: agents.a });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers['x-portcullis-auth-method'], 'oauth2');
    assert.equal((await curl(gw, path, { headers: auth, cert: certA })).status, 200);
  });
});
