/**
 * Certificate expiry monitoring end to end: a gateway whose alert webhook points at a local test
 * server, a tenant certificate expiring in 10 days and a client certificate of the built-in CA
 * issued for one day. The alerts for the right thresholds arrive once each, with a signature the test
 * server verifies over the raw body; no check (timer, explicit, or after a restart) repeats them;
 * the admin API, the CLI and /metrics show the certificates with their time left.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { createRootCa, issueCertificate } from '../../src/pki/issue-certificate.js';
import { runCommand, startGateway, waitFor, type TestGateway } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')];
const SECRET = 'expiry-webhook-secret-0123456789';
const DAY = 86_400_000;
const HOST = 'expiry.pki.test';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** The receiving side of a webhook, as a real consumer would check it: HMAC over the raw body. */
function verified(r: Received): boolean {
  const header = String(r.headers['x-portcullis-signature'] ?? '');
  if (!/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const expected = createHmac('sha256', SECRET).update(r.raw).digest();
  return timingSafeEqual(Buffer.from(header.slice(7), 'hex'), expected);
}

describe('PKI: certificate expiry monitoring, alerts, inventory and metrics', () => {
  let gw: TestGateway;
  let hook: Server;
  const received: Received[] = [];
  let settings: Record<string, unknown>;
  let serial: string;
  /** Set once the gateway was restarted on the same data directory (the harness then leaves it). */
  let keptDataDir: string | undefined;
  const alerts = () => received.map((r) => JSON.parse(r.raw.toString('utf8')));

  before(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
    settings = { pki: { expiry: { checkInterval: '1s', webhook: { url, secret: SECRET } } } };
    gw = await startGateway({ settings });

    const now = Date.now();
    const ca = await createRootCa({ commonName: 'public ca', notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
    const leaf = await issueCertificate({ issuer: ca, subjectCN: HOST, sans: [HOST], usage: 'server', notAfter: new Date(now + 10 * DAY + 3_600_000) });
    assert.equal((await gw.admin('POST', '/admin/v1/tenants/default/cas', { name: 'clients', trustDomain: 'example.org' })).status, 201);
    await gw.apply({
      certificates: [{ name: 'api', cert: leaf.certPem, key: leaf.keyPem }],
      domains: [{ name: 'api', hosts: [HOST], certificate: 'api', clientAuth: { mode: 'optional', authorities: ['clients'] } }],
      applications: [{ name: 'billing' }],
    });
    const issued = await gw.admin('POST', '/admin/v1/tenants/default/cas/clients/certificates', { usage: 'client', application: 'billing', lifetimeDays: 1 });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    serial = issued.body.certificate.serial;
  });

  after(async () => {
    await gw?.stop();
    if (keptDataDir) await rm(keptDataDir, { recursive: true, force: true });
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  });

  it('sends one signed alert per certificate, at the threshold it crossed', async () => {
    await gw.gateway.expiry!.check();
    await waitFor(() => received.length >= 2, 5000, 'two alerts');
    for (const r of received) {
      assert.equal(r.headers['content-type'], 'application/json');
      assert.ok(verified(r), 'the signature verifies over the raw body');
    }
    const got = alerts()
      .map((a) => `${a.event} ${a.certificate.tenant} ${a.certificate.kind} ${a.certificate.name} ${a.threshold} ${a.certificate.daysLeft}`)
      .sort();
    assert.deepEqual(got, [`certificate.expiring default issued ${serial} 1 0`, 'certificate.expiring default served api 14 10']);
    const served = alerts().find((a) => a.certificate.name === 'api').certificate;
    assert.deepEqual(served.sans, [HOST]);
    assert.equal(served.source, 'uploaded');
    assert.equal(served.renewal, 'manual');
    assert.match(served.fingerprint, /^[0-9a-f]{64}$/);
  });

  it('does not repeat an alert: neither the timer nor an explicit check', async () => {
    await sleep(1500); // the 1s timer has checked again meanwhile
    await gw.gateway.expiry!.check();
    assert.equal(received.length, 2);
  });

  it('records the alerts in the audit trail', async () => {
    await waitFor(async () => (await gw.admin('GET', '/admin/v1/audit?tenant=default&limit=1000')).body.items.filter((e: any) => e.action === 'security.certificate_expiring').length === 2, 5000, 'audit entries');
  });

  it('lists the inventory with days left in the admin API, filtered by expiry and kind', async () => {
    const all = await gw.admin('GET', '/admin/v1/tenants/default/certificate-inventory');
    assert.equal(all.status, 200);
    const rows = all.body.items.map((e: any) => `${e.kind} ${e.name} ${e.daysLeft}`);
    assert.deepEqual(rows.slice(0, 2), [`issued ${serial} 0`, 'served api 10']);
    assert.ok(rows.some((r: string) => r.startsWith('trusted clients ')) && rows.some((r: string) => r.startsWith('trusted clients/root ')), rows.join('\n'));
    assert.ok(all.body.items.every((e: any) => e.tenant === 'default'));
    const soon = await gw.admin('GET', '/admin/v1/tenants/default/certificate-inventory?expiring=30d');
    assert.deepEqual(soon.body.items.map((e: any) => e.name), [serial, 'api']);
    const issued = await gw.admin('GET', '/admin/v1/tenants/default/certificate-inventory?kind=issued');
    assert.deepEqual(issued.body.items.map((e: any) => e.name), [serial]);
    assert.equal((await gw.admin('GET', '/admin/v1/tenants/default/certificate-inventory?kind=bogus')).status, 400);
    const platform = await gw.admin('GET', '/admin/v1/certificate-inventory?kind=served');
    assert.deepEqual(platform.body.items.map((e: any) => `${e.tenant} ${e.name} ${e.source}`), ['default api uploaded', 'null listener listener']);
  });

  it('prints the inventory with the CLI', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: gw.token, PORTCULLIS_CA_FILE: join(gw.dataDir, 'ca.pem') };
    const r = await runCommand(process.execPath, [...BIN, 'cert', 'inventory', '--expiring', '30d'], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND\s+NAME\s+SOURCE\s+SANS\s+NOTAFTER\s+DAYS\s+RENEWAL$/);
    assert.match(lines[1]!, new RegExp(`^issued\\s+${serial}\\s+issued\\s+spiffe://example.org/tenant/default/app/billing\\s+\\S+\\s+0\\s+none$`));
    assert.match(lines[2]!, new RegExp(`^served\\s+api\\s+uploaded\\s+${HOST.replace(/\./g, '\\.')}\\s+\\S+\\s+10\\s+manual$`));
    assert.equal(lines.length, 3);
    const json = await runCommand(process.execPath, [...BIN, 'cert', 'inventory', '--all', '--kind', 'served', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).items.map((e: any) => e.name), ['api', 'listener']);
  });

  it('exposes seconds to expiry per certificate on /metrics', async () => {
    const r = await request(`${gw.adminUrl}/metrics`, { dispatcher: gw.agent, headers: { authorization: `Bearer ${gw.token}` } });
    assert.equal(r.statusCode, 200);
    const text = await r.body.text();
    const value = (labels: string) => {
      const m = new RegExp(`^portcullis_certificate_expiry_seconds\\{${labels}\\} (\\S+)$`, 'm').exec(text);
      assert.ok(m, `no series {${labels}} in:\n${text.split('\n').filter((l) => l.includes('expiry')).join('\n')}`);
      return Number(m[1]);
    };
    const api = value('tenant="default",kind="served",name="api"');
    assert.ok(Math.abs(api - (10 * 86_400 + 3_600)) < 600, `api: ${api}`);
    const client = value(`tenant="default",kind="issued",name="${serial}"`);
    assert.ok(client > 86_000 && client <= 86_400, `client: ${client}`);
    assert.ok(value('tenant="",kind="served",name="listener"') > 300 * 86_400);
  });

  it('stays quiet after a restart: sent alerts are remembered in the store', async () => {
    const dataDir = gw.dataDir;
    keptDataDir = dataDir;
    await gw.gateway.stop();
    await gw.agent.close();
    gw = await startGateway({ settings, dataDir });
    await gw.gateway.expiry!.check();
    await sleep(300);
    assert.equal(received.length, 2);
  });
});
