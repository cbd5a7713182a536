/**
 * What a tenant may have a CA put in a certificate: only what it owns. A client certificate names
 * one of its applications (`spiffe://<trust domain>/tenant/<tenant>/app/<application>`), a server
 * certificate host names its domains cover. From a CA another tenant shares with it, stricter still:
 * server certificates only when the owner allows them (`sharedServerCertificates`) and for no host
 * another tenant's domain matches or overlaps (host names are global: everyone trusting the owner's
 * root would accept the certificate), and lifetimes no longer than the owner's.
 */

import { gatewayError } from '../core/errors.js';
import type { CaRecord, TenantScopeReader } from '../storage/store.js';
import { CsrError, parseCsr } from './csr.js';

export interface IssueRequest {
  readonly usage: 'client' | 'server';
  readonly application?: string | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly csr?: string | undefined;
  readonly lifetimeDays?: number | undefined;
}

export interface IssuanceNames {
  readonly sans: string[];
  readonly application: string | null;
  /** The requester's public key, from its CSR (PEM); undefined: the gateway generates the key. */
  readonly publicKey: string | undefined;
  readonly lifetimeDays: number;
}

/** `pattern` (exact or `*.example.com`) covers `host`. */
function covers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}

/** Two host patterns some name matches both of. */
function overlap(a: string, b: string): boolean {
  return covers(a, b) || covers(b, a);
}

/**
 * The names, key and lifetime of the certificate `tenant` asks `ca` for, or a VALIDATION /
 * NOT_FOUND error saying which part it does not own.
 */
export async function issuanceNames(scope: TenantScopeReader, ca: CaRecord, spec: IssueRequest): Promise<IssuanceNames> {
  const tenant = scope.tenant;
  const shared = ca.tenant !== tenant;
  let sans: string[];
  let application: string | null = null;
  if (spec.usage === 'client') {
    if (!(await scope.get('application', spec.application!))) throw gatewayError('NOT_FOUND', `Application "${spec.application}" not found`);
    application = spec.application!;
    sans = [`spiffe://${ca.settings.trustDomain}/tenant/${tenant}/app/${application}`];
  } else {
    if (shared && ca.settings.sharedServerCertificates !== true) {
      throw gatewayError('VALIDATION', `Certificate authority "${ca.tenant}/${ca.name}" issues client certificates only to the tenants it is shared with`, [{ path: 'usage', message: 'its owner does not share it for server certificates' }]);
    }
    const owned = (await scope.listAll('domain')).flatMap((d) => (d.spec.hosts as string[] | undefined) ?? []);
    const foreign = spec.hosts!.filter((h) => !owned.some((p) => covers(p, h)));
    if (foreign.length > 0) throw gatewayError('VALIDATION', `The tenant has no domain covering ${foreign.map((h) => `"${h}"`).join(', ')}`, foreign.map((h) => ({ path: 'hosts', message: `"${h}" is not covered by any of the tenant's domains` })));
    if (shared) {
      const others = await scope.pki.foreignDomainHosts();
      const claimed = spec.hosts!.filter((h) => others.some((p) => overlap(p, h)));
      if (claimed.length > 0) throw gatewayError('VALIDATION', `A shared CA does not issue for hosts another tenant's domain matches: ${claimed.map((h) => `"${h}"`).join(', ')}`, claimed.map((h) => ({ path: 'hosts', message: `"${h}" overlaps a domain of another tenant` })));
    }
    sans = [...spec.hosts!];
  }
  let publicKey: string | undefined;
  if (spec.csr !== undefined) {
    let csr;
    try {
      csr = await parseCsr(spec.csr);
    } catch (err) {
      if (err instanceof CsrError) throw gatewayError('VALIDATION', `Invalid CSR: ${err.message}`, [{ path: 'csr', message: err.message }]);
      throw err;
    }
    const requested = [...csr.sans.dns, ...csr.sans.ip, ...csr.sans.uri, ...csr.sans.email];
    const extra = requested.filter((n) => !sans.includes(n));
    if (extra.length > 0) {
      throw gatewayError('VALIDATION', `The CSR asks for names the tenant does not own: ${extra.join(', ')}`, extra.map((n) => ({ path: 'csr', message: `"${n}" is not owned by tenant "${tenant}"` })));
    }
    publicKey = csr.publicKeyPem;
  }
  const ownerDays = spec.usage === 'client' ? ca.settings.clientLifetimeDays : ca.settings.serverLifetimeDays;
  if (shared && spec.lifetimeDays !== undefined && spec.lifetimeDays > ownerDays) {
    throw gatewayError('VALIDATION', `A shared CA issues ${spec.usage} certificates for at most ${ownerDays} days (its owner's setting)`, [{ path: 'lifetimeDays', message: `must be at most ${ownerDays}` }]);
  }
  return { sans, application, publicKey, lifetimeDays: spec.lifetimeDays ?? ownerDays };
}
