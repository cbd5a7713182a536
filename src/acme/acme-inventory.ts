import { X509Certificate } from 'node:crypto';
import type { InventoryEntry } from '../pki/expiry/certificate-inventory.js';
import type { AcmeCertificateRecord } from '../storage/acme-records.js';

/**
 * The inventory entry an ACME renewal failure is reported about: the certificate in use when there
 * is one, else a placeholder naming the domain and its hosts (nothing was ever obtained).
 */
export function acmeInventoryEntry(tenant: string, domain: string, hosts: readonly string[], current: AcmeCertificateRecord | undefined): InventoryEntry {
  if (current) {
    const leaf = new X509Certificate(current.certPem);
    return {
      tenant,
      kind: 'served',
      source: 'acme',
      name: domain,
      subject: leaf.subject.replace(/\n/g, ', '),
      sans: [...current.hosts],
      issuer: leaf.issuer.replace(/\n/g, ', '),
      notAfter: current.notAfter,
      daysLeft: Math.floor((Date.parse(current.notAfter) - Date.now()) / 86_400_000),
      fingerprint: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
      renewal: 'automatic',
    };
  }
  return { tenant, kind: 'served', source: 'acme', name: domain, subject: '', sans: [...hosts], issuer: '', notAfter: '', daysLeft: 0, fingerprint: '', renewal: 'automatic' };
}
