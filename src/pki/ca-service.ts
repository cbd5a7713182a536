/**
 * The built-in certificate authorities: the one write path for creating and importing CAs, issuing
 * client and server certificates and revoking them. Like the config and access services, every
 * write runs in one store transaction with its audit entry, and the data plane reloads after commit
 * (a revocation changes the CRLs in the listener contexts).
 *
 * A tenant only obtains certificates for what it owns: a client certificate names one of its
 * applications (`spiffe://<trust domain>/tenant/<tenant>/app/<application>`), a server certificate
 * only host names its domains cover. CA private keys are sealed with the master key; issued keys are
 * returned once and never stored.
 */

import { X509Certificate, randomBytes } from 'node:crypto';
import { SYSTEM_CONTEXT, type AuditContext } from '../audit/audit-context.js';
import { auditedWrite, type AuditedResult } from '../audit/audited-write.js';
import { parseInput } from '../config/input-validation.js';
import type { SecretSealer } from '../config/secret-sealing.js';
import { gatewayError } from '../core/errors.js';
import { CaImportSchema, CaInputSchema, CaRevokeInputSchema, CaSharingInputSchema, CertificateRequestInputSchema, ChainInstallInputSchema, IssueInputSchema, PkiRevokeInputSchema } from '../model/pki.js';
import { checkCertificateChain } from './chain-check.js';
import { createCsr } from './csr.js';
import type { AuditLinker, CaRecord, CaRevocation, CertificateRequestRecord, IssuedCertificateRecord, Store, StoreTx, TenantPki } from '../storage/store.js';
import { createCaHierarchy, importCa } from './ca-hierarchy.js';
import { caRef, parseCaRef } from './ca-ref.js';
import { issuanceNames } from './issuance-policy.js';
import { issueCertificate } from './issue-certificate.js';
import { buildPkcs12 } from './pkcs12.js';
import { pkiUrls } from './pki-urls.js';

const DAY = 86_400_000;

export interface CaServiceDeps {
  readonly store: Store;
  readonly secrets: SecretSealer;
  readonly audit?: AuditLinker | undefined;
  /** Base URL written into certificates for the CRL and OCSP endpoints (e.g. http://pki.example.com:8080). */
  readonly baseUrl: () => string;
  readonly onCommitted: () => Promise<void>;
  readonly now?: () => number;
}

/**
 * A CA as a tenant sees it: certificates, never keys. `name` is how that tenant names it (`owner/name`
 * for a CA another tenant shares); only the owner sees whom it is shared with.
 */
export interface CaView {
  name: string;
  /** The tenant that owns the CA. */
  tenant: string;
  settings: CaRecord['settings'];
  certificate: string;
  root: string | null;
  subject: string;
  notAfter: string;
  fingerprint: string;
  crlUrl: string;
  ocspUrl: string;
  createdAt: string;
}

export interface IssuedView {
  certificate: Omit<IssuedCertificateRecord, 'id'>;
  /** The leaf followed by the issuing chain, up to and including the root. */
  chainPem: string;
  /** Generated key (PKCS#8 PEM), when the request had no CSR. Shown once. */
  keyPem?: string;
  /** Password-protected PKCS#12 of key, certificate and chain (base64), when a key was generated. */
  pkcs12?: string;
  /** The PKCS#12 password, when the gateway chose it. Shown once. */
  pkcs12Password?: string;
}

/** A pending request as clients see it: never the key. */
export interface CertificateRequestView {
  name: string;
  hosts: string[];
  csr: string;
  createdAt: string;
}

function requestView(r: CertificateRequestRecord): CertificateRequestView {
  return { name: r.name, hosts: r.hosts, csr: r.csrPem, createdAt: r.createdAt };
}

function requestAad(tenant: string, name: string): string {
  return `certificate-request:${tenant}:${name}:key`;
}

function keyAad(tenant: string, ca: string, which: 'issuing' | 'root'): string {
  return `ca:${tenant}:${ca}:${which}-key`;
}

function issuedView(r: IssuedCertificateRecord): Omit<IssuedCertificateRecord, 'id'> {
  const { id: _id, ...rest } = r;
  void _id;
  return rest;
}

type CaSettingsInput = Pick<CaRecord['settings'], 'keyType' | 'trustDomain' | 'clientLifetimeDays' | 'serverLifetimeDays' | 'description'> & { sharedWith: string[]; sharedServerCertificates: boolean };

/** The stored settings of a new CA of `tenant` (VALIDATION when it would share with itself). */
function settingsOf(tenant: string, spec: CaSettingsInput): Omit<CaRecord['settings'], 'source'> {
  checkSharedWith(tenant, spec.sharedWith);
  const { keyType, trustDomain, clientLifetimeDays, serverLifetimeDays, description, sharedServerCertificates } = spec;
  return { keyType, trustDomain, clientLifetimeDays, serverLifetimeDays, description, sharedWith: [...new Set(spec.sharedWith)], sharedServerCertificates };
}

function checkSharedWith(tenant: string, sharedWith: readonly string[]): void {
  const i = sharedWith.indexOf(tenant);
  if (i >= 0) throw gatewayError('VALIDATION', 'A CA is not shared with the tenant that owns it', [{ path: `sharedWith.${i}`, message: `"${tenant}" owns this CA` }]);
}

export class CaService {
  constructor(
    private readonly deps: CaServiceDeps,
    private readonly context: AuditContext = SYSTEM_CONTEXT,
  ) {}

  as(context: AuditContext, store: Store = this.deps.store): CaService {
    return new CaService({ ...this.deps, store }, context);
  }

  /** `ca` as tenant `viewer` sees it. */
  view(ca: CaRecord, viewer: string = ca.tenant): CaView {
    const cert = new X509Certificate(ca.certPem);
    const urls = pkiUrls(this.deps.baseUrl(), ca.tenant, ca.name);
    const { sharedWith, sharedServerCertificates, ...settings } = ca.settings;
    const sharing = { sharedWith: sharedWith ?? [], sharedServerCertificates: sharedServerCertificates === true };
    return {
      name: caRef(ca.tenant, ca.name, viewer),
      tenant: ca.tenant,
      settings: viewer === ca.tenant ? { ...settings, ...sharing } : { ...settings, sharedServerCertificates: sharing.sharedServerCertificates },
      certificate: ca.certPem,
      root: ca.rootCertPem,
      subject: cert.subject.replace(/\n/g, ', '),
      notAfter: new Date(cert.validTo).toISOString(),
      fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
      crlUrl: urls.crl,
      ocspUrl: urls.ocsp,
      createdAt: ca.createdAt,
    };
  }

  /** The tenant's own CAs by name, then those other tenants share with it. */
  async listCas(tenant: string): Promise<CaView[]> {
    const pki = (await this.deps.store.tenant(tenant)).pki;
    return [...(await pki.listCas()), ...(await pki.listSharedCas())].map((c) => this.view(c, tenant));
  }

  async getCa(tenant: string, ref: string): Promise<CaView> {
    return this.view(await this.#ca(tenant, ref), tenant);
  }

  /** The CA's chain as PEM (issuing certificate, then the root): what clients and servers trust. */
  async chain(tenant: string, ref: string): Promise<string> {
    const ca = await this.#ca(tenant, ref);
    return ca.rootCertPem ? `${ca.certPem.trimEnd()}\n${ca.rootCertPem.trimEnd()}\n` : ca.certPem;
  }

  /** Generates a root and an issuing intermediate. */
  async createCa(tenant: string, input: unknown): Promise<CaView> {
    const spec = parseInput(CaInputSchema, input, 'certificate authority');
    const settings = settingsOf(tenant, spec);
    const urls = pkiUrls(this.deps.baseUrl(), tenant, spec.name);
    const h = await createCaHierarchy({ commonName: `${tenant} ${spec.name}`, organization: spec.organization ?? tenant, keyType: spec.keyType, crlUrl: urls.rootCrl, ...(spec.validityDays ? { rootValidityDays: spec.validityDays, intermediateValidityDays: spec.validityDays } : {}) });
    const created = await this.#write(async (tx) => {
      const pki = (await tx.tenant(tenant)).pki;
      const ca = await pki.createCa({
        name: spec.name,
        settings: { source: 'generated', ...settings },
        certPem: h.intermediate.certPem,
        keySealed: this.deps.secrets.seal(h.intermediate.keyPem, keyAad(tenant, spec.name, 'issuing')),
        rootCertPem: h.root.certPem,
        rootKeySealed: this.deps.secrets.seal(h.root.keyPem, keyAad(tenant, spec.name, 'root')),
      });
      return { result: ca, audit: [{ tenant, action: 'ca.create', object: { kind: 'ca', name: spec.name }, after: this.view(ca) }] };
    });
    return this.view(created);
  }

  /** Brings an existing CA (certificate and key): it signs leaves and CRLs as a generated one would. */
  async importCa(tenant: string, input: unknown): Promise<CaView> {
    const spec = parseInput(CaImportSchema, input, 'certificate authority');
    const settings = settingsOf(tenant, spec);
    const problems = importCa(spec.certificate, spec.key, new Date(this.#now()));
    if (problems.length > 0) throw gatewayError('VALIDATION', `Cannot import this CA: ${problems[0]}`, problems.map((message) => ({ path: 'certificate', message })));
    const created = await this.#write(async (tx) => {
      const ca = await (await tx.tenant(tenant)).pki.createCa({
        name: spec.name,
        settings: { source: 'imported', ...settings },
        certPem: spec.certificate,
        keySealed: this.deps.secrets.seal(spec.key, keyAad(tenant, spec.name, 'issuing')),
        rootCertPem: spec.root ?? null,
        rootKeySealed: null,
      });
      return { result: ca, audit: [{ tenant, action: 'ca.import', object: { kind: 'ca', name: spec.name }, after: this.view(ca) }] };
    });
    return this.view(created);
  }

  /**
   * Replaces the list of tenants an own CA is shared with (and whether they may have it issue server
   * certificates). Those tenants may trust it in their domains and have it issue for their own
   * applications (and hosts); a tenant dropped from the list can do neither any more, and its
   * domains stop accepting the CA's certificates at once.
   */
  async share(tenant: string, ref: string, input: unknown): Promise<CaView> {
    const { sharedWith, sharedServerCertificates } = parseInput(CaSharingInputSchema, input, 'CA sharing');
    checkSharedWith(tenant, sharedWith);
    const name = this.#own(tenant, ref);
    const updated = await this.#write(async (tx) => {
      const pki = (await tx.tenant(tenant)).pki;
      const before = await pki.getCa(name);
      if (!before) throw gatewayError('NOT_FOUND', `Certificate authority "${ref}" not found`);
      const after = (await pki.updateCaSettings(name, { ...before.settings, sharedWith: [...new Set(sharedWith)], sharedServerCertificates }))!;
      const sharing = (c: CaRecord) => ({ sharedWith: c.settings.sharedWith ?? [], sharedServerCertificates: c.settings.sharedServerCertificates === true });
      return { result: after, audit: [{ tenant, action: 'ca.share', object: { kind: 'ca', name }, before: sharing(before), after: sharing(after) }] };
    });
    return this.view(updated);
  }

  /**
   * The owner's last word: revokes any certificate an own CA issued, including those other tenants
   * obtained from it while it was shared with them. NOT_FOUND when the CA did not issue that serial.
   */
  async revokeIssuedByCa(tenant: string, ref: string, input: unknown): Promise<CaRevocation> {
    const { serial, reason } = parseInput(CaRevokeInputSchema, input, 'revocation');
    const name = this.#own(tenant, ref);
    return this.#write(async (tx) => {
      const pki = (await tx.tenant(tenant)).pki;
      if (!(await pki.getCa(name))) throw gatewayError('NOT_FOUND', `Certificate authority "${ref}" not found`);
      const rec = await pki.revokeIssuedByCa(name, serial, new Date(this.#now()).toISOString(), reason);
      if (!rec) throw gatewayError('NOT_FOUND', `Certificate authority "${ref}" issued no certificate with serial "${serial}"`);
      const entries = [{ tenant, action: 'certificate.revoke', object: { kind: 'certificate', name: rec.serial }, details: { reason: rec.revocationReason, ca: name, issuedTo: rec.tenant } }];
      if (rec.tenant !== tenant) entries.push({ tenant: rec.tenant, action: 'certificate.revoke', object: { kind: 'certificate', name: rec.serial }, details: { reason: rec.revocationReason, ca: `${tenant}/${name}`, issuedTo: rec.tenant } });
      return { result: rec, audit: entries };
    });
  }

  /**
   * Issues a client or server certificate from a CSR (the key stays with the client) or a generated
   * key. `ref` names an own CA or one shared with the tenant; either way the certificate only names
   * what the tenant owns.
   */
  async issue(tenant: string, ref: string, input: unknown): Promise<IssuedView> {
    const spec = parseInput(IssueInputSchema, input, 'certificate request');
    const scope = await this.deps.store.tenant(tenant);
    const ca = await this.#ca(tenant, ref);
    const { sans, application, publicKey, lifetimeDays } = await issuanceNames(scope, ca, spec);
    const urls = pkiUrls(this.deps.baseUrl(), ca.tenant, ca.name);
    const issuerKey = this.deps.secrets.open(ca.keySealed, keyAad(ca.tenant, ca.name, 'issuing'));
    const issued = await issueCertificate({
      issuer: { certPem: ca.certPem, keyPem: issuerKey },
      subjectCN: application ?? sans[0]!,
      sans,
      usage: spec.usage,
      notAfter: new Date(this.#now() + lifetimeDays * DAY),
      crlUrl: urls.crl,
      ocspUrl: urls.ocsp,
      ...(publicKey !== undefined ? { publicKey } : { keyType: ca.settings.keyType }),
    });
    const x = new X509Certificate(issued.certPem);
    const record = await this.#write(async (tx) => {
      const rec = await (await tx.tenant(tenant)).pki.recordIssued({
        ca: caRef(ca.tenant, ca.name, tenant),
        serial: x.serialNumber,
        usage: spec.usage,
        subject: x.subject.replace(/\n/g, ', '),
        sans,
        application,
        fingerprint: x.fingerprint256.replace(/:/g, '').toLowerCase(),
        notBefore: new Date(x.validFrom).toISOString(),
        notAfter: new Date(x.validTo).toISOString(),
        certPem: issued.certPem,
      });
      return { result: rec, audit: [{ tenant, action: 'certificate.issue', object: { kind: 'certificate', name: rec.serial }, after: { ...issuedView(rec), certPem: undefined, fromCsr: publicKey !== undefined } }] };
    }, false);
    const chainPem = [issued.certPem, ca.certPem, ca.rootCertPem].filter((p): p is string => p !== null).map((p) => p.trimEnd()).join('\n') + '\n';
    const out: IssuedView = { certificate: issuedView(record), chainPem };
    if (issued.keyPem !== undefined) {
      const password = spec.pkcs12Password ?? randomBytes(18).toString('base64url');
      out.keyPem = issued.keyPem;
      out.pkcs12 = buildPkcs12({ certPem: issued.certPem, keyPem: issued.keyPem, chainPems: [ca.certPem, ...(ca.rootCertPem ? [ca.rootCertPem] : [])], password, friendlyName: application ?? sans[0]! }).toString('base64');
      if (spec.pkcs12Password === undefined) out.pkcs12Password = password;
    }
    return out;
  }

  async listIssued(tenant: string, filter: { ca?: string | undefined; application?: string | undefined; expiringWithinMs?: number | undefined } = {}): Promise<Array<Omit<IssuedCertificateRecord, 'id'>>> {
    const scope = await this.deps.store.tenant(tenant);
    const expiringBefore = filter.expiringWithinMs === undefined ? undefined : new Date(this.#now() + filter.expiringWithinMs).toISOString();
    return (await scope.pki.listIssued({ ca: filter.ca, application: filter.application, expiringBefore })).map(issuedView);
  }

  async getIssued(tenant: string, serial: string): Promise<Omit<IssuedCertificateRecord, 'id'>> {
    const rec = await (await this.deps.store.tenant(tenant)).pki.getIssued(serial);
    if (!rec) throw gatewayError('NOT_FOUND', `Certificate with serial "${serial}" not found`);
    return issuedView(rec);
  }

  /** Revokes by serial with an RFC 5280 reason: new connections with it are refused once the data plane reloads. */
  async revoke(tenant: string, serial: string, input: unknown): Promise<Omit<IssuedCertificateRecord, 'id'>> {
    const { reason } = parseInput(PkiRevokeInputSchema, input ?? {}, 'revocation');
    const rec = await this.#write(async (tx) => {
      const pki: TenantPki = (await tx.tenant(tenant)).pki;
      const before = await pki.getIssued(serial);
      if (!before) throw gatewayError('NOT_FOUND', `Certificate with serial "${serial}" not found`);
      const after = (await pki.revoke(serial, new Date(this.#now()).toISOString(), reason))!;
      return {
        result: after,
        audit: before.revokedAt === null ? [{ tenant, action: 'certificate.revoke', object: { kind: 'certificate', name: after.serial }, details: { reason, application: after.application } }] : [],
      };
    });
    return issuedView(rec);
  }

  // --- keys and CSRs for the tenant's own domains (a public CA signs) ------------------------------

  /** Generates a key (kept sealed) and a CSR for `hosts`; a new request for the same name replaces the old one. */
  async requestCertificate(tenant: string, input: unknown): Promise<CertificateRequestView> {
    const spec = parseInput(CertificateRequestInputSchema, input, 'certificate request');
    const { csrPem, keyPem } = await createCsr({ keyType: spec.keyType, commonName: spec.hosts[0]!, sans: spec.hosts });
    const rec = await this.#write(async (tx) => {
      const r = await (await tx.tenant(tenant)).pki.putRequest({ name: spec.name, hosts: spec.hosts, keySealed: this.deps.secrets.seal(keyPem, requestAad(tenant, spec.name)), csrPem });
      return { result: r, audit: [{ tenant, action: 'certificate-request.create', object: { kind: 'certificate-request', name: spec.name }, after: { hosts: spec.hosts, keyType: spec.keyType } }] };
    }, false);
    return requestView(rec);
  }

  async listRequests(tenant: string): Promise<CertificateRequestView[]> {
    return (await (await this.deps.store.tenant(tenant)).pki.listRequests()).map(requestView);
  }

  async getRequest(tenant: string, name: string): Promise<CertificateRequestView> {
    return requestView(await this.#request(tenant, name));
  }

  async cancelRequest(tenant: string, name: string): Promise<void> {
    await this.#write(async (tx) => {
      if (!(await (await tx.tenant(tenant)).pki.deleteRequest(name))) throw gatewayError('NOT_FOUND', `Certificate request "${name}" not found`);
      return { result: undefined, audit: [{ tenant, action: 'certificate-request.delete', object: { kind: 'certificate-request', name } }] };
    }, false);
  }

  /**
   * Checks the chain a CA returned for a request: it matches the request's key, is complete and in
   * order, and is within validity, and its leaf names every requested host. Returns the certificate
   * spec to store (chain and clear key); throws VALIDATION with every problem otherwise.
   */
  async checkReturnedChain(tenant: string, name: string, input: unknown): Promise<{ name: string; cert: string; key: string }> {
    const { chain } = parseInput(ChainInstallInputSchema, input, 'certificate chain');
    const req = await this.#request(tenant, name);
    const key = this.deps.secrets.open(req.keySealed, requestAad(tenant, name));
    const problems = checkCertificateChain({ chainPem: chain, keyPem: key, now: new Date(this.#now()) });
    if (problems.length === 0) {
      const leaf = new X509Certificate(chain);
      for (const h of req.hosts) if (!leaf.checkHost(h)) problems.push(`the certificate does not name "${h}", which the request asked for`);
    }
    if (problems.length > 0) throw gatewayError('VALIDATION', `Cannot install this chain: ${problems[0]}`, problems.map((message) => ({ path: 'chain', message })));
    return { name, cert: chain, key };
  }

  /** Forgets a request once its chain is installed (the key now lives in the certificate). */
  async finishRequest(tenant: string, name: string): Promise<void> {
    await this.#write(async (tx) => {
      await (await tx.tenant(tenant)).pki.deleteRequest(name);
      return { result: undefined, audit: [{ tenant, action: 'certificate-request.install', object: { kind: 'certificate-request', name } }] };
    }, false);
  }

  async #request(tenant: string, name: string): Promise<CertificateRequestRecord> {
    const req = await (await this.deps.store.tenant(tenant)).pki.getRequest(name);
    if (!req) throw gatewayError('NOT_FOUND', `Certificate request "${name}" not found`);
    return req;
  }

  /** The name of an own CA referenced as `name` or `<tenant>/<name>`; NOT_FOUND for another tenant's. */
  #own(tenant: string, ref: string): string {
    const { tenant: owner, name } = parseCaRef(ref, tenant);
    if (owner !== tenant) throw gatewayError('NOT_FOUND', `Certificate authority "${ref}" not found`);
    return name;
  }

  /** An own CA or one shared with `tenant`; NOT_FOUND alike when absent or not shared. */
  async #ca(tenant: string, ref: string): Promise<CaRecord> {
    const ca = await (await this.deps.store.tenant(tenant)).pki.visibleCa(ref);
    if (!ca) throw gatewayError('NOT_FOUND', `Certificate authority "${ref}" not found`);
    return ca;
  }

  #write<T>(fn: (tx: StoreTx) => Promise<AuditedResult<T>>, reload = true): Promise<T> {
    return auditedWrite({ store: this.deps.store, link: this.deps.audit, context: this.context, onCommitted: reload ? this.deps.onCommitted : undefined }, fn);
  }

  #now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
