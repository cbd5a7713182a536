/**
 * The "jwt-issuer" config object: a token issuer a tenant trusts. It names the exact `iss`, the
 * accepted audiences, where the verification keys come from (a JWKS URL or static public keys), the
 * allowed signature algorithms and the clock skew. Keys and URLs are checked at apply time, so a
 * config that validates can be compiled into a verifier without further errors.
 */

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { DurationSchema, NameSchema } from '../../model/common.js';
import { certificateBundleProblem } from '../../tls/upstream/upstream-tls-checks.js';

/** Signature algorithms an issuer may use. Never `none`, never HMAC (HS*): the gateway holds no shared secrets. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = Object.freeze(['RS256', 'PS256', 'ES256', 'EdDSA']);

const JwtAlgorithmSchema = z.enum(JWT_ALGORITHMS, {
  error: `must be one of ${JWT_ALGORITHMS.join(', ')} ("none" and HMAC algorithms are never accepted)`,
});

/** JWK members that only private or symmetric keys have. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;
const RSA_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
/** Node's EC curve name → the one JWS algorithm for it (ES512 is P-521, not a typo). */
const CURVE_ALGORITHM: Readonly<Record<string, JwtAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A static verification key: a PEM SubjectPublicKeyInfo or a public JWK. */
export type IssuerKey = string | { readonly kty: string; readonly [member: string]: unknown };

/**
 * Parses a static key into a public KeyObject. Throws (with a message naming the problem, never key
 * material) when it is not a usable public key. Does not check the algorithms.
 */
export function issuerKeyObject(key: IssuerKey): KeyObject {
  const problem = issuerKeyProblem(key);
  if (problem !== undefined) throw new TypeError(`invalid issuer key: ${problem}`);
  return typeof key === 'string' ? createPublicKey({ key, format: 'pem' }) : createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
}

/** The algorithms a public key can verify, from its type and curve (and the JWK's `alg`, when set). */
export function keyAlgorithms(keyObject: KeyObject, jwkAlg?: unknown): JwtAlgorithm[] {
  let algs: readonly JwtAlgorithm[];
  const details = keyObject.asymmetricKeyDetails;
  switch (keyObject.asymmetricKeyType) {
    case 'rsa':
      algs = RSA_ALGORITHMS;
      break;
    case 'ec': {
      const alg = details?.namedCurve === undefined ? undefined : CURVE_ALGORITHM[details.namedCurve];
      algs = alg === undefined ? [] : [alg];
      break;
    }
    case 'ed25519':
      algs = ['EdDSA'];
      break;
    default:
      algs = [];
  }
  return jwkAlg === undefined ? [...algs] : algs.filter((a) => a === jwkAlg);
}

/** Problem with a static key, if any (undefined when it is a usable public verification key). */
export function issuerKeyProblem(key: IssuerKey): string | undefined {
  let keyObject: KeyObject;
  let jwkAlg: unknown;
  if (typeof key === 'string') {
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key)) return 'must be a public key, and this is a PEM private key (never configure private keys here)';
    if (!key.includes('-----BEGIN PUBLIC KEY-----')) return 'must be a PEM public key (-----BEGIN PUBLIC KEY----- …) or a JWK object';
    try {
      keyObject = createPublicKey({ key, format: 'pem' });
    } catch {
      return 'is not a valid PEM public key';
    }
  } else {
    if (key.kty === 'oct') return 'symmetric keys (kty "oct") are not accepted: tokens must be signed with an asymmetric key';
    if (key.kty !== 'RSA' && key.kty !== 'EC' && key.kty !== 'OKP') return 'JWK "kty" must be RSA, EC or OKP';
    const priv = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
    if (priv.length > 0) return `must be a public JWK, and this one has private members (${priv.join(', ')}): never configure private keys here`;
    if (key.use !== undefined && key.use !== 'sig') return 'JWK "use" must be "sig" when present';
    if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes('verify'))) return 'JWK "key_ops" must include "verify" when present';
    if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid.length === 0)) return 'JWK "kid" must be a non-empty string';
    if (key.alg !== undefined && !(JWT_ALGORITHMS as readonly unknown[]).includes(key.alg)) return `JWK "alg" must be one of ${JWT_ALGORITHMS.join(', ')}`;
    try {
      keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    } catch {
      return 'is not a valid public JWK';
    }
    jwkAlg = key.alg;
  }
  const type = keyObject.asymmetricKeyType;
  if (type === 'rsa' && (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'RSA keys must be at least 2048 bits';
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519') return 'must be an RSA, EC (P-256, P-384, P-521) or Ed25519 key';
  if (keyAlgorithms(keyObject).length === 0) return 'EC keys must use the P-256, P-384 or P-521 curve';
  if (keyAlgorithms(keyObject, jwkAlg).length === 0) return `JWK "alg" ${String(jwkAlg)} does not fit this key type`;
  return undefined;
}

const IssuerKeySchema = z
  .union([z.string().max(16_384), z.looseObject({ kty: z.string() })], { error: 'must be a PEM public key string or a JWK object' })
  .superRefine((key, ctx) => {
    const problem = issuerKeyProblem(key);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const JwksUrlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute https:// URL' });
      return;
    }
    if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
    ctx.addIssue({ code: 'custom', message: 'must be an https:// URL (http:// is allowed only for loopback hosts: localhost, 127.0.0.1, [::1])' });
  })
  .describe('URL of the issuer\'s JSON Web Key Set. Must be https://, except http:// to a loopback host (localhost, 127.0.0.1, [::1]) for tests and local sidecars.');

export const JwtIssuerSpecSchema = z
  .object({
    name: NameSchema,
    issuer: z.string().min(1).max(2048).describe('The exact `iss` value of accepted tokens'),
    audiences: z.array(z.string().min(1).max(2048)).min(1).max(32).describe('The token\'s `aud` must contain at least one of these'),
    jwksUrl: JwksUrlSchema.optional(),
    jwksCa: z
      .string()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('PEM bundle of CA certificates trusted for the jwksUrl fetch; replaces the system roots. Only with jwksUrl.'),
    keys: z.array(IssuerKeySchema).min(1).max(32).optional().describe('Static public verification keys (PEM "-----BEGIN PUBLIC KEY-----" or public JWKs). Exclusive with jwksUrl.'),
    algorithms: z.array(JwtAlgorithmSchema).min(1).max(JWT_ALGORITHMS.length).default(() => [...DEFAULT_JWT_ALGORITHMS]).describe('Accepted signature algorithms'),
    clockSkew: DurationSchema.pipe(z.number().max(300_000, 'must be at most 5m')).default(60_000).describe('Tolerance for exp/nbf checks (at most 5m)'),
    claim: z.string().min(1).max(256).default('sub').describe('Claim whose string value identifies the caller (maps the token to an application)'),
    jwksCacheMaxAge: DurationSchema.default(600_000).describe('How long a fetched JWKS is used before it is fetched again'),
    jwksCooldown: DurationSchema.default(30_000).describe('Least time between two JWKS fetches triggered by an unknown "kid"'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const hasUrl = spec.jwksUrl !== undefined;
    const hasKeys = spec.keys !== undefined;
    if (hasUrl === hasKeys) ctx.addIssue({ code: 'custom', path: hasUrl ? ['keys'] : ['jwksUrl'], message: 'exactly one of jwksUrl and keys is required' });
    if (spec.jwksCa !== undefined) {
      if (!hasUrl) ctx.addIssue({ code: 'custom', path: ['jwksCa'], message: 'applies only with jwksUrl' });
      const problem = certificateBundleProblem(spec.jwksCa, 'certificate bundle');
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['jwksCa'], message: problem });
    }
    spec.keys?.forEach((key, i) => {
      if (issuerKeyProblem(key) !== undefined) return;
      const fits = keyAlgorithms(issuerKeyObject(key), typeof key === 'string' ? undefined : key.alg);
      if (!fits.some((a) => spec.algorithms.includes(a))) {
        ctx.addIssue({ code: 'custom', path: ['keys', i], message: `fits none of the allowed algorithms (${spec.algorithms.join(', ')}); it can verify ${fits.join(', ')}` });
      }
    });
  });

export type JwtIssuerSpec = z.output<typeof JwtIssuerSpecSchema>;
export type JwtIssuerSpecInput = z.input<typeof JwtIssuerSpecSchema>;
