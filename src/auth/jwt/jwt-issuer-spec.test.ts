import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { JwtIssuerSpecSchema, type JwtIssuerSpecInput } from './jwt-issuer-spec.js';

const BASE = { name: 'idp', issuer: 'https://idp.example.com/', audiences: ['api'] };

/** The issue messages of a failed parse, as "path: message". */
function problems(input: Partial<JwtIssuerSpecInput> & Record<string, unknown>): string[] {
  const r = JwtIssuerSpecSchema.safeParse({ ...BASE, ...input });
  assert.ok(!r.success, 'expected the spec to be refused');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function assertProblem(input: Partial<JwtIssuerSpecInput> & Record<string, unknown>, pattern: RegExp): void {
  const found = problems(input);
  assert.ok(
    found.some((p) => pattern.test(p)),
    `expected ${pattern} in ${JSON.stringify(found)}`,
  );
}

describe('JwtIssuerSpecSchema', () => {
  let ecJwk: JsonWebKey;
  let ecPrivateJwk: JsonWebKey;
  let rsaPem: string;
  before(() => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    ecJwk = ec.publicKey.export({ format: 'jwk' });
    ecPrivateJwk = ec.privateKey.export({ format: 'jwk' });
    rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  });

  it('applies defaults', () => {
    const spec = JwtIssuerSpecSchema.parse({ ...BASE, jwksUrl: 'https://idp.example.com/.well-known/jwks.json' });
    assert.deepEqual(spec.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
    assert.equal(spec.clockSkew, 60_000);
    assert.equal(spec.claim, 'sub');
    assert.equal(spec.jwksCacheMaxAge, 600_000);
    assert.equal(spec.jwksCooldown, 30_000);
  });

  it('accepts static PEM and JWK keys, and durations as strings', () => {
    const spec = JwtIssuerSpecSchema.parse({ ...BASE, keys: [rsaPem, { ...ecJwk, kid: 'k1', use: 'sig', alg: 'ES256' }], clockSkew: '5m', jwksCooldown: '1s' });
    assert.equal(spec.keys?.length, 2);
    assert.equal(spec.clockSkew, 300_000);
    assert.equal(spec.jwksCooldown, 1000);
  });

  it('requires exactly one of jwksUrl and keys', () => {
    assertProblem({ jwksUrl: 'https://idp.example.com/jwks', keys: [rsaPem] }, /exactly one of jwksUrl and keys/);
    assertProblem({}, /exactly one of jwksUrl and keys/);
  });

  it('allows http:// only to loopback hosts', () => {
    for (const url of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9/jwks', 'https://idp.example.com/jwks']) {
      assert.ok(JwtIssuerSpecSchema.safeParse({ ...BASE, jwksUrl: url }).success, url);
    }
    assertProblem({ jwksUrl: 'http://idp.example.com/jwks' }, /^jwksUrl: must be an https:\/\/ URL/);
    assertProblem({ jwksUrl: 'http://127.0.0.1.nip.io/jwks' }, /^jwksUrl: must be an https:\/\/ URL/);
    assertProblem({ jwksUrl: 'ftp://127.0.0.1/jwks' }, /^jwksUrl: must be an https:\/\/ URL/);
    assertProblem({ jwksUrl: 'https://user:pw@idp.example.com/jwks' }, /credentials/);
    assertProblem({ jwksUrl: '/jwks' }, /absolute/);
  });

  it('refuses symmetric, private and malformed keys with a clear message', () => {
    assertProblem({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, /^keys\.0: symmetric keys \(kty "oct"\) are not accepted/);
    assertProblem({ keys: [ecPrivateJwk as Record<string, unknown> & { kty: string }] }, /^keys\.0: must be a public JWK, and this one has private members \(d\)/);
    const privatePem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assertProblem({ keys: [privatePem] }, /^keys\.0: must be a public key, and this is a PEM private key/);
    assertProblem({ keys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'] }, /^keys\.0: is not a valid PEM public key/);
    assertProblem({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] }, /^keys\.0: is not a valid public JWK/);
    assertProblem({ keys: [{ ...ecJwk, use: 'enc' } as JsonWebKey & { kty: string }] }, /"use" must be "sig"/);
    assertProblem({ keys: [{ ...ecJwk, alg: 'RS256' } as JsonWebKey & { kty: string }] }, /"alg" RS256 does not fit/);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assertProblem({ keys: [rsa1024] }, /at least 2048 bits/);
    assertProblem({ keys: [42 as unknown as string] }, /PEM public key string or a JWK object/);
  });

  it('refuses keys that fit none of the allowed algorithms', () => {
    assertProblem({ keys: [rsaPem], algorithms: ['ES256'] }, /^keys\.0: fits none of the allowed algorithms/);
  });

  it('never allows "none" or HMAC algorithms', () => {
    for (const alg of ['none', 'HS256', 'HS512']) assertProblem({ jwksUrl: 'https://idp.example.com/jwks', algorithms: [alg as 'RS256'] }, /^algorithms\.0: must be one of/);
  });

  it('bounds clockSkew and takes jwksCa only with jwksUrl', () => {
    assertProblem({ jwksUrl: 'https://idp.example.com/jwks', clockSkew: '6m' }, /^clockSkew: must be at most 5m/);
    assertProblem({ keys: [rsaPem], jwksCa: 'x' }, /^jwksCa: applies only with jwksUrl/);
    assertProblem({ jwksUrl: 'https://idp.example.com/jwks', jwksCa: 'not a pem' }, /^jwksCa: must be a PEM certificate bundle/);
  });

  it('is strict about unknown fields and bounds the lists', () => {
    assertProblem({ jwksUrl: 'https://idp.example.com/jwks', secret: 'x' }, /Unrecognized key/);
    assertProblem({ jwksUrl: 'https://idp.example.com/jwks', audiences: [] }, /^audiences/);
  });
});
