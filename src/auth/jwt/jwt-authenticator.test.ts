import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { JwksRegistry } from './jwks-registry.js';
import { JwtAuthenticator, JwtRejected, MAX_JWT_LENGTH, type TrustedIssuer, type VerifiedJwt } from './jwt-authenticator.js';
import { JwtIssuerSpecSchema } from './jwt-issuer-spec.js';

const ISS = 'https://idp.example.com/';
const AUD = 'portcullis';

interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicPem: string;
}

async function makeKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg }, publicPem: await exportSPKI(publicKey) };
}

/** A clock tests move by hand; starts at the real time so jose's wall-clock JWKS cache agrees. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.now();
  return { now: () => t, advance: (ms) => (t += ms) };
}

interface SignOptions {
  iss?: string;
  aud?: string | string[];
  sub?: string | null;
  exp?: number | null; // seconds from `at`; null omits exp
  nbf?: number; // seconds from `at`
  at?: number; // ms epoch
  kid?: string | null;
  extra?: Record<string, unknown>;
}

let jtiCounter = 0;
async function sign(key: TestKey, o: SignOptions = {}): Promise<string> {
  const at = Math.floor((o.at ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = { jti: `t${++jtiCounter}`, ...o.extra };
  if (o.sub !== null) claims.sub = o.sub ?? 'client-1';
  const jwt = new SignJWT(claims)
    .setProtectedHeader(o.kid === null ? { alg: key.alg } : { alg: key.alg, kid: o.kid ?? key.kid })
    .setIssuer(o.iss ?? ISS)
    .setAudience(o.aud ?? AUD)
    .setIssuedAt(at);
  if (o.exp !== null) jwt.setExpirationTime(at + (o.exp ?? 300));
  if (o.nbf !== undefined) jwt.setNotBefore(at + o.nbf);
  return jwt.sign(key.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function issuer(tenant: string, input: Record<string, unknown>): TrustedIssuer {
  return { tenant, spec: JwtIssuerSpecSchema.parse({ name: 'idp', issuer: ISS, audiences: [AUD], ...input }) };
}

/** Awaits a verification expected to fail and returns its reason. */
async function reason(run: () => VerifiedJwt | Promise<VerifiedJwt>): Promise<string> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof JwtRejected, `expected JwtRejected, got ${String(err)}`);
    return err.reason;
  }
  assert.fail('token was accepted');
}

/** A JWKS endpoint on 127.0.0.1 whose key set can be swapped; counts fetches. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  readonly #server: Server = createServer((_req, res) => {
    this.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks.json`;
  }
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('JwtAuthenticator', () => {
  let rsa: TestKey;
  let ec: TestKey;
  let ec2: TestKey;
  let server: JwksServer;
  let registry: JwksRegistry;

  before(async () => {
    [rsa, ec, ec2] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('ES256', 'ec-2')]);
    server = new JwksServer();
    await server.start();
    registry = new JwksRegistry();
  });
  after(async () => {
    await registry.close();
    await server.stop();
  });

  describe('with a JWKS URL', () => {
    it('verifies RS256 and ES256 tokens and maps them to a VerifiedJwt', async () => {
      server.keys = [rsa.publicJwk, ec.publicJwk];
      const clock = manualClock();
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: server.url, jwksCooldown: 0 })], { jwks: registry, now: clock.now });
      for (const key of [rsa, ec]) {
        const token = await sign(key, { at: clock.now(), exp: 600, extra: { scope: 'read' } });
        const v = await auth.verify(token);
        assert.equal(v.tenant, 'acme');
        assert.equal(v.issuerName, 'idp');
        assert.equal(v.subject, 'client-1');
        assert.equal(v.claims.scope, 'read');
        assert.equal(v.expiresAt, (Math.floor(clock.now() / 1000) + 600) * 1000);
        assert.equal(v.certThumbprint, undefined);
        assert.ok(Object.isFrozen(v) && Object.isFrozen(v.claims));
      }
    });

    it('answers a repeated token synchronously from the cache, without fetching the JWKS again', async () => {
      server.keys = [ec.publicJwk];
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: server.url, jwksCacheMaxAge: 1 })], { jwks: registry });
      const token = await sign(ec);
      const first = auth.verify(token);
      assert.ok(first instanceof Promise);
      const verified = await first;
      const fetches = server.fetches;
      const second = auth.verify(token);
      assert.ok(!(second instanceof Promise), 'a cache hit must not allocate a promise');
      assert.equal(second, verified);
      assert.equal(server.fetches, fetches);
    });

    it('follows key rotation: new kid refetched, old key valid while published, refused once removed and the cache aged', async () => {
      server.keys = [ec.publicJwk];
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: server.url, jwksCacheMaxAge: 60, jwksCooldown: 0 })], { jwks: registry });
      await auth.verify(await sign(ec));
      const base = server.fetches;

      server.keys = [ec.publicJwk, ec2.publicJwk]; // the issuer publishes a new key, then signs with it
      await auth.verify(await sign(ec2));
      assert.equal(server.fetches, base + 1, 'the unknown kid triggered one refetch');
      await auth.verify(await sign(ec)); // the old key is still published

      server.keys = [ec2.publicJwk]; // the old key is withdrawn
      await new Promise((r) => setTimeout(r, 80)); // let the 60 ms JWKS cache age (jose uses the wall clock)
      assert.equal(await reason(async () => auth.verify(await sign(ec))), 'no_matching_key');
      await auth.verify(await sign(ec2));
    });

    it('respects the cooldown: an unknown kid does not refetch within it', async () => {
      server.keys = [ec.publicJwk];
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: server.url, jwksCooldown: '10m', jwksCacheMaxAge: '10m', clockSkew: '59s' })], { jwks: registry });
      await auth.verify(await sign(ec));
      const fetches = server.fetches;
      server.keys = [ec.publicJwk, ec2.publicJwk];
      assert.equal(await reason(async () => auth.verify(await sign(ec2))), 'no_matching_key');
      assert.equal(await reason(async () => auth.verify(await sign(ec, { kid: 'made-up' }))), 'no_matching_key');
      assert.equal(server.fetches, fetches);
    });

    it('refuses alg "none" and HS256 before any key lookup', async () => {
      server.keys = [rsa.publicJwk];
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: server.url })], { jwks: registry });
      const now = Math.floor(Date.now() / 1000);
      const payload = b64url({ iss: ISS, aud: AUD, sub: 'client-1', exp: now + 300 });
      assert.equal(await reason(() => auth.verify(`${b64url({ alg: 'none' })}.${payload}.`)), 'bad_algorithm');
      const hs = await new SignJWT({ sub: 'client-1' }).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).setIssuer(ISS).setAudience(AUD).setExpirationTime(now + 300).sign(new TextEncoder().encode(rsa.publicPem));
      assert.equal(await reason(() => auth.verify(hs)), 'bad_algorithm');
    });

    it('reports an unreachable JWKS as jwks_unavailable and does not cache it', async () => {
      const down = new JwksServer();
      await down.start();
      const url = down.url;
      await down.stop();
      const auth = new JwtAuthenticator([issuer('acme', { jwksUrl: url })], { jwks: registry });
      assert.equal(await reason(async () => auth.verify(await sign(ec))), 'jwks_unavailable');
    });
  });

  describe('refusals', () => {
    let auth: JwtAuthenticator;
    let clock: ReturnType<typeof manualClock>;
    before(() => {
      clock = manualClock();
      auth = new JwtAuthenticator([issuer('acme', { keys: [rsa.publicPem, ec.publicJwk], clockSkew: 0 })], { jwks: registry, now: clock.now });
    });

    it('wrong audience, wrong issuer, unknown issuer', async () => {
      assert.equal(await reason(async () => auth.verify(await sign(ec, { aud: 'someone-else' }))), 'bad_audience');
      assert.equal(await reason(async () => auth.verify(await sign(ec, { iss: 'https://evil.example/' }))), 'unknown_issuer');
      // A token whose unverified iss matches but whose signature does not: the key decides.
      const evil = await makeKey('ES256', 'ec-1');
      assert.equal(await reason(async () => auth.verify(await sign(evil))), 'bad_signature');
    });

    it('expired, with and without clock-skew tolerance', async () => {
      const token = await sign(ec, { at: clock.now() - 60_000, exp: 30 }); // expired 30 s ago
      assert.equal(await reason(() => auth.verify(token)), 'expired');
      const tolerant = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk], clockSkew: '1m' })], { jwks: registry, now: clock.now });
      assert.equal((await tolerant.verify(token)).subject, 'client-1');
    });

    it('nbf in the future, missing exp, missing or non-string mapping claim', async () => {
      assert.equal(await reason(async () => auth.verify(await sign(ec, { at: clock.now(), nbf: 120 }))), 'not_yet_valid');
      assert.equal(await reason(async () => auth.verify(await sign(ec, { exp: null }))), 'no_exp');
      assert.equal(await reason(async () => auth.verify(await sign(ec, { sub: null }))), 'no_subject');
      const byClientId = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk], claim: 'client_id' })], { jwks: registry });
      assert.equal(await reason(async () => byClientId.verify(await sign(ec, { extra: { client_id: 42 } }))), 'no_subject');
      assert.equal((await byClientId.verify(await sign(ec, { extra: { client_id: 'app-7' } }))).subject, 'app-7');
    });

    it('refuses alg "none" and HS256 signed with the RSA public key as HMAC secret (alg confusion)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const payload = b64url({ iss: ISS, aud: AUD, sub: 'client-1', exp: now + 300 });
      assert.equal(await reason(() => auth.verify(`${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`)), 'bad_algorithm');
      for (const secret of [rsa.publicPem, JSON.stringify(rsa.publicJwk)]) {
        const hs = await new SignJWT({ sub: 'client-1' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(ISS)
          .setAudience(AUD)
          .setExpirationTime(now + 300)
          .sign(new TextEncoder().encode(secret));
        assert.equal(await reason(() => auth.verify(hs)), 'bad_algorithm');
      }
    });

    it('refuses malformed and oversized tokens synchronously', () => {
      for (const t of ['', 'abc', 'a.b', 'a.b.c.d', 'a b.c.d', `${b64url({ alg: 'ES256' })}.bm90IGpzb24.sig`, `${'a'.repeat(MAX_JWT_LENGTH)}.b.c`]) {
        assert.throws(() => auth.verify(t), (e: unknown) => e instanceof JwtRejected && e.reason === 'malformed', t.slice(0, 20));
      }
    });

    it('refuses a token bound by an unsupported cnf method, and a malformed x5t#S256', async () => {
      assert.equal(await reason(async () => auth.verify(await sign(ec, { extra: { cnf: { jkt: 'x'.repeat(43) } } }))), 'bad_cnf');
      assert.equal(await reason(async () => auth.verify(await sign(ec, { extra: { cnf: { 'x5t#S256': 'short' } } }))), 'bad_cnf');
      const thumb = Buffer.alloc(32, 7).toString('base64url');
      assert.equal((await auth.verify(await sign(ec, { extra: { cnf: { 'x5t#S256': thumb } } }))).certThumbprint, thumb);
    });
  });

  describe('static keys', () => {
    it('verifies with a PEM key, a JWK, and picks by kid among several', async () => {
      const auth = new JwtAuthenticator([issuer('acme', { keys: [rsa.publicPem, ec.publicJwk, ec2.publicJwk] })], { jwks: registry });
      assert.equal((await auth.verify(await sign(rsa))).subject, 'client-1'); // PEM, no kid in config: any kid is tried
      assert.equal((await auth.verify(await sign(ec2))).subject, 'client-1');
      assert.equal((await auth.verify(await sign(ec, { kid: null }))).subject, 'client-1'); // no kid: each fitting key is tried
      assert.equal(await reason(async () => auth.verify(await sign(ec, { kid: 'unknown' }))), 'no_matching_key');
      const eddsa = await makeKey('EdDSA', 'ed-1');
      assert.equal(await reason(async () => auth.verify(await sign(eddsa))), 'no_matching_key');
    });
  });

  describe('tenants', () => {
    it('considers only issuers of the allowed tenants', async () => {
      const auth = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk] })], { jwks: registry });
      const token = await sign(ec);
      assert.throws(() => auth.verify(token, new Set(['globex'])), (e: unknown) => e instanceof JwtRejected && e.reason === 'unknown_issuer');
      assert.equal((await auth.verify(token, new Set(['acme']))).tenant, 'acme');
      // Cached now, but the cache honours the tenant filter too.
      assert.throws(() => auth.verify(token, new Set(['globex'])), (e: unknown) => e instanceof JwtRejected && e.reason === 'unknown_issuer');
    });

    it('with one issuer trusted by two tenants, the first accepting config wins and the cache agrees', async () => {
      const auth = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk], audiences: ['acme-api'] }), issuer('globex', { keys: [ec.publicJwk], audiences: ['globex-api'] })], { jwks: registry });
      const token = await sign(ec, { aud: 'globex-api' });
      assert.equal((await auth.verify(token)).tenant, 'globex');
      const hit = auth.verify(token);
      assert.ok(!(hit instanceof Promise) && hit.tenant === 'globex', 'acme refused it before, so the cache may skip acme');
      assert.equal(await reason(() => auth.verify(token, new Set(['acme']))), 'bad_audience');
      assert.ok(!(auth.verify(token, new Set(['globex'])) instanceof Promise));
    });
  });

  describe('result cache', () => {
    it('is bounded and evicts the least recently used token', async () => {
      const auth = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk] })], { jwks: registry, cacheSize: 2 });
      const [t1, t2, t3] = await Promise.all([sign(ec), sign(ec), sign(ec)]);
      await auth.verify(t1!);
      await auth.verify(t2!);
      assert.ok(!(auth.verify(t1!) instanceof Promise)); // t1 becomes the most recent
      await auth.verify(t3!); // evicts t2
      assert.ok(!(auth.verify(t1!) instanceof Promise));
      assert.ok(!(auth.verify(t3!) instanceof Promise));
      const again = auth.verify(t2!);
      assert.ok(again instanceof Promise, 't2 was evicted');
      await again;
    });

    it('honours exp (with skew) and maxCacheTtlMs for cached tokens', async () => {
      const clock = manualClock();
      const auth = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk], clockSkew: '1m' })], { jwks: registry, now: clock.now, maxCacheTtlMs: 300_000 });
      const short = await sign(ec, { at: clock.now(), exp: 120 });
      const long = await sign(ec, { at: clock.now(), exp: 3600 });
      await auth.verify(short);
      await auth.verify(long);
      clock.advance(170_000); // past exp, within the 60 s skew
      assert.ok(!(auth.verify(short) instanceof Promise));
      clock.advance(15_000); // past exp + skew
      const expired = auth.verify(short);
      assert.ok(expired instanceof Promise);
      assert.equal(await reason(() => expired), 'expired');
      clock.advance(120_000); // 305 s after verification: beyond maxCacheTtlMs, verified again
      const reverified = auth.verify(long);
      assert.ok(reverified instanceof Promise);
      assert.equal((await reverified).subject, 'client-1');
      assert.ok(!(auth.verify(long) instanceof Promise));
    });

    it('does not cache refusals, and cacheSize 0 disables the cache', async () => {
      const auth = new JwtAuthenticator([issuer('acme', { keys: [ec.publicJwk] })], { jwks: registry, cacheSize: 0 });
      const token = await sign(ec);
      await auth.verify(token);
      const again = auth.verify(token);
      assert.ok(again instanceof Promise);
      await again;
      const bad = await sign(ec, { aud: 'nope' });
      assert.equal(await reason(() => auth.verify(bad)), 'bad_audience');
      assert.equal(await reason(() => auth.verify(bad)), 'bad_audience');
    });
  });
});
