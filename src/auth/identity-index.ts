/**
 * Who is who, as of one config snapshot: credentials by public prefix, application identities
 * (JWT subjects, client-certificate rules) and subscriptions, indexed for O(1) lookups on the hot
 * path. Built once per snapshot from the plan; read-only afterwards. Memory grows linearly with
 * applications and credentials (about 100,000 of each is the design point).
 */

import type { PlannedIdentities } from '../snapshot/plan-identities.js';
import type { CredentialRecord, CredentialType, SubscriptionStatus } from '../storage/store.js';
import { compileCertMatch } from '../tls/cert-match.js';
import type { ClientCertificate } from '../tls/client-certificate.js';

/** A credential as the data plane needs it. */
export interface CredentialEntry {
  readonly id: string;
  readonly tenant: string;
  readonly application: string;
  readonly type: CredentialType;
  readonly prefix: string;
  readonly secretHash: string;
  /** ms since the epoch, or Infinity. */
  readonly expiresAt: number;
  readonly revoked: boolean;
  readonly boundCertificate: string | undefined;
  readonly serviceScopes: ReadonlySet<string> | undefined;
  readonly modelScopes: ReadonlySet<string> | undefined;
}

export interface AppRef {
  readonly tenant: string;
  readonly name: string;
}

interface CertRule {
  readonly app: AppRef;
  readonly match: (cert: ClientCertificate) => boolean;
}

function scopeSet(values: readonly string[] | undefined, tenant?: string): ReadonlySet<string> | undefined {
  if (!values || values.length === 0) return undefined;
  return new Set(tenant === undefined ? values : values.map((v) => (v.includes('/') ? v : `${tenant}/${v}`)));
}

function toEntry(c: CredentialRecord): CredentialEntry {
  return {
    id: c.id,
    tenant: c.tenant,
    application: c.application,
    type: c.type,
    prefix: c.prefix,
    secretHash: c.secretHash,
    expiresAt: c.expiresAt === null ? Infinity : Date.parse(c.expiresAt),
    revoked: c.revokedAt !== null,
    boundCertificate: c.boundCertificate ?? undefined,
    serviceScopes: scopeSet(c.scopes.services, c.tenant),
    modelScopes: scopeSet(c.scopes.models),
  };
}

/** `tenant/app\0tenant/service`. */
function subscriptionKey(appTenant: string, app: string, serviceTenant: string, service: string): string {
  return `${appTenant}/${app}\0${serviceTenant}/${service}`;
}

export class IdentityIndex {
  readonly #credentials = new Map<string, CredentialEntry>();
  readonly #apps = new Set<string>();
  /** `tenant/issuer\0subject` → application. */
  readonly #jwtSubjects = new Map<string, AppRef>();
  /** Fingerprint-pinned rules by fingerprint; every other rule in `#certRules`. */
  readonly #certByFingerprint = new Map<string, CertRule[]>();
  readonly #certRules: CertRule[] = [];
  readonly #subscriptions = new Map<string, SubscriptionStatus>();
  /** Per verified certificate object (one per connection): the matching applications. */
  readonly #certCache = new WeakMap<ClientCertificate, readonly AppRef[]>();

  constructor(identities: PlannedIdentities) {
    for (const c of identities.credentials) this.#credentials.set(c.prefix, toEntry(c));
    for (const { tenant, spec } of identities.applications) {
      const app: AppRef = { tenant, name: spec.name };
      this.#apps.add(`${tenant}/${spec.name}`);
      for (const j of spec.jwt) this.#jwtSubjects.set(`${tenant}/${j.issuer}\0${j.subject}`, app);
      for (const rule of spec.mtls) {
        const entry: CertRule = { app, match: compileCertMatch([rule]) };
        if (rule.fingerprint !== undefined) {
          const list = this.#certByFingerprint.get(rule.fingerprint) ?? [];
          list.push(entry);
          this.#certByFingerprint.set(rule.fingerprint, list);
        } else {
          this.#certRules.push(entry);
        }
      }
    }
    for (const s of identities.subscriptions) {
      const key = subscriptionKey(s.tenant, s.application, s.serviceTenant, s.service);
      // Approved wins over a pending request for the same pair.
      if (this.#subscriptions.get(key) !== 'approved') this.#subscriptions.set(key, s.status);
    }
  }

  get credentialCount(): number {
    return this.#credentials.size;
  }

  /** The credential with this public prefix (API key prefix or client_id), revoked ones included. */
  credential(prefix: string): CredentialEntry | undefined {
    return this.#credentials.get(prefix);
  }

  hasApplication(tenant: string, name: string): boolean {
    return this.#apps.has(`${tenant}/${name}`);
  }

  /** The application a verified JWT of `tenant`'s issuer `issuer` with mapping claim `subject` stands for. */
  jwtApplication(tenant: string, issuer: string, subject: string): AppRef | undefined {
    return this.#jwtSubjects.get(`${tenant}/${issuer}\0${subject}`);
  }

  /**
   * The applications a verified client certificate identifies, among tenants `allowed`. Matching is
   * cached per certificate object, i.e. per connection and snapshot.
   */
  certificateApplications(cert: ClientCertificate): readonly AppRef[] {
    let apps = this.#certCache.get(cert);
    if (apps === undefined) {
      const found: AppRef[] = [];
      for (const r of this.#certByFingerprint.get(cert.fingerprint256) ?? []) if (r.match(cert)) found.push(r.app);
      for (const r of this.#certRules) if (r.match(cert)) found.push(r.app);
      apps = found;
      this.#certCache.set(cert, apps);
    }
    return apps;
  }

  subscription(appTenant: string, app: string, serviceTenant: string, service: string): SubscriptionStatus | undefined {
    return this.#subscriptions.get(subscriptionKey(appTenant, app, serviceTenant, service));
  }
}
