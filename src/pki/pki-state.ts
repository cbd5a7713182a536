/**
 * The PKI half of a config snapshot: for every built-in CA, its certificates, its freshly signed CRLs
 * (the issuing CA's, and the root's when the gateway holds the root key) and its revoked serials;
 * and the fingerprints of every revoked certificate, so that a keep-alive connection opened before a
 * revocation is refused on its next request. Built (asynchronously: signing) before the snapshot is
 * materialised; read-only afterwards.
 */

import type { SecretOpener } from '../snapshot/snapshot.js';
import type { CaRecord, RevokedEntry } from '../storage/store.js';
import { normaliseSerial } from '../storage/sql/pki.js';
import { buildCrl, parseRevocationReason, type BuiltCrl } from './crl.js';
import { caVisibleTo, parseCaRef } from './ca-ref.js';

/** How long a CRL is valid; snapshots are rebuilt well before (see SnapshotManager's maxAgeMs). */
export const CRL_VALIDITY_MS = 7 * 86_400_000;

export interface CaState {
  readonly tenant: string;
  readonly name: string;
  readonly certPem: string;
  readonly rootCertPem: string | null;
  /** Other tenants that may trust it. */
  readonly sharedWith: readonly string[];
  /** The issuing key, in clear (signs OCSP responses). Never logged. */
  readonly keyPem: string;
  readonly crl: BuiltCrl;
  readonly rootCrl: BuiltCrl | undefined;
  /** Normalised serial → revocation. */
  readonly revoked: ReadonlyMap<string, { revokedAt: Date; reason: string }>;
}

export interface PkiTrust {
  /** PEM bundle of the CAs' certificates (issuing and roots). */
  readonly cas: string;
  /** PEM CRLs for every CA in those chains. */
  readonly crls: string[];
}

export class PkiState {
  readonly #cas = new Map<string, CaState>();
  readonly revokedFingerprints: ReadonlySet<string>;

  constructor(cas: readonly CaState[], revokedFingerprints: ReadonlySet<string>) {
    for (const c of cas) this.#cas.set(`${c.tenant}/${c.name}`, c);
    this.revokedFingerprints = revokedFingerprints;
  }

  ca(tenant: string, name: string): CaState | undefined {
    return this.#cas.get(`${tenant}/${name}`);
  }

  /**
   * What a domain of `tenant` trusting these CAs (references: `name` or `owner/name`) loads into its
   * context. CAs that are unknown or not shared with `tenant` are left out: their certificates are
   * refused (planning reports them).
   */
  trustFor(tenant: string, refs: readonly string[]): PkiTrust {
    const cas: string[] = [];
    const crls: string[] = [];
    for (const r of refs) {
      const ref = parseCaRef(r, tenant);
      const c = this.ca(ref.tenant, ref.name);
      if (!c || !caVisibleTo(c.tenant, c.sharedWith, tenant)) continue;
      cas.push(c.certPem.trimEnd());
      crls.push(c.crl.pem.trimEnd());
      if (c.rootCertPem) cas.push(c.rootCertPem.trimEnd());
      if (c.rootCrl) crls.push(c.rootCrl.pem.trimEnd());
    }
    return { cas: cas.length > 0 ? `${cas.join('\n')}\n` : '', crls };
  }
}

/** CRL numbers only grow: seconds since the epoch at signing time (every node, every rebuild). */
function crlNumber(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

function keyAad(tenant: string, ca: string, which: 'issuing' | 'root'): string {
  return `ca:${tenant}:${ca}:${which}-key`;
}

/** CRLs are re-signed at least this often even when nothing changed (they are valid 7 days). */
const RESIGN_AFTER_MS = 86_400_000;

interface SignedCrls {
  /** The CA (id and certificate) and its revoked serials the CRLs were signed for. */
  readonly key: string;
  readonly signedAt: number;
  readonly crl: BuiltCrl;
  readonly rootCrl: BuiltCrl | undefined;
}

/**
 * CRLs signed by earlier builds, by CA id: a rebuild re-signs only the CAs whose revocations changed
 * (or whose CRLs are a day old), so a config change costs no signatures for unaffected CAs. One per
 * snapshot manager.
 */
export class CrlCache {
  readonly #entries = new Map<string, SignedCrls>();

  get(id: string, key: string, now: number): SignedCrls | undefined {
    const e = this.#entries.get(id);
    return e && e.key === key && now - e.signedAt < RESIGN_AFTER_MS ? e : undefined;
  }

  set(id: string, value: SignedCrls): void {
    this.#entries.set(id, value);
  }

  /** Forgets CAs not in `ids` (deleted). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#entries.keys()) if (!ids.has(id)) this.#entries.delete(id);
  }
}

/** Opens the CAs' keys and signs their CRLs at `now` (reusing `cache`'s when still right). */
export async function buildPkiState(
  input: { cas: readonly CaRecord[]; revoked: readonly RevokedEntry[] },
  secrets: SecretOpener,
  now: Date = new Date(),
  cache: CrlCache = new CrlCache(),
): Promise<PkiState> {
  const byCa = new Map<string, RevokedEntry[]>();
  for (const r of input.revoked) {
    const k = `${r.tenant}/${r.ca}`;
    const list = byCa.get(k) ?? [];
    list.push(r);
    byCa.set(k, list);
  }
  const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
  const states: CaState[] = [];
  for (const ca of input.cas) {
    const keyPem = secrets.open(ca.keySealed, keyAad(ca.tenant, ca.name, 'issuing'));
    const entries = byCa.get(`${ca.tenant}/${ca.name}`) ?? [];
    const revoked = new Map(entries.map((e) => [normaliseSerial(e.serial), { revokedAt: new Date(e.revokedAt), reason: e.reason }] as const));
    const cacheKey = JSON.stringify([ca.certPem, ca.rootCertPem, entries.map((e) => [e.serial, e.revokedAt, e.reason])]);
    let signed = cache.get(ca.id, cacheKey, now.getTime());
    if (!signed) {
      const crl = await buildCrl({
        issuer: { certPem: ca.certPem, keyPem },
        crlNumber: crlNumber(now),
        thisUpdate: now,
        nextUpdate,
        revoked: entries.map((e) => ({ serialNumber: e.serial, revokedAt: new Date(e.revokedAt), reason: parseRevocationReason(e.reason) ?? 'unspecified' })),
      });
      let rootCrl: BuiltCrl | undefined;
      if (ca.rootCertPem && ca.rootKeySealed) {
        const rootKey = secrets.open(ca.rootKeySealed, keyAad(ca.tenant, ca.name, 'root'));
        rootCrl = await buildCrl({ issuer: { certPem: ca.rootCertPem, keyPem: rootKey }, crlNumber: crlNumber(now), thisUpdate: now, nextUpdate, revoked: [] });
      }
      signed = { key: cacheKey, signedAt: now.getTime(), crl, rootCrl };
      cache.set(ca.id, signed);
    }
    states.push({ tenant: ca.tenant, name: ca.name, certPem: ca.certPem, rootCertPem: ca.rootCertPem, sharedWith: ca.settings.sharedWith ?? [], keyPem, crl: signed.crl, rootCrl: signed.rootCrl, revoked });
  }
  cache.retain(new Set(input.cas.map((c) => c.id)));
  return new PkiState(states, new Set(input.revoked.map((r) => r.fingerprint)));
}
