/**
 * The certificate inventory: every certificate the gateway serves, trusts or issued, with its expiry.
 *
 * - served: the listeners' own certificate (tenant null) and every tenant `certificate` object a
 *   domain uses (the leaf of its chain);
 * - trusted: each built-in CA's issuing certificate and root, each certificate of a domain's inline
 *   `clientAuth.trustedCas`, and of the listener's `https.clientAuth.caFile`;
 * - issued: certificates the built-in CAs issued, not revoked, until {@link ISSUED_EXPIRED_RETENTION_DAYS}
 *   after they expired (`cert list` keeps showing them all).
 *
 * {@link buildInventory} is pure: it reads what it is given and a clock. The readers fetch that input
 * from a store (everything) or from one tenant's scope (which, for a tenant-bound store, is all a
 * tenant's administrator can reach).
 */

import { parseCaRef } from '../ca-ref.js';
import { X509Certificate } from 'node:crypto';
import { Errors, GatewayError } from '../../core/errors.js';
import type { AcmeCertificateRecord, CaRecord, ConfigRecord, IssuedCertificateRecord, Store, TenantScopeReader } from '../../storage/store.js';
import { splitPemCertificates } from '../pem.js';

export const INVENTORY_KINDS = ['served', 'trusted', 'issued'] as const;
export type InventoryKind = (typeof INVENTORY_KINDS)[number];
/** Where a certificate came from. `acme` is reserved for certificates the gateway will obtain itself. */
export type InventorySource = 'uploaded' | 'issued' | 'generated' | 'imported' | 'listener' | 'acme';
/** Who renews it: an operator (`manual`), the gateway (`automatic`, ACME), or nobody (`none`: issued certificates). */
export type RenewalState = 'manual' | 'automatic' | 'none';

export interface InventoryEntry {
  /** Owning tenant; null for the gateway's own certificates. */
  readonly tenant: string | null;
  readonly kind: InventoryKind;
  readonly source: InventorySource;
  /**
   * Unique per tenant and kind: the certificate object's name, the CA's name (`<ca>/root` for its
   * root), `<domain>/client-ca-<n>` for a domain's inline trust, the serial of an issued certificate,
   * `listener` and `listener/client-ca-<n>` for the listeners'.
   */
  readonly name: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly issuer: string;
  /** ISO-8601. */
  readonly notAfter: string;
  /** Whole days until notAfter at build time, rounded down (negative once expired). */
  readonly daysLeft: number;
  /** SHA-256 of the DER certificate, lower-case hex. */
  readonly fingerprint: string;
  readonly renewal: RenewalState;
}

/** The gateway's own certificates. */
export interface ListenerCertificates {
  /** The listeners' chain, PEM (its leaf is listed). */
  readonly certPem: string;
  /** The bundle of `https.clientAuth.caFile`, when client certificates are on. */
  readonly trustedCas?: string | undefined;
}

export interface InventoryInput {
  readonly listener?: ListenerCertificates | undefined;
  /** Config objects; only `certificate` and `domain` ones are read. */
  readonly objects: ReadonlyArray<Pick<ConfigRecord, 'tenant' | 'kind' | 'name' | 'spec'>>;
  readonly cas: readonly CaRecord[];
  /**
   * In one tenant's inventory: the CAs other tenants share with it, listed as its trusted CAs under
   * `<owner>/<name>` (the whole inventory lists them once, under their owner, in `cas`).
   */
  readonly sharedCas?: { readonly tenant: string; readonly cas: readonly CaRecord[] } | undefined;
  /** Issued certificates; revoked ones are skipped. */
  readonly issued: readonly IssuedCertificateRecord[];
  /** Certificates obtained by ACME for domains (served, renewed by the gateway). */
  readonly acme?: readonly AcmeCertificateRecord[] | undefined;
}

const DAY = 86_400_000;
/** Expired issued certificates leave the inventory (and the metrics) this long after expiry. */
export const ISSUED_EXPIRED_RETENTION_DAYS = 30;

const SAN_RE = /(DNS|URI|email|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;

/** The values of Node's `subjectAltName` text ("DNS:a, IP Address:10.0.0.1, URI:spiffe://…"). */
function sanValues(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(SAN_RE)].map((m) => (m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!));
}

function dn(text: string): string {
  return text.replace(/\n/g, ', ');
}

type Described = Omit<InventoryEntry, 'tenant' | 'kind' | 'source' | 'name' | 'renewal'>;

/** The facts of a certificate every inventory entry shows, at `now`. */
export function describeCertificate(cert: X509Certificate, now: number): Described {
  const notAfter = new Date(cert.validTo).getTime();
  return {
    subject: dn(cert.subject),
    sans: sanValues(cert.subjectAltName),
    issuer: dn(cert.issuer),
    notAfter: new Date(notAfter).toISOString(),
    daysLeft: Math.floor((notAfter - now) / DAY),
    fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** The first certificate of a PEM chain, or undefined when there is none that parses. */
function leafOf(pem: unknown): X509Certificate | undefined {
  if (typeof pem !== 'string') return undefined;
  const first = splitPemCertificates(pem)[0];
  try {
    return first ? new X509Certificate(first) : undefined;
  } catch {
    return undefined;
  }
}

function bundleOf(pem: unknown): X509Certificate[] {
  if (typeof pem !== 'string') return [];
  return splitPemCertificates(pem).flatMap((p) => {
    try {
      return [new X509Certificate(p)];
    } catch {
      return [];
    }
  });
}

/** Soonest expiry first; ties by tenant (platform first), kind and name. */
function byExpiry(a: InventoryEntry, b: InventoryEntry): number {
  if (a.notAfter !== b.notAfter) return a.notAfter < b.notAfter ? -1 : 1;
  const ka = `${a.tenant ?? ''}\0${a.kind}\0${a.name}`;
  const kb = `${b.tenant ?? ''}\0${b.kind}\0${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The inventory of `input` at `now`, soonest expiry first. Certificates that do not parse (never the
 * case for validated config) are left out rather than failing the whole inventory.
 */
export function buildInventory(input: InventoryInput, now: Date): InventoryEntry[] {
  const t = now.getTime();
  const out: InventoryEntry[] = [];
  const add = (tenant: string | null, kind: InventoryKind, source: InventorySource, name: string, renewal: RenewalState, cert: X509Certificate | undefined) => {
    if (cert) out.push({ tenant, kind, source, name, renewal, ...describeCertificate(cert, t) });
  };

  if (input.listener) {
    add(null, 'served', 'listener', 'listener', 'manual', leafOf(input.listener.certPem));
    bundleOf(input.listener.trustedCas).forEach((c, i) => add(null, 'trusted', 'listener', `listener/client-ca-${i + 1}`, 'manual', c));
  }

  const certificates = new Map<string, unknown>();
  for (const o of input.objects) if (o.kind === 'certificate') certificates.set(`${o.tenant}/${o.name}`, o.spec.cert);
  const served = new Set<string>();
  for (const o of input.objects) {
    if (o.kind !== 'domain') continue;
    const certName = o.spec.certificate;
    const key = `${o.tenant}/${String(certName)}`;
    if (typeof certName === 'string' && certificates.has(key) && !served.has(key)) {
      served.add(key);
      add(o.tenant, 'served', 'uploaded', certName, 'manual', leafOf(certificates.get(key)));
    }
    const clientAuth = o.spec.clientAuth as { trustedCas?: unknown } | undefined;
    bundleOf(clientAuth?.trustedCas).forEach((c, i) => add(o.tenant, 'trusted', 'uploaded', `${o.name}/client-ca-${i + 1}`, 'manual', c));
  }

  for (const c of input.acme ?? []) add(c.tenant, 'served', 'acme', c.domain, 'automatic', leafOf(c.certPem));

  const caIssuers = new Map<string, string>();
  const addCa = (ca: CaRecord, tenant: string, name: string) => {
    const issuing = leafOf(ca.certPem);
    if (issuing) caIssuers.set(`${ca.tenant}/${ca.name}`, dn(issuing.subject));
    add(tenant, 'trusted', ca.settings.source, name, 'manual', issuing);
    if (ca.rootCertPem) add(tenant, 'trusted', ca.settings.source, `${name}/root`, 'manual', leafOf(ca.rootCertPem));
  };
  for (const ca of input.cas) addCa(ca, ca.tenant, ca.name);
  for (const ca of input.sharedCas?.cas ?? []) addCa(ca, input.sharedCas!.tenant, `${ca.tenant}/${ca.name}`);

  const retainedAfter = t - ISSUED_EXPIRED_RETENTION_DAYS * DAY;
  for (const c of input.issued) {
    const notAfter = Date.parse(c.notAfter);
    if (c.revokedAt !== null || notAfter < retainedAfter) continue;
    const ca = parseCaRef(c.ca, c.tenant);
    const issuer = caIssuers.get(`${ca.tenant}/${ca.name}`) ?? dn(leafOf(c.certPem)?.issuer ?? '');
    out.push({
      tenant: c.tenant,
      kind: 'issued',
      source: 'issued',
      name: c.serial,
      subject: c.subject,
      sans: c.sans,
      issuer,
      notAfter: new Date(notAfter).toISOString(),
      daysLeft: Math.floor((notAfter - t) / DAY),
      fingerprint: c.fingerprint,
      renewal: 'none',
    });
  }
  return out.sort(byExpiry);
}

export interface InventoryFilter {
  /** Only certificates whose notAfter is within this long from now (expired ones included), ms. */
  readonly expiringWithinMs?: number | undefined;
  readonly kind?: InventoryKind | undefined;
}

/** The entries matching `filter` at `now`. */
export function filterInventory(entries: readonly InventoryEntry[], filter: InventoryFilter, now: Date): InventoryEntry[] {
  const before = filter.expiringWithinMs === undefined ? undefined : now.getTime() + filter.expiringWithinMs;
  return entries.filter((e) => (filter.kind === undefined || e.kind === filter.kind) && (before === undefined || Date.parse(e.notAfter) <= before));
}

/** What one tenant's inventory is built from, read through its scope. */
export async function readTenantInventoryInput(scope: TenantScopeReader, acme: readonly AcmeCertificateRecord[] = []): Promise<InventoryInput> {
  const [certificates, domains, cas, shared, issued] = await Promise.all([scope.listAll('certificate'), scope.listAll('domain'), scope.pki.listCas(), scope.pki.listSharedCas(), scope.pki.listIssued()]);
  return { objects: [...certificates, ...domains], cas, sharedCas: { tenant: scope.tenant, cas: shared }, issued, acme: acme.filter((c) => c.tenant === scope.tenant) };
}

/** What the whole inventory is built from: every tenant's objects, CAs and issued certificates. */
export async function readInventoryInput(store: Pick<Store, 'loadAll' | 'tenant'>, listener?: ListenerCertificates): Promise<InventoryInput> {
  const dump = await store.loadAll();
  const issued: IssuedCertificateRecord[] = [];
  for (const t of dump.tenants) {
    try {
      issued.push(...(await (await store.tenant(t.name)).pki.listIssued()));
    } catch (err) {
      // Deleted since the dump was read: it has nothing left to list.
      if (!(err instanceof GatewayError && err.code === Errors.NOT_FOUND.code)) throw err;
    }
  }
  return { listener, objects: dump.objects, cas: dump.pki.cas, issued, acme: dump.acme };
}

/** Fresh inventories for the admin API (read on every call, never cached). */
export interface InventoryReader {
  /** One tenant's certificates, read through its scope (a tenant-bound store's for tenant principals). */
  tenant(scope: TenantScopeReader, acme?: readonly AcmeCertificateRecord[]): Promise<InventoryEntry[]>;
  /** Every tenant's certificates and the gateway's own. */
  all(store: Pick<Store, 'loadAll' | 'tenant'>): Promise<InventoryEntry[]>;
  /** The clock the entries were built with, ms. */
  now(): number;
}

export function inventoryReader(opts: { listener?: ListenerCertificates | undefined; now?: (() => number) | undefined } = {}): InventoryReader {
  const now = opts.now ?? Date.now;
  return {
    tenant: async (scope, acme) => buildInventory(await readTenantInventoryInput(scope, acme), new Date(now())),
    all: async (store) => buildInventory(await readInventoryInput(store, opts.listener), new Date(now())),
    now,
  };
}
