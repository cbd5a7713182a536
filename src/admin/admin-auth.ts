/**
 * Admin API authentication and authorisation.
 *
 * Clients send `Authorization: Bearer <token>`. Tokens are never stored or compared in clear: the
 * SHA-256 (hex) of the presented token is looked up among the store's active admin tokens, and
 * compared in constant time with the hash of the token given by PORTCULLIS_ADMIN_TOKEN, if any.
 * Every failure is the same generic 401, whatever went wrong.
 *
 * Authorisation (role permissions, tenant limits) lives in {@link AdminAuth.authorize} only; the
 * storage view a tenant-scoped principal gets (tenant-bound-store.ts) enforces the tenant limit again.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { gatewayError } from '../core/errors.js';
import type { AdminRole, Store } from '../storage/store.js';
import { ROLE_PERMISSIONS, type Permission } from './roles.js';

/** Prefix of generated admin tokens (makes them recognisable to secret scanners). */
export const ADMIN_TOKEN_PREFIX = 'pca_';

/** Longest bearer token considered at all; longer ones are rejected without hashing. */
const MAX_TOKEN_LENGTH = 1024;

/** A new random admin token: `pca_` + 43 characters (base64url of 32 random bytes). */
export function generateAdminToken(): string {
  return `${ADMIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The SHA-256 of a token as 64 lower-case hex characters: what the store keeps. */
export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Who is calling. */
export interface AdminPrincipal {
  /** Token record id, or "env" for the PORTCULLIS_ADMIN_TOKEN token. */
  readonly id: string;
  /** Token name, for logs. */
  readonly name: string;
  readonly role: AdminRole;
  /** Tenant the token is limited to; null for platform-wide tokens. */
  readonly tenant: string | null;
}

/** What a request wants to do. */
export interface AdminPermission {
  readonly permission: Permission;
  /** The tenant concerned, when the request is about one. */
  readonly tenant?: string | undefined;
}

export interface AdminAuthOptions {
  readonly store: Pick<Store, 'adminTokens'>;
  /** SHA-256 hex of the token given by PORTCULLIS_ADMIN_TOKEN (see {@link hashAdminToken}). */
  readonly envTokenHash?: string | undefined;
  /** Clock, for token expiry. */
  readonly now?: () => Date;
}

const ENV_PRINCIPAL: AdminPrincipal = Object.freeze({ id: 'env', name: 'PORTCULLIS_ADMIN_TOKEN', role: 'platform-admin', tenant: null });

function unauthenticated() {
  return gatewayError('UNAUTHENTICATED');
}

export class AdminAuth {
  readonly #envHash: Buffer | undefined;
  readonly #store: Pick<Store, 'adminTokens'>;
  readonly #now: () => Date;

  /** @throws Error when `envTokenHash` is not 64 hex characters. */
  constructor(opts: AdminAuthOptions) {
    this.#store = opts.store;
    this.#now = opts.now ?? (() => new Date());
    if (opts.envTokenHash !== undefined) {
      if (!/^[0-9a-f]{64}$/i.test(opts.envTokenHash)) throw new Error('envTokenHash must be a SHA-256 hex digest');
      this.#envHash = Buffer.from(opts.envTokenHash, 'hex');
    }
  }

  /**
   * The principal for an `Authorization` header value. Throws UNAUTHENTICATED (generic message) for a
   * missing, malformed, unknown, revoked or expired token; STORAGE when the token store is unreachable.
   */
  async authenticate(authorization: string | undefined): Promise<AdminPrincipal> {
    if (!authorization) throw unauthenticated();
    const m = /^Bearer +([^\s]+) *$/i.exec(authorization);
    const token = m?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) throw unauthenticated();
    const hash = hashAdminToken(token);
    if (this.#envHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.#envHash)) return ENV_PRINCIPAL;
    const record = await this.#store.adminTokens.findActiveByHash(hash, this.#now());
    // Only platform admins span tenants: any other role without a tenant is a corrupted record.
    if (!record || (record.role !== 'platform-admin' && record.tenant === null)) throw unauthenticated();
    return { id: record.id, name: record.name, role: record.role, tenant: record.tenant };
  }

  /**
   * Throws unless `principal` may do `wanted`: NOT_FOUND when it names a tenant the principal is not
   * limited to (other tenants do not exist for it, exactly like unknown ones), FORBIDDEN when the
   * role lacks the permission.
   */
  authorize(principal: AdminPrincipal, wanted: AdminPermission): void {
    if (principal.tenant !== null && wanted.tenant !== undefined && wanted.tenant !== principal.tenant) {
      throw gatewayError('NOT_FOUND', `Tenant "${wanted.tenant}" not found`);
    }
    if (!ROLE_PERMISSIONS[principal.role]?.has(wanted.permission)) {
      throw gatewayError('FORBIDDEN', `The ${principal.role} role does not have the ${wanted.permission} permission`);
    }
  }
}
