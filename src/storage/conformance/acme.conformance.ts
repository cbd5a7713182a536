/** Conformance: ACME state (`Store.acme`): accounts, certificates with renewal state, challenges, leases. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConformanceContext } from './context.conformance.js';

export function acmeConformance(ctx: ConformanceContext): void {
  describe('ACME state', () => {
    it('keeps one account per tenant and directory: the first writer wins', async () => {
      const tenant = await ctx.newTenant('acme');
      const dir = 'https://acme.example.test/dir';
      assert.equal(await ctx.store.acme.getAccount(tenant, dir), undefined);
      const a = await ctx.store.acme.putAccount({ tenant, directory: dir, email: 'ops@example.test', keySealed: 'sealed-1', url: null });
      const b = await ctx.store.acme.putAccount({ tenant, directory: dir, email: null, keySealed: 'sealed-2', url: null });
      assert.equal(a.keySealed, 'sealed-1');
      assert.equal(b.keySealed, 'sealed-1', 'a concurrent second registration gets the first account');
      await ctx.store.acme.setAccountUrl(tenant, dir, 'https://acme.example.test/acct/1');
      assert.equal((await ctx.store.acme.getAccount(tenant, dir))?.url, 'https://acme.example.test/acct/1');
      const other = await ctx.newTenant('acme');
      assert.equal(await ctx.store.acme.getAccount(other, dir), undefined);
    });

    it('stores a certificate as a config write, replaces it on renewal, and tracks failures', async () => {
      const tenant = await ctx.newTenant('acme');
      const rev = await ctx.store.revision();
      const failed = await ctx.store.acme.recordFailure(tenant, 'api', 'urn:ietf:params:acme:error:connection: refused', new Date('2031-01-01T00:00:00Z'), new Date('2031-01-01T00:05:00Z'));
      assert.deepEqual([failed.failures, failed.lastError, failed.nextAttemptAt], [1, 'urn:ietf:params:acme:error:connection: refused', '2031-01-01T00:05:00.000Z']);
      assert.equal((await ctx.store.acme.recordFailure(tenant, 'api', 'again', new Date('2031-01-01T00:05:00Z'), new Date('2031-01-01T00:15:00Z'))).failures, 2);
      assert.equal(await ctx.store.acme.getCertificate(tenant, 'api'), undefined, 'failures alone are no certificate');
      assert.equal(await ctx.store.revision(), rev, 'failures are not config writes');
      const cert = { tenant, domain: 'api', hosts: ['api.example.test'], certPem: 'PEM-1', keySealed: 'KEY-1', notBefore: '2031-01-01T00:00:00.000Z', notAfter: '2031-04-01T00:00:00.000Z' };
      await ctx.store.acme.putCertificate(cert, new Date('2031-01-01T00:20:00Z'));
      assert.ok((await ctx.store.revision()) > rev, 'a certificate moves the revision: every node loads it');
      assert.deepEqual(await ctx.store.acme.getCertificate(tenant, 'api'), { ...cert, issuedAt: '2031-01-01T00:20:00.000Z' });
      assert.deepEqual((await ctx.store.acme.getRenewal(tenant, 'api'))?.failures, 0, 'success clears failures');
      await ctx.store.acme.putCertificate({ ...cert, certPem: 'PEM-2', notAfter: '2031-07-01T00:00:00.000Z' }, new Date('2031-03-01T00:00:00Z'));
      assert.equal((await ctx.store.acme.getCertificate(tenant, 'api'))?.certPem, 'PEM-2');
      assert.ok((await ctx.store.acme.listCertificates()).some((c) => c.tenant === tenant && c.certPem === 'PEM-2'));
      assert.ok((await ctx.store.loadAll()).acme?.some((c) => c.tenant === tenant && c.domain === 'api'));
    });

    it('serves challenge answers until they expire', async () => {
      const key = ctx.unique('token');
      const now = new Date('2031-01-01T00:00:00Z');
      await ctx.store.acme.putChallenge(key, 'key-authorization', new Date(now.getTime() + 60_000));
      assert.equal(await ctx.store.acme.getChallenge(key, now), 'key-authorization');
      assert.equal(await ctx.store.acme.getChallenge(key, new Date(now.getTime() + 61_000)), undefined);
      const prefix = ctx.unique('tls-alpn-01:');
      await ctx.store.acme.putChallenge(`${prefix}a.example.test`, '{}', new Date(now.getTime() + 60_000));
      await ctx.store.acme.putChallenge(`${prefix}b.example.test`, '{}', new Date(now.getTime() + 1_000));
      assert.equal(await ctx.store.acme.countChallenges(prefix, now), 2);
      assert.equal(await ctx.store.acme.countChallenges(prefix, new Date(now.getTime() + 2_000)), 1, 'expired answers do not count');
      await ctx.store.acme.deleteChallenge(key);
      assert.equal(await ctx.store.acme.getChallenge(key, now), undefined);
    });

    it('gives a lease to one holder at a time, until it expires or is released', async () => {
      const lease = ctx.unique('lease');
      const now = new Date('2031-01-01T00:00:00Z');
      const results = await Promise.all(['a', 'b', 'c'].map((h) => ctx.store.acme.acquireLease(lease, h, 60_000, now)));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one of concurrent claimants');
      const holder = ['a', 'b', 'c'][results.indexOf(true)]!;
      const other = holder === 'a' ? 'b' : 'a';
      assert.equal(await ctx.store.acme.acquireLease(lease, holder, 60_000, now), true, 'the holder may extend');
      assert.equal(await ctx.store.acme.acquireLease(lease, other, 60_000, new Date(now.getTime() + 30_000)), false);
      assert.equal(await ctx.store.acme.acquireLease(lease, other, 60_000, new Date(now.getTime() + 61_000)), true, 'an expired lease can be taken');
      await ctx.store.acme.releaseLease(lease, holder);
      assert.equal(await ctx.store.acme.acquireLease(lease, holder, 60_000, new Date(now.getTime() + 62_000)), false, 'releasing a lease one no longer holds does nothing');
      await ctx.store.acme.releaseLease(lease, other);
      assert.equal(await ctx.store.acme.acquireLease(lease, holder, 60_000, new Date(now.getTime() + 62_000)), true);
    });
  });
}
