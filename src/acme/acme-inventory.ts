import { X509Certificate } from 'node:crypto';
import { describeCertificate, type InventoryEntry } from '../pki/expiry/certificate-inventory.js';
import type { AcmeCertificateRecord } from '../storage/acme-records.js';

/**
 * The inventory entry an ACME renewal failure is reported about: the certificate in use when there
 * is one, else a placeholder naming the domain and its hosts (nothing was ever obtained).
 */
export function acmeInventoryEntry(tenant: string, domain: string, hosts: readonly string[], current: AcmeCertificateRecord | undefined): InventoryEntry {
  const base = { tenant, kind: 'served' as const, source: 'acme' as const, name: domain, renewal: 'automatic' as const };
  if (current) return { ...base, ...describeCertificate(new X509Certificate(current.certPem), Date.now()) };
  return { ...base, subject: '', sans: [...hosts], issuer: '', notAfter: '', daysLeft: 0, fingerprint: '' };
}
