import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { CaRecord, ConfigRecord, IssuedCertificateRecord } from '../../storage/store.js';
import { createRootCa, issueCertificate, type RootCa } from '../issue-certificate.js';
import { buildInventory, filterInventory, ISSUED_EXPIRED_RETENTION_DAYS, readTenantInventoryInput, type InventoryInput } from './certificate-inventory.js';

const DAY = 86_400_000;
/** A fixed clock: certificates are made relative to it, the inventory is built at it. */
const NOW = Date.UTC(2030, 0, 15, 12);

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

function object(tenant: string, kind: ConfigRecord['kind'], name: string, spec: Record<string, unknown>): ConfigRecord {
  return { id: `${tenant}-${kind}-${name}`, tenant, kind, name, spec, version: 1, createdAt: '', updatedAt: '' };
}

function issued(tenant: string, ca: string, serial: string, notAfterMs: number, extra: Partial<IssuedCertificateRecord> = {}): IssuedCertificateRecord {
  return {
    id: serial,
    tenant,
    ca,
    serial,
    usage: 'client',
    subject: `CN=${serial}`,
    sans: [`spiffe://example.org/tenant/${tenant}/app/x`],
    application: 'x',
    fingerprint: serial.toLowerCase().padEnd(64, '0'),
    notBefore: new Date(NOW - DAY).toISOString(),
    notAfter: new Date(notAfterMs).toISOString(),
    certPem: '',
    revokedAt: null,
    revocationReason: null,
    createdAt: '',
    ...extra,
  };
}

describe('certificate inventory', () => {
  let root: RootCa;
  let servedPem: string;
  let unusedPem: string;
  let listenerPem: string;
  let clientCa: RootCa;
  let input: InventoryInput;

  before(async () => {
    root = await createRootCa({ commonName: 'Inventory Root', organization: 'tests', notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + 3650 * DAY) });
    const issuing = await issueCertificate({ issuer: root, subjectCN: 'unused', sans: ['unused.test'], usage: 'server', notAfter: new Date(NOW + 5 * DAY), notBefore: new Date(NOW - DAY) });
    unusedPem = issuing.certPem;
    const served = await issueCertificate({ issuer: root, subjectCN: 'api.test', sans: ['api.test', '10.0.0.1'], usage: 'server', notAfter: new Date(NOW + 10 * DAY + 3_600_000), notBefore: new Date(NOW - DAY) });
    servedPem = served.certPem;
    listenerPem = (await issueCertificate({ issuer: root, subjectCN: 'localhost', sans: ['localhost'], usage: 'server', notAfter: new Date(NOW + 397 * DAY), notBefore: new Date(NOW - DAY) })).certPem;
    clientCa = await createRootCa({ commonName: 'Partner CA', notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + 20 * DAY) });
    const ca: CaRecord = {
      id: 'ca1',
      tenant: 'acme',
      name: 'clients',
      settings: { source: 'generated', keyType: 'ec-p256', trustDomain: 'example.org', clientLifetimeDays: 90, serverLifetimeDays: 90 },
      certPem: clientCa.certPem,
      keySealed: 'sealed',
      rootCertPem: root.certPem,
      rootKeySealed: 'sealed',
      createdAt: '',
    };
    input = {
      listener: { certPem: `${listenerPem}${root.certPem}`, trustedCas: root.certPem },
      objects: [
        object('acme', 'certificate', 'api', { name: 'api', cert: `${servedPem}${root.certPem}`, key: 'pcenc:sealed' }),
        object('acme', 'certificate', 'unused', { name: 'unused', cert: unusedPem, key: 'pcenc:sealed' }),
        object('acme', 'domain', 'api', { name: 'api', hosts: ['api.test'], certificate: 'api', clientAuth: { mode: 'required', trustedCas: clientCa.certPem, authorities: ['clients'], depth: 3 } }),
        object('acme', 'domain', 'api2', { name: 'api2', hosts: ['www.api.test'], certificate: 'api', clientAuth: { mode: 'off', authorities: [], depth: 3 } }),
        object('acme', 'service', 'svc', { name: 'svc' }),
      ],
      cas: [ca],
      issued: [
        issued('acme', 'clients', 'AA01', NOW + 1 * DAY - 60_000),
        issued('acme', 'clients', 'AA02', NOW + 60 * DAY, { revokedAt: new Date(NOW).toISOString(), revocationReason: 'superseded' }),
        issued('acme', 'clients', 'AA03', NOW - 2 * DAY),
        issued('acme', 'clients', 'AA04', NOW - (ISSUED_EXPIRED_RETENTION_DAYS + 1) * DAY),
      ],
    };
  });

  it('lists what is served, trusted and issued, soonest expiry first', () => {
    const entries = buildInventory(input, new Date(NOW));
    const ids = entries.map((e) => `${e.tenant ?? '-'} ${e.kind} ${e.source} ${e.name} ${e.daysLeft} ${e.renewal}`);
    assert.deepEqual(ids, [
      'acme issued issued AA03 -2 none',
      'acme issued issued AA01 0 none',
      'acme served uploaded api 10 manual',
      'acme trusted uploaded api/client-ca-1 20 manual',
      'acme trusted generated clients 20 manual',
      '- served listener listener 397 manual',
      '- trusted listener listener/client-ca-1 3650 manual',
      'acme trusted generated clients/root 3650 manual',
    ]);
  });

  it('describes each certificate: subject, SANs, issuer, notAfter, fingerprint', () => {
    const entries = buildInventory(input, new Date(NOW));
    const api = entries.find((e) => e.name === 'api')!;
    assert.equal(api.subject, 'CN=api.test');
    assert.deepEqual(api.sans, ['api.test', '10.0.0.1']);
    assert.equal(api.issuer, 'O=tests, CN=Inventory Root');
    assert.equal(api.fingerprint, fingerprint(servedPem), 'the leaf of the chain');
    assert.equal(api.notAfter, new Date(Math.floor((NOW + 10 * DAY + 3_600_000) / 1000) * 1000).toISOString());
    const issuedEntry = entries.find((e) => e.name === 'AA01')!;
    assert.equal(issuedEntry.issuer, 'CN=Partner CA', "the issuing CA's subject");
    assert.deepEqual(issuedEntry.sans, ['spiffe://example.org/tenant/acme/app/x']);
    const listener = entries.find((e) => e.name === 'listener')!;
    assert.equal(listener.tenant, null);
    assert.equal(listener.fingerprint, fingerprint(listenerPem));
  });

  it('leaves out unused certificate objects, revoked and long-expired issued certificates', () => {
    const names = buildInventory(input, new Date(NOW)).map((e) => e.name);
    assert.ok(!names.includes('unused'));
    assert.ok(!names.includes('AA02'), 'revoked');
    assert.ok(!names.includes('AA04'), `expired more than ${ISSUED_EXPIRED_RETENTION_DAYS} days ago`);
    assert.equal(names.filter((n) => n === 'api').length, 1, 'one entry for a certificate two domains use');
  });

  it('skips certificates that do not parse instead of failing', () => {
    const broken: InventoryInput = { objects: [object('t', 'certificate', 'c', { cert: 'garbage' }), object('t', 'domain', 'd', { certificate: 'c', clientAuth: { trustedCas: 42 } })], cas: [], issued: [] };
    assert.deepEqual(buildInventory(broken, new Date(NOW)), []);
  });

  it('filters by kind and by how soon certificates expire (expired ones included)', () => {
    const entries = buildInventory(input, new Date(NOW));
    const soon = filterInventory(entries, { expiringWithinMs: 14 * DAY }, new Date(NOW)).map((e) => e.name);
    assert.deepEqual(soon, ['AA03', 'AA01', 'api']);
    assert.deepEqual(filterInventory(entries, { kind: 'trusted', expiringWithinMs: 30 * DAY }, new Date(NOW)).map((e) => e.name), ['api/client-ca-1', 'clients']);
    assert.equal(filterInventory(entries, {}, new Date(NOW)).length, entries.length);
  });

  it("lists a CA another tenant shares as the tenant's trusted CA owner/name; its certificates name the owner's CA as issuer", () => {
    const ca = input.cas[0]!;
    const mine = { ...issued('retail', 'acme/clients', 'BB01', NOW + 5 * DAY), certPem: '' };
    const entries = buildInventory({ objects: [], cas: [], sharedCas: { tenant: 'retail', cas: [ca] }, issued: [mine] }, new Date(NOW));
    assert.deepEqual(entries.map((e) => `${e.tenant} ${e.kind} ${e.name}`), ['retail issued BB01', 'retail trusted acme/clients', 'retail trusted acme/clients/root']);
    assert.equal(entries[0]!.issuer, 'CN=Partner CA');
  });

  it('reads one tenant through its scope', async () => {
    const scope = {
      tenant: 'acme',
      listAll: async (kind: string) => input.objects.filter((o) => o.kind === kind) as ConfigRecord[],
      pki: { listCas: async () => input.cas, listSharedCas: async () => [], listIssued: async () => input.issued },
    };
    const read = await readTenantInventoryInput(scope as never);
    assert.equal(read.listener, undefined);
    assert.deepEqual(read.objects.map((o) => `${o.kind}/${o.name}`), ['certificate/api', 'certificate/unused', 'domain/api', 'domain/api2']);
    assert.equal(buildInventory(read, new Date(NOW)).filter((e) => e.tenant === null).length, 0);
  });
});
