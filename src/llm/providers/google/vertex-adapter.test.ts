import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Pool, type Dispatcher } from 'undici';
import { fakeServiceAccount, geminiError, startFakeGemini, type FakeServiceAccount } from '../../../../test/fixtures/llm/fake-gemini.js';
import type { ChatRequest } from '../../wire/chat.js';
import { chatRequest, fakeUpstream, providerConformance, providerFailure, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { ProviderError } from '../provider.js';
import { createVertexAdapter } from './vertex-adapter.js';

const MODEL = 'gemini-2.0-flash-001';

function target(url: string, account: FakeServiceAccount | string, dispatcher: Dispatcher, options: Record<string, string> = {}) {
  const apiKey = typeof account === 'string' ? account : account.json;
  return testTarget({ type: 'vertex', model: MODEL, baseUrl: `${url}/v1`, apiKey, keyName: 'sa', options, dispatcher });
}

providerConformance('vertex', async () => {
  const fake = await startFakeGemini('vertex');
  const account = fakeServiceAccount(`${fake.url}/token`);
  fake.trust(account);
  return {
    adapter: createVertexAdapter(),
    fake,
    model: MODEL,
    target: (model, dispatcher) => ({ ...target(fake.url, account, dispatcher), model }),
    errorFault: statusFault(geminiError),
  };
});

const hi = (over: Partial<ChatRequest> = {}): ChatRequest => chatRequest(MODEL, over);

describe('vertex adapter', () => {
  const up = fakeUpstream(async () => {
    const fake = await startFakeGemini('vertex');
    const account = fakeServiceAccount(`${fake.url}/token`, 'proj-1');
    fake.trust(account);
    return Object.assign(fake, { account });
  });
  const tokenRequests = () => up.fake.requests.filter((r) => r.path === '/token');
  /** A target with the suite's own account. */
  const own = (options?: Record<string, string>) => target(up.fake.url, up.fake.account, up.dispatcher, options);

  it('has regional, global and invalid-location base URLs', () => {
    const a = createVertexAdapter();
    assert.equal(a.defaultBaseUrl({}), 'https://us-central1-aiplatform.googleapis.com/v1');
    assert.equal(a.defaultBaseUrl({ location: 'europe-west4' }), 'https://europe-west4-aiplatform.googleapis.com/v1');
    assert.equal(a.defaultBaseUrl({ location: 'global' }), 'https://aiplatform.googleapis.com/v1');
    assert.equal(a.defaultBaseUrl({ location: 'evil.com/x' }), undefined);
  });

  it('signs a JWT-bearer assertion, then calls the project URL with the bearer token', async () => {
    const adapter = createVertexAdapter();
    const before = up.fake.requests.length;
    await adapter.chat(hi(), own({ location: 'europe-west4' }), io());
    const [tokenReq, call] = up.fake.requests.slice(before);
    assert.equal(tokenReq!.path, '/token');
    assert.equal(tokenReq!.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokenReq!.raw.toString());
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const jwt = form.get('assertion')!;
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'RS256', typ: 'JWT', kid: up.fake.account.keyId });
    const claims = decodeJwt(jwt);
    assert.equal(claims.iss, up.fake.account.clientEmail);
    assert.equal(claims.aud, `${up.fake.url}/token`);
    assert.equal(claims.scope, 'https://www.googleapis.com/auth/cloud-platform');
    assert.equal(claims.exp! - claims.iat!, 3600);
    assert.equal(call!.path, `/v1/projects/proj-1/locations/europe-west4/publishers/google/models/${MODEL}:generateContent`);
    assert.match(String(call!.headers.authorization), /^Bearer ya29\.fake-/);
  });

  it('fetches the token once for several calls, concurrent ones included', async () => {
    const adapter = createVertexAdapter();
    const t = own();
    const before = tokenRequests().length;
    await Promise.all([adapter.chat(hi(), t, io()), adapter.chat(hi(), t, io()), adapter.chatStream(hi({ stream: true }), t, io())]);
    await adapter.chat(hi(), t, io());
    await adapter.embeddings!({ model: MODEL, input: 'x' }, t, io());
    assert.equal(tokenRequests().length - before, 1);
  });

  it('refreshes the token a minute before it expires', async () => {
    let now = Date.now();
    const adapter = createVertexAdapter({ now: () => now });
    const t = own();
    const before = tokenRequests().length;
    up.fake.tokenLifetimeSeconds = 600;
    try {
      await adapter.chat(hi(), t, io());
      now += 539_000;
      await adapter.chat(hi(), t, io());
      assert.equal(tokenRequests().length - before, 1, 'still valid');
      now += 2_000;
      await adapter.chat(hi(), t, io());
      assert.equal(tokenRequests().length - before, 2, 'refreshed');
    } finally {
      up.fake.tokenLifetimeSeconds = 3599;
    }
  });

  it('sends the token exchange to the token origin, not through the provider pool', async () => {
    // In the gateway a target's dispatcher is a pool bound to the provider's origin.
    const pool = new Pool(up.fake.url);
    const tokenServer = await startFakeGemini('token-server');
    try {
      const same = await createVertexAdapter().chat(hi(), target(up.fake.url, up.fake.account, pool), io());
      assert.match(String(same.choices[0]!.message.content), /Hello from vertex/);

      const remote = fakeServiceAccount(`${tokenServer.url}/token`, 'proj-1');
      tokenServer.trust(remote);
      const before = up.fake.requests.length;
      const err = await providerFailure(createVertexAdapter({ tokenDispatcher: up.dispatcher }).chat(hi(), target(up.fake.url, remote, pool), io()));
      assert.deepEqual(tokenServer.requests.map((r) => r.path), ['/token']);
      assert.deepEqual(up.fake.requests.slice(before).map((r) => r.path), [`/v1/projects/proj-1/locations/us-central1/publishers/google/models/${MODEL}:generateContent`]);
      // The provider fake does not know the other server's tokens.
      assert.equal(err.status, 401);
    } finally {
      await tokenServer.close();
      await pool.close();
    }
  });

  it('keeps tokens apart per key', async () => {
    const other = fakeServiceAccount(`${up.fake.url}/token`, 'proj-2');
    up.fake.trust(other);
    const adapter = createVertexAdapter();
    await adapter.chat(hi(), own(), io());
    const before = up.fake.requests.length;
    await adapter.chat(hi(), target(up.fake.url, other, up.dispatcher), io());
    const [tokenReq, call] = up.fake.requests.slice(before);
    assert.equal(tokenReq!.path, '/token');
    assert.match(call!.path, /^\/v1\/projects\/proj-2\//);
  });

  it('answers a refused exchange with a 401 naming the reason, never the key', async () => {
    const stranger = fakeServiceAccount(`${up.fake.url}/token`);
    const err = await providerFailure(createVertexAdapter().chat(hi(), target(up.fake.url, stranger, up.dispatcher), io()));
    assert.equal(err.status, 401);
    assert.equal(err.type, 'authentication_error');
    assert.match(err.message, /Invalid JWT Signature/);
    const key = JSON.parse(stranger.json) as { private_key: string };
    const text = `${err.message} ${JSON.stringify(err.options)} ${String(err.stack)}`;
    assert.ok(!text.includes(key.private_key.split('\n')[1]!), 'no key material');
    assert.ok(!text.includes(stranger.keyId), 'no key id');

    up.fake.fail({ kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: 'Invalid grant: account not found' } });
    await assert.rejects(createVertexAdapter().chat(hi(), own(), io()), (e: unknown) => e instanceof ProviderError && e.status === 401 && /account not found/.test(e.message));

    up.fake.fail({ kind: 'status', status: 503, body: { error: 'internal_failure' } });
    await assert.rejects(createVertexAdapter().chat(hi(), own(), io()), (e: unknown) => e instanceof ProviderError && e.status === 503);
  });

  it('refuses a key that is not a service account, without quoting it', async () => {
    const err = await providerFailure(createVertexAdapter().chat(hi(), target(up.fake.url, 'sk-not-a-service-account', up.dispatcher), io()));
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes('sk-not-a-service-account'));
  });

  it('lets one caller give up on a shared token exchange without failing the others', async () => {
    const adapter = createVertexAdapter();
    const t = own();
    up.fake.fail({ kind: 'delay', ms: 200 });
    const ac = new AbortController();
    const waiting = adapter.chat(hi(), t, io(ac.signal));
    const other = adapter.chat(hi(), t, io());
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(waiting, (e: unknown) => e instanceof ProviderError);
    const r = await other;
    assert.match(String(r.choices[0]!.message.content), /Hello from vertex/);
  });

  it('embeds with predict and reports the token counts', async () => {
    const adapter = createVertexAdapter();
    const t = { ...own(), model: 'text-embedding-005' };
    const before = up.fake.requests.length;
    const r = await adapter.embeddings!({ model: 'text-embedding-005', input: ['one two', 'three'], dimensions: 3 }, t, io());
    const call = up.fake.requests.slice(before).find((x) => x.path.endsWith(':predict'))!;
    assert.equal(call.path, '/v1/projects/proj-1/locations/us-central1/publishers/google/models/text-embedding-005:predict');
    assert.deepEqual(call.body, { instances: [{ content: 'one two' }, { content: 'three' }], parameters: { outputDimensionality: 3 } });
    assert.equal(r.data.length, 2);
    assert.equal(r.usage.prompt_tokens, 3);
  });
});
