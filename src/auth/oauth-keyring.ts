/**
 * Per-tenant signing keys for the gateway's own OAuth 2.0 token endpoint, and verification of the
 * access tokens it issued. A tenant's key is created on first use and stored sealed in the shared
 * store (every node signs and verifies with the same key); its public half is served as the tenant's
 * JWKS. Tokens carry `iss` = `aud` = {@link tenantIssuer}.
 */

import { decodeJwt } from 'jose';
import { JwksRegistry } from './jwt/jwks-registry.js';
import { JwtAuthenticator, JwtRejected, type VerifiedJwt } from './jwt/jwt-authenticator.js';
import { JwtIssuerSpecSchema } from './jwt/jwt-issuer-spec.js';
import { generateSigningKey, publicJwks, signAccessToken, type AccessTokenClaims, type SigningKey } from './jwt/token-signer.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { instanceSecret } from '../secrets/instance-secret.js';
import type { Store } from '../storage/store.js';

const ISSUER_PREFIX = 'urn:portcullis:tenant:';

/** The `iss` (and `aud`) of tokens issued for a tenant's applications. */
export function tenantIssuer(tenant: string): string {
  return `${ISSUER_PREFIX}${tenant}`;
}

/** The tenant named by a gateway-issued token's `iss` (read without verifying), or undefined. */
export function gatewayTokenTenant(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' && iss.startsWith(ISSUER_PREFIX) ? iss.slice(ISSUER_PREFIX.length) : undefined;
  } catch {
    return undefined;
  }
}

export class OAuthKeyring {
  readonly #keys = new Map<string, SigningKey>();
  readonly #loading = new Map<string, Promise<SigningKey>>();
  readonly #jwks = new JwksRegistry();
  #verifier: JwtAuthenticator;

  constructor(
    private readonly store: Pick<Store, 'getSetting' | 'putSettingIfAbsent'>,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
  ) {
    this.#verifier = this.#build();
  }

  /** The tenant's signing key, created and stored on first use. */
  key(tenant: string): Promise<SigningKey> {
    const known = this.#keys.get(tenant);
    if (known) return Promise.resolve(known);
    let p = this.#loading.get(tenant);
    if (!p) {
      p = this.#load(tenant).finally(() => this.#loading.delete(tenant));
      this.#loading.set(tenant, p);
    }
    return p;
  }

  async sign(tenant: string, claims: Omit<AccessTokenClaims, 'iss' | 'aud'>): Promise<string> {
    const key = await this.key(tenant);
    return signAccessToken(key, { ...claims, iss: tenantIssuer(tenant), aud: tenantIssuer(tenant) }, this.now());
  }

  async jwks(tenant: string): Promise<ReturnType<typeof publicJwks>> {
    return publicJwks([await this.key(tenant)]);
  }

  /**
   * Verifies a token this gateway issued for `tenant`. Synchronous once the tenant's key is loaded
   * and the token was seen before. Throws / rejects JwtRejected.
   */
  verify(token: string, tenant: string): VerifiedJwt | Promise<VerifiedJwt> {
    if (this.#keys.has(tenant)) return this.#verifier.verify(token, new Set([tenant]));
    return this.key(tenant).then(
      () => this.#verifier.verify(token, new Set([tenant])),
      (cause: unknown) => {
        throw new JwtRejected('no_matching_key', { cause });
      },
    );
  }

  close(): Promise<void> {
    return this.#jwks.close();
  }

  async #load(tenant: string): Promise<SigningKey> {
    const json = await instanceSecret(this.store, this.box, `oauth2-signing-key:${tenant}`, async () => JSON.stringify(await generateSigningKey()));
    const key = JSON.parse(json) as SigningKey;
    this.#keys.set(tenant, key);
    this.#verifier = this.#build();
    return key;
  }

  #build(): JwtAuthenticator {
    const issuers = [...this.#keys].map(([tenant, key]) => ({
      tenant,
      spec: JwtIssuerSpecSchema.parse({
        name: 'oauth2',
        issuer: tenantIssuer(tenant),
        audiences: [tenantIssuer(tenant)],
        keys: [key.publicJwk],
        algorithms: ['ES256'],
        clockSkew: 30_000,
        claim: 'client_id',
      }),
    }));
    return new JwtAuthenticator(issuers, { jwks: this.#jwks, now: this.now });
  }
}
