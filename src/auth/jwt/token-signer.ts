/**
 * Signing for the gateway acting as an OAuth 2.0 token endpoint: ES256 keys, JWT access tokens
 * (RFC 9068 shape, `typ: at+jwt`) and the public JWKS that resource servers (including this
 * gateway, as a `jwt-issuer` with static `keys`) verify them with. Stateless functions; key storage
 * and rotation belong to the caller.
 */

import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export const SIGNING_ALGORITHM = 'ES256';

/** An ES256 signing key. `privateJwk` is a secret: store it sealed, never log or serve it. */
export interface SigningKey {
  /** RFC 7638 SHA-256 thumbprint of the public key, base64url. */
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  /** Lifetime in seconds: a positive integer. */
  readonly ttlSeconds: number;
  /** Token id; default a random UUID. */
  readonly jti?: string;
  /** base64url SHA-256 of the client certificate (DER): binds the token to it (RFC 8705 `cnf`). */
  readonly cnfX5tS256?: string;
  /** Space-separated scopes. */
  readonly scope?: string;
  /** Further claims (e.g. `client_id`). Members named like the claims set here (iss, aud, sub, iat, nbf, exp, jti, cnf, scope) are ignored. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A fresh P-256 key pair with `kid` = its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const privateJwk = await exportJWK(privateKey);
  return Object.freeze({
    kid,
    privateJwk: Object.freeze({ ...privateJwk, kid, alg: SIGNING_ALGORITHM }),
    publicJwk: Object.freeze({ ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' }),
  });
}

/**
 * Signs an access token: header `{alg: ES256, kid, typ: at+jwt}`; claims `extra` and `scope`, then
 * `iss`, `aud`, `sub`, `iat` = `nbf` = now, `exp` = now + ttl, `jti`, and
 * `cnf: {"x5t#S256": …}` when given. `now` is ms since the epoch (default `Date.now()`).
 * Throws RangeError for a ttl that is not a positive integer.
 */
export async function signAccessToken(key: SigningKey, claims: AccessTokenClaims, now: number = Date.now()): Promise<string> {
  if (!Number.isInteger(claims.ttlSeconds) || claims.ttlSeconds <= 0) throw new RangeError('ttlSeconds must be a positive integer');
  const payload: Record<string, unknown> = { ...claims.extra };
  for (const reserved of ['iss', 'aud', 'sub', 'iat', 'nbf', 'exp', 'jti', 'cnf', 'scope']) delete payload[reserved];
  if (claims.scope !== undefined) payload.scope = claims.scope;
  if (claims.cnfX5tS256 !== undefined) payload.cnf = { 'x5t#S256': claims.cnfX5tS256 };
  const iat = Math.floor(now / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .setJti(claims.jti ?? randomUUID())
    .sign(key.privateJwk);
}

/** The public JWKS document for these keys (each with `kid`, `alg`, `use: sig`), e.g. for `/.well-known/jwks.json`. */
export function publicJwks(keys: readonly SigningKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALGORITHM, use: 'sig' })) };
}
