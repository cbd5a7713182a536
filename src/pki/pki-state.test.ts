import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CaRecord, RevokedEntry } from '../storage/store.js';
import { createCaHierarchy } from './ca-hierarchy.js';
import { buildPkiState, CrlCache } from './pki-state.js';

const plain = { open: (sealed: string) => sealed };

describe('buildPkiState', () => {
  it('re-signs a CA\'s CRLs only when its revocations change (or after a day)', async () => {
    const h = await createCaHierarchy({ commonName: 'cache test' });
    const ca: CaRecord = {
      id: 'ca-1',
      tenant: 't',
      name: 'c',
      settings: { source: 'generated', keyType: 'ec-p256', trustDomain: 'x.test', clientLifetimeDays: 90, serverLifetimeDays: 90 },
      certPem: h.intermediate.certPem,
      keySealed: h.intermediate.keyPem,
      rootCertPem: h.root.certPem,
      rootKeySealed: h.root.keyPem,
      createdAt: new Date().toISOString(),
    };
    const cache = new CrlCache();
    const now = new Date();
    const a = await buildPkiState({ cas: [ca], revoked: [] }, plain, now, cache);
    const b = await buildPkiState({ cas: [ca], revoked: [] }, plain, new Date(now.getTime() + 60_000), cache);
    assert.equal(b.ca('t', 'c')!.crl, a.ca('t', 'c')!.crl, 'unchanged: the same signed CRL');
    const revoked: RevokedEntry = { tenant: 't', ca: 'c', serial: '0A1B', fingerprint: 'f'.repeat(64), revokedAt: now.toISOString(), reason: 'keyCompromise' };
    const c = await buildPkiState({ cas: [ca], revoked: [revoked] }, plain, new Date(now.getTime() + 120_000), cache);
    assert.notEqual(c.ca('t', 'c')!.crl, a.ca('t', 'c')!.crl, 'a revocation re-signs');
    assert.ok(c.ca('t', 'c')!.revoked.has('0A1B'));
    assert.ok(c.revokedFingerprints.has('f'.repeat(64)));
    const d = await buildPkiState({ cas: [ca], revoked: [revoked] }, plain, new Date(now.getTime() + 120_000 + 86_400_000), cache);
    assert.notEqual(d.ca('t', 'c')!.crl, c.ca('t', 'c')!.crl, 'a day later: re-signed');
  });
});
