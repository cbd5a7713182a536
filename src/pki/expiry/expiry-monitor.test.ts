import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { WebhookSender } from '../../core/signed-webhook.js';
import type { IssuedCertificateRecord } from '../../storage/store.js';
import type { InventoryInput } from './certificate-inventory.js';
import { alertKey, crossedThreshold, ExpiryMonitor, type ExpiryMonitorOptions } from './expiry-monitor.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 5, 1);
const THRESHOLDS = [30, 14, 7, 1];

function cert(serial: string, notAfter: number, tenant = 'acme'): IssuedCertificateRecord {
  return {
    id: serial,
    tenant,
    ca: 'clients',
    serial,
    usage: 'client',
    subject: `CN=${serial}`,
    sans: [],
    application: 'app',
    fingerprint: `${serial.toLowerCase()}`.padEnd(64, 'f'),
    notBefore: new Date(T0 - DAY).toISOString(),
    notAfter: new Date(notAfter).toISOString(),
    certPem: '',
    revokedAt: null,
    revocationReason: null,
    createdAt: '',
  };
}

/** The settings table, shared by the monitors of one test (a cluster, or one node restarted). */
function sharedClaims() {
  const map = new Map<string, string>();
  return {
    map,
    async putSettingIfAbsent(key: string, value: string) {
      if (!map.has(key)) map.set(key, value);
      return map.get(key)!;
    },
    async putSetting(key: string, value: string) {
      map.set(key, value);
    },
  };
}

interface Rig {
  monitor: ExpiryMonitor;
  clock: { now: number };
  sent: Array<{ url: string; body: any; secret: string | undefined }>;
  loads: { count: number };
  input: { issued: IssuedCertificateRecord[] };
}

function rig(opts: { issued: IssuedCertificateRecord[]; claims?: ReturnType<typeof sharedClaims>; clock?: { now: number }; deliver?: () => boolean; extra?: Partial<ExpiryMonitorOptions> }): Rig {
  const clock = opts.clock ?? { now: T0 };
  const sent: Rig['sent'] = [];
  const loads = { count: 0 };
  const input = { issued: opts.issued };
  const send: WebhookSender = async (target, body) => {
    sent.push({ url: target.url, body: JSON.parse(body), secret: target.secret });
    return opts.deliver ? opts.deliver() : true;
  };
  const monitor = new ExpiryMonitor({
    load: async (): Promise<InventoryInput> => {
      loads.count++;
      return { objects: [], cas: [], issued: input.issued };
    },
    claims: opts.claims ?? sharedClaims(),
    thresholdsDays: THRESHOLDS,
    checkIntervalMs: HOUR,
    webhook: { url: 'http://hooks.test/expiry', secret: 'a-secret-of-16-chars+' },
    send,
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
    ...opts.extra,
  });
  return { monitor, clock, sent, loads, input };
}

describe('crossedThreshold', () => {
  it('is the fewest days crossed, or none', () => {
    assert.equal(crossedThreshold(T0 + 31 * DAY, THRESHOLDS, T0), undefined);
    assert.equal(crossedThreshold(T0 + 30 * DAY, THRESHOLDS, T0), 30, 'exactly at the threshold');
    assert.equal(crossedThreshold(T0 + 10 * DAY, THRESHOLDS, T0), 14);
    assert.equal(crossedThreshold(T0 + 5 * DAY, [7, 30, 14, 1], T0), 7, 'thresholds in any order');
    assert.equal(crossedThreshold(T0 + HOUR, THRESHOLDS, T0), 1);
    assert.equal(crossedThreshold(T0 - 3 * DAY, THRESHOLDS, T0), 1, 'expired');
    assert.equal(crossedThreshold(T0, [], T0), undefined);
  });
});

describe('ExpiryMonitor', () => {
  it('sends one alert per certificate and threshold, the most urgent one crossed', async () => {
    const r = rig({ issued: [cert('A1', T0 + 10 * DAY), cert('B2', T0 + 12 * HOUR), cert('C3', T0 + 90 * DAY), cert('D4', T0 - DAY)] });
    const first = await r.monitor.check();
    assert.deepEqual(first.map((a) => `${a.certificate.name}:${a.threshold}`), ['D4:1', 'B2:1', 'A1:14']);
    assert.deepEqual(r.sent.map((s) => `${s.body.certificate.name}:${s.body.threshold}`), ['D4:1', 'B2:1', 'A1:14']);
    const body = r.sent[2]!.body;
    assert.equal(body.event, 'certificate.expiring');
    assert.equal(body.certificate.daysLeft, 10);
    assert.equal(body.certificate.kind, 'issued');
    assert.equal(r.sent[2]!.url, 'http://hooks.test/expiry');

    assert.deepEqual(await r.monitor.check(), [], 'nothing new on a second check');
    r.clock.now += 4 * DAY;
    assert.deepEqual((await r.monitor.check()).map((a) => `${a.certificate.name}:${a.threshold}`), ['A1:7'], 'the next threshold, once');
    r.clock.now += 62 * DAY;
    assert.deepEqual((await r.monitor.check()).map((a) => `${a.certificate.name}:${a.threshold}`), ['C3:30']);
    assert.equal(r.sent.length, 5);
  });

  it('remembers sent alerts in the shared store: a restarted node and other nodes stay quiet', async () => {
    const claims = sharedClaims();
    const clock = { now: T0 };
    const issued = [cert('A1', T0 + 10 * DAY)];
    const node1 = rig({ issued, claims, clock });
    const node2 = rig({ issued, claims, clock });
    const [a, b] = await Promise.all([node1.monitor.check(), node2.monitor.check()]);
    assert.equal(a.length + b.length, 1, 'one node of the cluster alerts');
    assert.ok(claims.map.has(alertKey('a1'.padEnd(64, 'f'), 14)));
    const restarted = rig({ issued, claims, clock });
    assert.deepEqual(await restarted.monitor.check(), []);
    assert.equal(node1.sent.length + node2.sent.length + restarted.sent.length, 1);
  });

  it('alerts a certificate listed twice once', async () => {
    const r = rig({ issued: [cert('A1', T0 + 5 * DAY, 'one'), cert('A1', T0 + 5 * DAY, 'two')] });
    assert.equal((await r.monitor.check()).length, 1);
  });

  it('alerts again at the next check when the webhook could not be delivered', async () => {
    let up = false;
    const claims = sharedClaims();
    const r = rig({ issued: [cert('A1', T0 + 3 * DAY)], claims, deliver: () => up });
    assert.deepEqual(await r.monitor.check(), []);
    assert.match(claims.map.get(alertKey('a1'.padEnd(64, 'f'), 7))!, /^failed /);
    up = true;
    assert.equal((await r.monitor.check()).length, 1, 'retried');
    assert.equal((await r.monitor.check()).length, 0, 'and then remembered');
    assert.equal(r.sent.length, 2);
  });

  it('logs only (no webhook) and still remembers', async () => {
    const claims = sharedClaims();
    const r = rig({ issued: [cert('A1', T0 + 3 * DAY)], claims, extra: { webhook: undefined } });
    assert.equal((await r.monitor.check()).length, 1);
    assert.equal(r.sent.length, 0);
    assert.equal(claims.map.size, 1);
  });

  it('records an audit entry per alert', async () => {
    const events: Array<{ key: string; action: string; tenant: string | null }> = [];
    const audit = { security: (key: string, e: { action: string; tenant: string | null }) => void events.push({ key, action: e.action, tenant: e.tenant }) };
    const r = rig({ issued: [cert('A1', T0 + 3 * DAY)], extra: { audit } });
    await r.monitor.check();
    assert.deepEqual(events, [{ key: alertKey('a1'.padEnd(64, 'f'), 7), action: 'security.certificate_expiring', tenant: 'acme' }]);
  });

  it('a check asked for while one runs starts after it, and sees what changed meanwhile', async () => {
    const r = rig({ issued: [] });
    const running = r.monitor.check();
    r.input.issued = [cert('A1', T0 + 3 * DAY)];
    const [first, second] = await Promise.all([running, r.monitor.check()]);
    assert.deepEqual(first, []);
    assert.equal(second.length, 1);
  });

  it('caches the inventory for scrapes until a check, a change or the interval', async () => {
    const r = rig({ issued: [cert('A1', T0 + 2 * DAY), cert('B2', T0 - 30_000)] });
    assert.deepEqual(await r.monitor.expirySeconds(), [
      { tenant: 'acme', kind: 'issued', name: 'B2', seconds: -30 },
      { tenant: 'acme', kind: 'issued', name: 'A1', seconds: 2 * 86_400 },
    ]);
    r.clock.now += 10_000;
    assert.equal((await r.monitor.expirySeconds())[1]!.seconds, 2 * 86_400 - 10, 'seconds follow the clock');
    assert.equal(r.loads.count, 1, 'from the cached inventory');
    r.monitor.invalidate();
    await r.monitor.entries();
    assert.equal(r.loads.count, 2, 'reloaded after a change');
    r.clock.now += HOUR;
    await r.monitor.entries();
    assert.equal(r.loads.count, 3, 'reloaded once older than the interval');
    await r.monitor.check();
    await r.monitor.entries();
    assert.equal(r.loads.count, 4, 'a check refreshes it');
  });

  it('keeps the last inventory when reading fails', async () => {
    const r = rig({ issued: [cert('A1', T0 + 2 * DAY)] });
    assert.equal((await r.monitor.entries()).length, 1);
    const failing = rig({ issued: [], extra: { load: () => Promise.reject(new Error('storage down')) } });
    assert.deepEqual(await failing.monitor.entries(), []);
    assert.deepEqual(await failing.monitor.check(), [], 'a failed check resolves');
  });

  it('notifies renewal failures every time', async () => {
    const r = rig({ issued: [cert('A1', T0 + 2 * DAY)] });
    const [entry] = await r.monitor.entries();
    assert.equal(await r.monitor.notifyRenewalFailure(entry!, 'acme: order failed'), true);
    await r.monitor.notifyRenewalFailure(entry!, 'acme: order failed');
    assert.deepEqual(r.sent.map((s) => [s.body.event, s.body.problem, s.body.certificate.name]), [
      ['certificate.renewal_failed', 'acme: order failed', 'A1'],
      ['certificate.renewal_failed', 'acme: order failed', 'A1'],
    ]);
  });

  it('stop() abandons deliveries in flight and ends checks', async () => {
    let signal: AbortSignal | undefined;
    const claims = sharedClaims();
    const r = rig({
      issued: [cert('A1', T0 + 3 * DAY)],
      claims,
      extra: {
        send: (_t, _b, o) =>
          new Promise<boolean>((resolve) => {
            signal = o?.signal;
            o?.signal?.addEventListener('abort', () => resolve(false));
          }),
      },
    });
    const running = r.monitor.check();
    while (!signal) await new Promise((res) => setImmediate(res));
    await r.monitor.stop();
    assert.deepEqual(await running, []);
    assert.match(claims.map.get(alertKey('a1'.padEnd(64, 'f'), 7))!, /^failed /, 'the next start alerts again');
    assert.deepEqual(await r.monitor.check(), []);
  });
});
