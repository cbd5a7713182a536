/**
 * Verifies bearer JWTs (compact JWS) against the issuers tenants trust. Built once per config
 * snapshot: static keys are imported and JWKS resolvers looked up at construction, so a request only
 * reads memory, except when a remote key set has to be (re)fetched.
 *
 * Order of checks: size and shape → `iss` (read unverified, only to pick candidate issuer configs)
 * → per candidate, in config order: algorithm allow-list, key, signature, `iss`, `aud`, `exp`
 * (required), `nbf`, then the mapping claim and `cnf`. The first candidate that accepts wins.
 * Successful results are cached until the token expires (or at most `maxCacheTtlMs`), so a repeated
 * token is answered synchronously.
 */

import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { JwksRegistry, JwksResolver } from './jwks-registry.js';
import { issuerKeyObject, keyAlgorithms, type JwtIssuerSpec } from './jwt-issuer-spec.js';

/** Longest token accepted, in characters. */
export const MAX_JWT_LENGTH = 8192;
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** base64url of a SHA-256 digest: 43 characters, no padding. */
const X5T_S256_RE = /^[A-Za-z0-9_-]{43}$/;

export interface TrustedIssuer {
  readonly tenant: string;
  readonly spec: JwtIssuerSpec;
}

export interface VerifiedJwt {
  /** Tenant owning the issuer config that accepted the token. */
  readonly tenant: string;
  /** `spec.name` of that issuer config. */
  readonly issuerName: string;
  /** The string value of the issuer's mapping claim (`spec.claim`, default `sub`). */
  readonly subject: string;
  /** Every claim of the verified payload (frozen, top level). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `exp` in ms since the epoch. Always set: tokens without `exp` are refused. */
  readonly expiresAt: number | undefined;
  /** `cnf["x5t#S256"]` (base64url SHA-256 of the client certificate, RFC 8705) when the token is certificate-bound. */
  readonly certThumbprint: string | undefined;
}

/** Why a token was refused. Internal (logs, metrics); clients only ever see a generic 401. */
export type JwtRejectReason =
  | 'malformed' | 'unknown_issuer' | 'expired' | 'not_yet_valid' | 'no_exp' | 'bad_signature' | 'bad_audience' | 'bad_issuer'
  | 'bad_algorithm' | 'bad_claims' | 'bad_cnf' | 'no_matching_key' | 'jwks_unavailable' | 'no_subject' | 'invalid';

/** A refused token. `reason` is for logs and metrics only, never for the client. */
export class JwtRejected extends Error {
  constructor(
    readonly reason: JwtRejectReason,
    options?: { cause?: unknown },
  ) {
    super(`JWT rejected: ${reason}`, options);
    this.name = 'JwtRejected';
  }
}

export interface JwtAuthenticatorDeps {
  readonly jwks: JwksRegistry;
  /** Clock in ms since the epoch; drives `exp`/`nbf` checks and the result cache. Default `Date.now`. */
  readonly now?: () => number;
  /** Most results cached (LRU). 0 disables the cache. Default 10000. */
  readonly cacheSize?: number;
  /** Longest time a result is reused without verifying again, in ms. Default 300000. */
  readonly maxCacheTtlMs?: number;
}

interface StaticKey {
  readonly kid: string | undefined;
  /** Algorithms this key may verify: fitting its type and allowed by the issuer config. */
  readonly algs: ReadonlySet<string>;
  readonly key: KeyObject;
}

interface CompiledIssuer {
  readonly tenant: string;
  readonly spec: JwtIssuerSpec;
  readonly algorithms: ReadonlySet<string>;
  readonly options: Readonly<JWTVerifyOptions>;
  readonly skewMs: number;
  /** Remote key resolver (errors other than key selection become `jwks_unavailable`), or undefined with static keys. */
  readonly remote: JWTVerifyGetKey | undefined;
  readonly keys: readonly StaticKey[];
}

interface CacheEntry {
  readonly result: VerifiedJwt;
  /** The config that accepted the token, and the candidates tried (and refused) before it. */
  readonly accepted: CompiledIssuer;
  readonly refused: readonly CompiledIssuer[];
  /** Every config for the token's `iss`, in order. */
  readonly candidates: readonly CompiledIssuer[];
  readonly validUntil: number;
}

/**
 * Verifies tokens for one config snapshot. Safe for concurrent use. Construction throws when a
 * spec holds an unusable key or JWKS URL (specs that passed `JwtIssuerSpecSchema` do not).
 */
export class JwtAuthenticator {
  /** The remote resolvers this authenticator uses; pass them to `JwksRegistry.retain` after a swap. */
  readonly jwksResolvers: readonly JwksResolver[];
  readonly #byIssuer = new Map<string, CompiledIssuer[]>();
  readonly #cache = new Map<string, CacheEntry>();
  readonly #now: () => number;
  readonly #cacheSize: number;
  readonly #maxCacheTtlMs: number;

  constructor(issuers: readonly TrustedIssuer[], deps: JwtAuthenticatorDeps) {
    this.#now = deps.now ?? Date.now;
    this.#cacheSize = deps.cacheSize ?? 10_000;
    this.#maxCacheTtlMs = deps.maxCacheTtlMs ?? 300_000;
    const resolvers: JwksResolver[] = [];
    for (const { tenant, spec } of issuers) {
      const compiled = compileIssuer(tenant, spec, deps.jwks, resolvers);
      const list = this.#byIssuer.get(spec.issuer);
      if (list) list.push(compiled);
      else this.#byIssuer.set(spec.issuer, [compiled]);
    }
    this.jwksResolvers = Object.freeze(resolvers);
  }

  /**
   * Verifies a compact JWS. `allowedTenants`: only issuers of these tenants are considered
   * (undefined = all). Returns synchronously on a cache hit (no promise allocated), else a promise.
   * Throws JwtRejected synchronously for malformed tokens and unknown issuers (no I/O done);
   * the promise rejects with JwtRejected for every other refusal.
   */
  verify(token: string, allowedTenants?: ReadonlySet<string>): VerifiedJwt | Promise<VerifiedJwt> {
    const hit = this.#cacheHit(token, allowedTenants);
    if (hit !== undefined) return hit;
    if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH || !COMPACT_JWS_RE.test(token)) throw new JwtRejected('malformed');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch (cause) {
      throw new JwtRejected('malformed', { cause });
    }
    const all = typeof iss === 'string' ? this.#byIssuer.get(iss) : undefined;
    const candidates = all?.filter((c) => allowedTenants === undefined || allowedTenants.has(c.tenant));
    if (all === undefined || candidates === undefined || candidates.length === 0) throw new JwtRejected('unknown_issuer');
    return this.#verifyCandidates(token, candidates, all);
  }

  /** A cached result still valid at now() and that verification would pick again for these tenants. */
  #cacheHit(token: string, allowedTenants: ReadonlySet<string> | undefined): VerifiedJwt | undefined {
    const entry = this.#cache.get(token);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.validUntil) {
      this.#cache.delete(token);
      return undefined;
    }
    // Walk the candidates as verification would: the cached config must be the first allowed one
    // not already known to refuse this token.
    for (const c of entry.candidates) {
      if (allowedTenants !== undefined && !allowedTenants.has(c.tenant)) continue;
      if (c === entry.accepted) {
        this.#cache.delete(token);
        this.#cache.set(token, entry);
        return entry.result;
      }
      if (!entry.refused.includes(c)) return undefined;
    }
    return undefined;
  }

  async #verifyCandidates(token: string, candidates: readonly CompiledIssuer[], all: readonly CompiledIssuer[]): Promise<VerifiedJwt> {
    const startedAt = this.#now();
    const currentDate = new Date(startedAt);
    const refused: CompiledIssuer[] = [];
    let firstRejection: JwtRejected | undefined;
    let cacheable = true;
    for (const c of candidates) {
      try {
        const result = buildResult(c, await verifyWith(c, token, currentDate));
        if (cacheable) this.#store(token, { result, accepted: c, refused, candidates: all, validUntil: Math.min(result.expiresAt! + c.skewMs, startedAt + this.#maxCacheTtlMs) });
        return result;
      } catch (err) {
        const rejected = toRejected(err);
        firstRejection ??= rejected;
        // A refusal that may not hold next time must not let the cache skip this candidate.
        if (rejected.reason === 'jwks_unavailable' || rejected.reason === 'invalid') cacheable = false;
        refused.push(c);
      }
    }
    throw firstRejection!;
  }

  #store(token: string, entry: CacheEntry): void {
    if (this.#cacheSize <= 0) return;
    this.#cache.delete(token);
    this.#cache.set(token, entry);
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }
}

function compileIssuer(tenant: string, spec: JwtIssuerSpec, jwks: JwksRegistry, resolvers: JwksResolver[]): CompiledIssuer {
  const algorithms = new Set<string>(spec.algorithms);
  const options: JWTVerifyOptions = Object.freeze({
    issuer: spec.issuer,
    audience: [...spec.audiences],
    algorithms: [...spec.algorithms],
    clockTolerance: spec.clockSkew / 1000,
    requiredClaims: ['exp'],
  });
  let remote: JWTVerifyGetKey | undefined;
  const keys: StaticKey[] = [];
  if (spec.jwksUrl !== undefined) {
    const resolver = jwks.get(spec.jwksUrl, { ca: spec.jwksCa, cacheMaxAge: spec.jwksCacheMaxAge, cooldown: spec.jwksCooldown });
    resolvers.push(resolver);
    remote = async (header, token) => {
      try {
        return await resolver(header, token);
      } catch (err) {
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
        throw new JwtRejected('jwks_unavailable', { cause: err });
      }
    };
  } else {
    for (const k of spec.keys ?? []) {
      const key = issuerKeyObject(k);
      const jwk = typeof k === 'string' ? undefined : k;
      const kid = typeof jwk?.kid === 'string' ? jwk.kid : undefined;
      keys.push({ kid, algs: new Set(keyAlgorithms(key, jwk?.alg).filter((a) => algorithms.has(a))), key });
    }
  }
  return { tenant, spec, algorithms, options, skewMs: spec.clockSkew, remote, keys };
}

/** Verifies signature and registered claims with one issuer config; returns the payload. */
async function verifyWith(c: CompiledIssuer, token: string, currentDate: Date): Promise<JWTPayload> {
  const options: JWTVerifyOptions = { ...c.options, currentDate };
  if (c.remote !== undefined) {
    try {
      return (await jwtVerify(token, c.remote, options)).payload;
    } catch (err) {
      // A token without `kid` matching several keys of the set: try each (jose's documented pattern).
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
      return tryKeys(err, token, options, err);
    }
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new JwtRejected('malformed', { cause });
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !c.algorithms.has(alg)) throw new JwtRejected('bad_algorithm');
  const fitting = c.keys.filter((k) => k.algs.has(alg));
  // A token naming a `kid` is tried with the keys of that kid, else with the keys that have none.
  const kid = header.kid;
  let chosen = fitting;
  if (typeof kid === 'string') {
    const byKid = fitting.filter((k) => k.kid === kid);
    chosen = byKid.length > 0 ? byKid : fitting.filter((k) => k.kid === undefined);
  }
  if (chosen.length === 0) throw new JwtRejected('no_matching_key');
  return tryKeys(chosen.map((k) => k.key), token, options, undefined);
}

/** Verifies with each key in turn; a bad signature moves on, any other refusal is final. */
async function tryKeys(keys: Iterable<KeyObject> | AsyncIterable<CryptoKey>, token: string, options: JWTVerifyOptions, ifNone: unknown): Promise<JWTPayload> {
  let last: unknown = ifNone ?? new JwtRejected('no_matching_key');
  for await (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
      last = err;
    }
  }
  throw last;
}

/** Applies the mapping claim and `cnf` rules to a verified payload. */
function buildResult(c: CompiledIssuer, payload: JWTPayload): VerifiedJwt {
  const subject = payload[c.spec.claim];
  if (typeof subject !== 'string' || subject.length === 0) throw new JwtRejected('no_subject');
  // Only certificate binding (RFC 8705) is understood. A token bound some other way (DPoP `jkt`, …)
  // is refused rather than accepted as a plain bearer token.
  let certThumbprint: string | undefined;
  const cnf: unknown = payload.cnf;
  if (cnf !== undefined) {
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw new JwtRejected('bad_cnf');
    for (const member of Object.keys(cnf)) if (member !== 'x5t#S256') throw new JwtRejected('bad_cnf');
    const t = (cnf as Record<string, unknown>)['x5t#S256'];
    if (t !== undefined) {
      if (typeof t !== 'string' || !X5T_S256_RE.test(t)) throw new JwtRejected('bad_cnf');
      certThumbprint = t;
    }
  }
  return Object.freeze({
    tenant: c.tenant,
    issuerName: c.spec.name,
    subject,
    claims: Object.freeze(payload) as Readonly<Record<string, unknown>>,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    certThumbprint,
  });
}

/** Maps anything thrown by verification to a JwtRejected with a stable reason. */
function toRejected(err: unknown): JwtRejected {
  if (err instanceof JwtRejected) return err;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new JwtRejected('expired', { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (err as errors.JWTClaimValidationFailed).claim;
      const reason = claim === 'nbf' ? 'not_yet_valid' : claim === 'aud' ? 'bad_audience' : claim === 'iss' ? 'bad_issuer' : claim === 'exp' ? 'no_exp' : 'bad_claims';
      return new JwtRejected(reason, { cause: err });
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new JwtRejected('bad_algorithm', { cause: err });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new JwtRejected('bad_signature', { cause: err });
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new JwtRejected('no_matching_key', { cause: err });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new JwtRejected('malformed', { cause: err });
    default:
      return new JwtRejected('invalid', { cause: err });
  }
}
