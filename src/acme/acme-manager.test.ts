/**
 * The ACME manager's timing with an injected clock and a scripted CA: due when absent, renewed once a
 * third of the lifetime remains (not before), backed off after failures (with the failure recorded
 * and alerted), and never ordered twice while a lease is held.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createHttpsServer } from 'node:https';
import acme from 'acme-client';
import pino from 'pino';
import { createRootCa, issueCertificate } from '../pki/issue-certificate.js';
import { AcmeDomainSchema } from '../model/acme.js';
import { DomainSpecSchema } from '../model/domain.js';
import { SecretBox } from '../secrets/secret-box.js';
import { openStore } from '../storage/open-store.js';
import type { Store } from '../storage/store.js';
import type { PlannedDomain } from '../snapshot/plan.js';
import { AcmeManager, renewalTime } from './acme-manager.js';
import type { ObtainedCertificate } from './acme-issuer.js';

const DAY = 86_400_000;

describe('ACME manager', () => {
  let dir: string;
  let store: Store;
  const secrets = new SecretBox({ current: { id: 'k1', key: Buffer.alloc(32, 3) } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acme-manager-'));
    store = await openStore({ dataDir: dir });
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function planned(cert = undefined as PlannedDomain['acme']): PlannedDomain {
    const spec = DomainSpecSchema.parse({ name: 'api', hosts: ['api.example.test'], acme: AcmeDomainSchema.parse({ directory: 'https://ca.example.test/dir' }) });
    return { tenant: 'default', spec, certificate: undefined, acme: cert };
  }

  it('renews at two thirds of the lifetime, backs off after a failure, and records it', async () => {
    let now = Date.parse('2031-01-01T00:00:00Z');
    const orders: number[] = [];
    const failures: string[] = [];
    let fail = false;
    const obtain = async (): Promise<ObtainedCertificate> => {
      orders.push(now);
      if (fail) throw new Error('urn:ietf:params:acme:error:rateLimited: too many certificates');
      return { certPem: `PEM-${orders.length}`, keyPem: 'KEY', notBefore: new Date(now), notAfter: new Date(now + 90 * DAY), serial: String(orders.length) };
    };
    const manager = new AcmeManager({ store: store.acme, secrets, logger: pino({ level: 'silent' }), now: () => now, obtain, retryBase: 60_000, retryMax: 3_600_000, onFailure: (_t, _d, _h, problem) => failures.push(problem) });
    const current = async () => (await store.acme.getCertificate('default', 'api')) ?? undefined;

    manager.update({ domains: [planned()] });
    await manager.settle();
    assert.equal(orders.length, 1, 'ordered at once: no certificate yet');
    const first = await current();
    assert.equal(first?.certPem, 'PEM-1');
    assert.equal(renewalTime(Date.parse(first!.notBefore), Date.parse(first!.notAfter)), now + 60 * DAY);

    manager.update({ domains: [planned(first)] });
    now += 59 * DAY;
    manager.check();
    await manager.settle();
    assert.equal(orders.length, 1, 'not yet: more than a third of the lifetime remains');

    now += 1 * DAY + 1;
    fail = true;
    manager.check();
    await manager.settle();
    assert.equal(orders.length, 2, 'due once a third remains');
    assert.deepEqual(failures, ['urn:ietf:params:acme:error:rateLimited: too many certificates']);
    const renewal = await store.acme.getRenewal('default', 'api');
    assert.equal(renewal?.failures, 1);
    assert.ok(Date.parse(renewal!.nextAttemptAt!) - now >= 30_000, 'the retry is backed off (base 60 s, jitter down to half)');
    assert.equal((await current())?.certPem, 'PEM-1', 'the old certificate stays');

    manager.check();
    await manager.settle();
    assert.equal(orders.length, 2, 'no retry before the backoff');

    now += 61_000;
    fail = false;
    manager.check();
    await manager.settle();
    assert.equal(orders.length, 3);
    assert.equal((await current())?.certPem, 'PEM-3');
    assert.equal((await store.acme.getRenewal('default', 'api'))?.failures, 0);
    await manager.stop();
  });

  it('does not order while another node holds the lease', async () => {
    const now = Date.parse('2032-01-01T00:00:00Z');
    await store.acme.acquireLease('acme:default/api', 'another-node', 600_000, new Date(now));
    let orders = 0;
    const manager = new AcmeManager({ store: store.acme, secrets, logger: pino({ level: 'silent' }), now: () => now, obtain: async () => { orders++; throw new Error('unexpected'); } });
    manager.update({ domains: [{ ...planned(), spec: { ...planned().spec, hosts: ['api.example.test', 'www.example.test'] } }] });
    await manager.settle();
    assert.equal(orders, 0);
    await manager.stop();
  });

  it("trusts a directory's own CA (directoryCa) for that domain's order only", async () => {
    const now = Date.now();
    const ca = await createRootCa({ commonName: 'private acme ca', notBefore: new Date(now - DAY), notAfter: new Date(now + DAY) });
    const leaf = await issueCertificate({ issuer: ca, subjectCN: 'localhost', sans: ['localhost'], usage: 'server', notAfter: new Date(now + DAY) });
    const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://localhost:${(server.address() as { port: number }).port}/directory`;
    const reached = new Map<string, string>();
    const obtain = async (tenant: string): Promise<ObtainedCertificate> => {
      // What acme-client does: a request through its process-wide axios instance.
      reached.set(tenant, await acme.axios.get(url).then(() => 'ok', (err: Error) => err.message));
      throw new Error('stop here');
    };
    const manager = new AcmeManager({ store: store.acme, secrets, logger: pino({ level: 'silent' }), now: () => now, obtain });
    manager.start();
    // acme-client retries a failed connection 5 times over 75 s; one attempt says enough here.
    const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings;
    const retries = settings.retryMaxAttempts;
    settings.retryMaxAttempts = 0;
    try {
      const domain = (tenant: string, directoryCa?: string): PlannedDomain => ({
        tenant,
        spec: DomainSpecSchema.parse({ name: 'api', hosts: ['api.example.test'], acme: AcmeDomainSchema.parse({ directory: url, ...(directoryCa ? { directoryCa } : {}) }) }),
        certificate: undefined,
        acme: undefined,
      });
      await store.transaction(async (tx) => {
        for (const t of ['with-ca', 'without-ca']) await tx.tenants.create(t);
      });
      manager.update({ domains: [domain('with-ca', ca.certPem), domain('without-ca')] });
      await manager.settle();
      assert.equal(reached.get('with-ca'), 'ok');
      assert.notEqual(reached.get('without-ca'), undefined);
      assert.notEqual(reached.get('without-ca'), 'ok', 'the same server, without that CA, is not trusted');
    } finally {
      settings.retryMaxAttempts = retries;
      await manager.stop();
      server.close();
    }
  });
});
