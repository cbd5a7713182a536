/**
 * Conformance: the built-in PKI's storage (`TenantScope.pki`): CAs per tenant, CAs shared with other
 * tenants (`settings.sharedWith`), the certificates they issue and revoke, the revocations the data
 * plane loads, and pending certificate requests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { CaSettings, NewIssuedCertificate, TenantPki } from '../store.js';
import { assertIso, rejectsWith, type ConformanceContext } from './context.conformance.js';

const SETTINGS: CaSettings = { source: 'generated', keyType: 'ec-p256', trustDomain: 'example.test', clientLifetimeDays: 90, serverLifetimeDays: 30 };

/** Storage does not parse certificates: any text stands for one. */
function newCa(pki: TenantPki, name: string, sharedWith?: string[]) {
  return pki.createCa({ name, settings: { ...SETTINGS, ...(sharedWith ? { sharedWith } : {}) }, certPem: `cert of ${name}`, keySealed: `sealed key of ${name}`, rootCertPem: `root of ${name}`, rootKeySealed: 'sealed root key' });
}

function issued(ca: string, application: string, days = 30): NewIssuedCertificate {
  return {
    ca,
    serial: randomBytes(16).toString('hex'),
    usage: 'client',
    subject: `CN=${application}`,
    sans: [`spiffe://example.test/app/${application}`],
    application,
    fingerprint: randomBytes(32).toString('hex'),
    notBefore: new Date().toISOString(),
    notAfter: new Date(Date.now() + days * 86_400_000).toISOString(),
    certPem: 'leaf',
  };
}

export function pkiConformance(ctx: ConformanceContext): void {
  describe('pki', () => {
    it('keeps CAs per tenant: create is a config write, names are unique within a tenant only', async () => {
      const [a, b] = [await ctx.newTenant('pki-a'), await ctx.newTenant('pki-b')];
      const rev = await ctx.store.revision();
      const ca = await ctx.inTenant(a, (s) => newCa(s.pki, 'clients'));
      assert.equal(await ctx.store.revision(), rev + 1);
      assert.deepEqual({ ...ca, id: '', createdAt: '' }, { id: '', tenant: a, name: 'clients', settings: SETTINGS, certPem: 'cert of clients', keySealed: 'sealed key of clients', rootCertPem: 'root of clients', rootKeySealed: 'sealed root key', createdAt: '' });
      assertIso(ca.createdAt);
      await rejectsWith(ctx.inTenant(a, (s) => newCa(s.pki, 'clients')), 'CONFLICT');
      await ctx.inTenant(b, (s) => newCa(s.pki, 'clients'));
      const [ra, rb] = [await ctx.store.tenant(a), await ctx.store.tenant(b)];
      assert.deepEqual(await ra.pki.getCa('clients'), ca);
      assert.deepEqual((await ra.pki.listCas()).map((c) => c.tenant), [a]);
      assert.notEqual((await rb.pki.getCa('clients'))?.id, ca.id);
      assert.equal(await ra.pki.getCa('absent'), undefined);
    });

    it('shares a CA with chosen tenants only; the owner can stop at any time', async () => {
      const [owner, user, bystander] = [await ctx.newTenant('own'), await ctx.newTenant('use'), await ctx.newTenant('by')];
      await rejectsWith(ctx.inTenant(owner, (s) => newCa(s.pki, 'platform', [user, ctx.unique('nobody')])), 'VALIDATION');
      const shared = await ctx.inTenant(owner, (s) => newCa(s.pki, 'platform', [user]));
      await ctx.inTenant(owner, (s) => newCa(s.pki, 'private'));
      const [ro, ru, rb] = [await ctx.store.tenant(owner), await ctx.store.tenant(user), await ctx.store.tenant(bystander)];
      assert.deepEqual(await ru.pki.listSharedCas(), [shared]);
      assert.deepEqual(await ru.pki.listCas(), [], 'shared CAs are not the tenant\'s own');
      assert.deepEqual(await ru.pki.visibleCa(`${owner}/platform`), shared);
      assert.equal(await ru.pki.visibleCa(`${owner}/private`), undefined);
      assert.equal(await ru.pki.visibleCa(`${owner}/absent`), undefined);
      assert.equal(await ru.pki.visibleCa(`${ctx.unique('absent')}/platform`), undefined);
      assert.equal(await ru.pki.visibleCa('platform'), undefined, 'a bare name is an own CA');
      assert.deepEqual([await rb.pki.listSharedCas(), await rb.pki.visibleCa(`${owner}/platform`)], [[], undefined]);
      assert.deepEqual(await ro.pki.visibleCa('private'), (await ro.pki.getCa('private'))!, 'own CAs are always visible');
      assert.deepEqual(await ro.pki.visibleCa(`${owner}/private`), await ro.pki.getCa('private'));
      assert.deepEqual(await ro.pki.listSharedCas(), []);

      const rev = await ctx.store.revision();
      const moved = await ctx.inTenant(owner, (s) => s.pki.updateCaSettings('platform', { ...shared.settings, sharedWith: [bystander] }));
      assert.equal(await ctx.store.revision(), rev + 1, 'changing who may trust a CA is a config write');
      assert.deepEqual(moved?.settings.sharedWith, [bystander]);
      assert.equal(moved?.certPem, shared.certPem);
      assert.equal(await ru.pki.visibleCa(`${owner}/platform`), undefined, 'unsharing hides it');
      assert.deepEqual(await ru.pki.listSharedCas(), []);
      assert.equal((await rb.pki.visibleCa(`${owner}/platform`))?.id, shared.id);
      await rejectsWith(ctx.inTenant(owner, (s) => s.pki.updateCaSettings('platform', { ...SETTINGS, sharedWith: [ctx.unique('later')] })), 'VALIDATION');
      assert.equal(await ctx.inTenant(user, (s) => s.pki.updateCaSettings('platform', SETTINGS)), undefined, 'only the owner changes a CA');
      assert.equal(await ctx.inTenant(owner, (s) => s.pki.updateCaSettings('absent', SETTINGS)), undefined);
    });

    it('records certificates a shared CA issues under the tenant that asked; revocations reach the CA owner\'s CRL', async () => {
      const [owner, user, bystander] = [await ctx.newTenant('own'), await ctx.newTenant('use'), await ctx.newTenant('by')];
      await ctx.inTenant(owner, (s) => newCa(s.pki, 'platform', [user]));
      const rev = await ctx.store.revision();
      const mine = await ctx.inTenant(owner, (s) => s.pki.recordIssued(issued('platform', 'internal')));
      const theirs = await ctx.inTenant(user, (s) => s.pki.recordIssued(issued(`${owner}/platform`, 'billing', 10)));
      assert.equal(await ctx.store.revision(), rev, 'issuing is not a config write');
      assert.deepEqual([mine.tenant, mine.ca, theirs.tenant, theirs.ca], [owner, 'platform', user, `${owner}/platform`]);
      await rejectsWith(ctx.inTenant(bystander, (s) => s.pki.recordIssued(issued(`${owner}/platform`, 'x'))), 'NOT_FOUND');
      await rejectsWith(ctx.inTenant(user, (s) => s.pki.recordIssued(issued('platform', 'x'))), 'NOT_FOUND');

      const [ro, ru, rb] = [await ctx.store.tenant(owner), await ctx.store.tenant(user), await ctx.store.tenant(bystander)];
      assert.deepEqual(await ro.pki.listIssued(), [mine], 'each tenant lists what it asked for');
      assert.deepEqual(await ru.pki.listIssued(), [theirs]);
      assert.deepEqual(await ru.pki.listIssued({ ca: `${owner}/platform` }), [theirs]);
      assert.deepEqual(await ru.pki.listIssued({ ca: 'platform' }), []);
      assert.deepEqual(await ro.pki.listIssued({ ca: 'platform' }), [mine]);
      assert.deepEqual(await ru.pki.getIssued(theirs.serial.toLowerCase()), theirs);
      assert.equal(await ro.pki.getIssued(theirs.serial), undefined);
      assert.equal(await rb.pki.getIssued(theirs.serial), undefined);
      assert.equal(await ro.pki.caIssued('platform', theirs.serial), true, 'the CA knows every serial it issued');
      assert.equal(await ro.pki.caIssued('platform', mine.serial), true);
      assert.equal(await ro.pki.caIssued('platform', randomBytes(16).toString('hex')), false);
      assert.equal(await ru.pki.caIssued('platform', theirs.serial), false, "only for the tenant's own CAs");

      assert.equal(await ctx.inTenant(owner, (s) => s.pki.revoke(theirs.serial, new Date().toISOString(), 'keyCompromise')), undefined, "the owner cannot revoke another tenant's certificate");
      const at = new Date().toISOString();
      const revoked = await ctx.inTenant(user, (s) => s.pki.revoke(theirs.serial, at, 'keyCompromise'));
      assert.equal(await ctx.store.revision(), rev + 1, 'a revocation is a config write');
      assert.deepEqual([revoked?.revokedAt, revoked?.revocationReason, revoked?.ca], [at, 'keyCompromise', `${owner}/platform`]);
      const again = await ctx.inTenant(user, (s) => s.pki.revoke(theirs.serial, new Date(Date.now() + 1000).toISOString(), 'superseded'));
      assert.deepEqual([again?.revokedAt, again?.revocationReason], [at, 'keyCompromise'], 'the first revocation stands');

      const dump = await ctx.store.loadAll();
      const entry = dump.pki.revoked.find((r) => r.serial === theirs.serial);
      assert.deepEqual(entry, { tenant: owner, ca: 'platform', serial: theirs.serial, fingerprint: theirs.fingerprint, revokedAt: at, reason: 'keyCompromise' });
      assert.ok(dump.pki.cas.some((c) => c.tenant === owner && c.name === 'platform'));
    });

    it("lets a CA's owner revoke what it issued for another tenant, by serial, and nothing else", async () => {
      const [owner, user] = [await ctx.newTenant('own'), await ctx.newTenant('use')];
      await ctx.inTenant(owner, (s) => newCa(s.pki, 'platform', [user]));
      await ctx.inTenant(user, (s) => newCa(s.pki, 'platform'));
      const theirs = await ctx.inTenant(user, (s) => s.pki.recordIssued(issued(`${owner}/platform`, 'billing')));
      const ownCa = await ctx.inTenant(user, (s) => s.pki.recordIssued(issued('platform', 'billing')));
      assert.equal(await ctx.inTenant(owner, (s) => s.pki.revokeIssuedByCa('platform', ownCa.serial, new Date().toISOString(), 'superseded')), undefined, "the user's own CA of the same name is not the owner's");
      assert.equal(await ctx.inTenant(user, (s) => s.pki.revokeIssuedByCa('platform', theirs.serial, new Date().toISOString(), 'superseded')), undefined, 'only the CA owner');
      const rev = await ctx.store.revision();
      const at = new Date().toISOString();
      const r = await ctx.inTenant(owner, (s) => s.pki.revokeIssuedByCa('platform', theirs.serial.toLowerCase(), at, 'keyCompromise'));
      assert.deepEqual(r, { serial: theirs.serial, tenant: user, revokedAt: at, revocationReason: 'keyCompromise' });
      assert.equal(await ctx.store.revision(), rev + 1);
      const again = await ctx.inTenant(owner, (s) => s.pki.revokeIssuedByCa('platform', theirs.serial, new Date(Date.now() + 1000).toISOString(), 'superseded'));
      assert.deepEqual(again, r, 'the first revocation stands');
      assert.equal((await (await ctx.store.tenant(user)).pki.getIssued(theirs.serial))?.revocationReason, 'keyCompromise', 'the tenant sees it revoked');
    });

    it("lists other tenants' domain hosts, not the tenant's own", async () => {
      const [a, b] = [await ctx.newTenant('hosts-a'), await ctx.newTenant('hosts-b')];
      const ha = `${ctx.unique('a')}.example.test`;
      const hb = `*.${ctx.unique('b')}.example.test`;
      await ctx.inTenant(a, (s) => s.create('domain', 'd', { name: 'd', hosts: [ha] }));
      await ctx.inTenant(b, (s) => s.create('domain', 'd', { name: 'd', hosts: [hb] }));
      const fa = await (await ctx.store.tenant(a)).pki.foreignDomainHosts();
      assert.ok(fa.includes(hb) && !fa.includes(ha));
      const fb = await (await ctx.store.tenant(b)).pki.foreignDomainHosts();
      assert.ok(fb.includes(ha) && !fb.includes(hb));
    });

    it('deleting a tenant revokes what it obtained from shared CAs, hands it to their owners, and leaves their sharedWith', async () => {
      const [owner, user, other] = [await ctx.newTenant('own'), await ctx.newTenant('use'), await ctx.newTenant('oth')];
      await ctx.inTenant(owner, (s) => newCa(s.pki, 'platform', [user, other]));
      const live = await ctx.inTenant(user, (s) => s.pki.recordIssued(issued(`${owner}/platform`, 'billing')));
      const gone = await ctx.inTenant(user, (s) => s.pki.recordIssued(issued(`${owner}/platform`, 'old')));
      const at = new Date(Date.now() - 60_000).toISOString();
      await ctx.inTenant(user, (s) => s.pki.revoke(gone.serial, at, 'superseded'));
      const release = await ctx.store.transaction((tx) => tx.tenants.delete(user));
      assert.deepEqual(release?.cas, [{ tenant: owner, name: 'platform' }]);
      assert.deepEqual(
        [...(release?.certificates ?? [])].sort((x, y) => x.serial.localeCompare(y.serial)),
        [{ tenant: owner, ca: 'platform', serial: live.serial, revokedNow: true }, { tenant: owner, ca: 'platform', serial: gone.serial, revokedNow: false }].sort((x, y) => x.serial.localeCompare(y.serial)),
      );
      const revoked = (await ctx.store.loadAll()).pki.revoked.filter((r) => r.tenant === owner);
      assert.deepEqual(revoked.map((r) => [r.serial, r.reason]).sort(), [[live.serial, 'cessationOfOperation'], [gone.serial, 'superseded']].sort());
      assert.equal(revoked.find((r) => r.serial === gone.serial)?.revokedAt, at, 'earlier revocations keep their time and reason');
      const ro = await ctx.store.tenant(owner);
      assert.equal(await ro.pki.caIssued('platform', live.serial), true, 'the CA still answers for it');
      assert.deepEqual((await ro.pki.listIssued()).map((c) => c.serial).sort(), [live.serial, gone.serial].sort(), "the records are the owner's now");
      assert.deepEqual((await ro.pki.getCa('platform'))?.settings.sharedWith, [other]);
      await ctx.store.transaction((tx) => tx.tenants.create(user));
      assert.equal(await (await ctx.store.tenant(user)).pki.visibleCa(`${owner}/platform`), undefined, 'a new tenant of that name inherits nothing');
    });

    it('filters issued certificates by application and expiry, soonest first', async () => {
      const t = await ctx.newTenant('pki-f');
      await ctx.inTenant(t, (s) => newCa(s.pki, 'ca'));
      const late = await ctx.inTenant(t, (s) => s.pki.recordIssued(issued('ca', 'a', 60)));
      const soon = await ctx.inTenant(t, (s) => s.pki.recordIssued(issued('ca', 'b', 5)));
      const r = await ctx.store.tenant(t);
      assert.deepEqual((await r.pki.listIssued()).map((c) => c.serial), [soon.serial, late.serial]);
      assert.deepEqual((await r.pki.listIssued({ application: 'a' })).map((c) => c.serial), [late.serial]);
      assert.deepEqual((await r.pki.listIssued({ expiringBefore: new Date(Date.now() + 10 * 86_400_000).toISOString() })).map((c) => c.serial), [soon.serial]);
    });

    it('keeps one pending request per name; its key goes with it', async () => {
      const t = await ctx.newTenant('pki-r');
      const first = await ctx.inTenant(t, (s) => s.pki.putRequest({ name: 'www', hosts: ['www.example.test'], keySealed: 'k1', csrPem: 'csr1' }));
      assert.deepEqual({ ...first, createdAt: '' }, { tenant: t, name: 'www', hosts: ['www.example.test'], keySealed: 'k1', csrPem: 'csr1', createdAt: '' });
      await ctx.inTenant(t, (s) => s.pki.putRequest({ name: 'www', hosts: ['a.example.test', 'b.example.test'], keySealed: 'k2', csrPem: 'csr2' }));
      const r = await ctx.store.tenant(t);
      assert.deepEqual((await r.pki.listRequests()).map((q) => [q.name, q.keySealed, q.hosts]), [['www', 'k2', ['a.example.test', 'b.example.test']]]);
      assert.equal(await ctx.inTenant(t, (s) => s.pki.deleteRequest('www')), true);
      assert.equal(await ctx.inTenant(t, (s) => s.pki.deleteRequest('www')), false);
      assert.equal(await r.pki.getRequest('www'), undefined);
    });
  });
}
