/**
 * Planning of who may call: JWT issuers and applications (validated like every other kind), plus the
 * credentials and subscriptions of the dump, which the data plane indexes.
 */

import { parseSpec as parse } from './parse-spec.js';
import type { ErrorDetail } from '../core/errors.js';
import { ApplicationSpecSchema, type ApplicationSpec } from '../model/application.js';
import { JwtIssuerSpecSchema, type JwtIssuerSpec } from '../auth/jwt/jwt-issuer-spec.js';
import type { ConfigDump, ConfigRecord, CredentialRecord, SubscriptionRecord } from '../storage/store.js';

export interface PlannedJwtIssuer {
  readonly tenant: string;
  readonly spec: JwtIssuerSpec;
}

export interface PlannedApplication {
  readonly tenant: string;
  readonly spec: ApplicationSpec;
}

export interface PlannedIdentities {
  readonly jwtIssuers: readonly PlannedJwtIssuer[];
  readonly applications: readonly PlannedApplication[];
  readonly credentials: readonly CredentialRecord[];
  readonly subscriptions: readonly SubscriptionRecord[];
}

/** Issuers and applications of the dump; an application's JWT identities must name issuers of its tenant. */
export function planIdentities(dump: ConfigDump, details: ErrorDetail[]): PlannedIdentities {
  const jwtIssuers: PlannedJwtIssuer[] = [];
  const issuerNames = new Set<string>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'jwt-issuer') continue;
    const spec = parse(JwtIssuerSpecSchema, rec, details);
    if (!spec) continue;
    jwtIssuers.push({ tenant: rec.tenant, spec });
    issuerNames.add(`${rec.tenant}/${spec.name}`);
  }
  const applications: PlannedApplication[] = [];
  for (const rec of dump.objects) {
    if (rec.kind !== 'application') continue;
    const spec = parse(ApplicationSpecSchema, rec, details);
    if (!spec) continue;
    spec.jwt.forEach((j, i) => {
      if (!issuerNames.has(`${rec.tenant}/${j.issuer}`)) {
        details.push({ path: `applications.${rec.tenant}/${rec.name}.jwt.${i}.issuer`, message: `jwt-issuer "${j.issuer}" does not exist in tenant "${rec.tenant}"` });
      }
    });
    applications.push({ tenant: rec.tenant, spec });
  }
  return { jwtIssuers, applications, credentials: dump.credentials, subscriptions: dump.subscriptions };
}
