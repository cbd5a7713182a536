import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import pino from 'pino';
import type { AuditEntryInput, AuditLog } from '../storage/store.js';
import { auditLinker } from './audit-chain.js';
import { DATA_PLANE_ACTOR } from './audit-context.js';
import { AuditTrail, type AuditTrailOptions, type SecurityEvent } from './audit-trail.js';

/** An audit log that records appends; it can fail the next appends, or hold them until released. */
class FakeAuditLog implements AuditLog {
  readonly appended: AuditEntryInput[][] = [];
  calls = 0;
  failNext = 0;
  #gate: { promise: Promise<void>; release: () => void } | undefined;

  /** Holds every append until `release()`. */
  hold(): () => void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#gate = { promise, release };
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  async append(entries: readonly AuditEntryInput[]): Promise<never[]> {
    this.calls += 1;
    const copy = [...entries];
    await this.#gate?.promise;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('database down');
    }
    this.appended.push(copy);
    return [];
  }

  list(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }
  raw(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }

  /** Appended actions (with `details.repeated` when set), batch by batch. */
  actions(): string[][] {
    return this.appended.map((b) => b.map((e) => (e.details?.repeated === undefined ? e.action : `${e.action}×${String(e.details.repeated)}`)));
  }
}

const trails: AuditTrail[] = [];
afterEach(async () => {
  await Promise.all(trails.splice(0).map((t) => t.stop()));
});

function setup(opts: Partial<AuditTrailOptions> = {}) {
  const log = new FakeAuditLog();
  const logs: Array<{ level: number; msg: string; dropped?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });
  const clock = { now: 1_000_000 };
  const trail = new AuditTrail({ store: { audit: log }, link: auditLinker(randomBytes(32)), logger, flushIntervalMs: 3_600_000, dedupeWindowMs: 60_000, now: () => clock.now, ...opts });
  trails.push(trail);
  return { trail, log, logs, clock };
}

const event = (action: string, details?: Record<string, unknown>): SecurityEvent => ({ action, tenant: 'acme', sourceIp: '203.0.113.5', object: { kind: 'credential', name: 'pk_1' }, ...(details && { details }) });

describe('AuditTrail', () => {
  it('records the first occurrence at once, and repeats within the window as one summary', async () => {
    const { trail, log, clock } = setup();
    for (let i = 0; i < 5; i++) trail.security('auth:1.2.3.4', event('security.auth_failures', { reason: 'bad key' }));
    trail.security('quiet', event('security.quiet'));
    await trail.flush();
    assert.deepEqual(log.actions(), [['security.auth_failures', 'security.quiet']]);
    assert.deepEqual(log.appended[0]?.[0], {
      tenant: 'acme', actor: DATA_PLANE_ACTOR, action: 'security.auth_failures', object: { kind: 'credential', name: 'pk_1' },
      diff: null, sourceIp: '203.0.113.5', details: { reason: 'bad key' },
    });

    clock.now += 59_999;
    trail.security('auth:1.2.3.4', event('security.auth_failures', { reason: 'bad key' }));
    await trail.flush();
    assert.equal(log.appended.length, 1, 'nothing new while the window is open');

    clock.now += 1;
    await trail.flush();
    assert.deepEqual(log.actions()[1], ['security.auth_failures×5'], 'the window closed: one summary, none for the quiet key');
    assert.deepEqual(log.appended[1]?.[0]?.details, { reason: 'bad key', repeated: 5 });

    trail.security('auth:1.2.3.4', event('security.auth_failures'));
    await trail.flush();
    assert.deepEqual(log.actions()[2], ['security.auth_failures'], 'a new window starts with a recorded occurrence');
  });

  it('closes an elapsed window when the key occurs again, summary first', async () => {
    const { trail, log, clock } = setup({ dedupeWindowMs: 1000 });
    trail.security('k', event('security.a'));
    trail.security('k', event('security.a'));
    trail.security('other', event('security.b'));
    trail.security('other', event('security.b'));
    clock.now += 1000;
    trail.security('k', event('security.a'));
    await trail.flush();
    assert.deepEqual(log.actions(), [['security.a', 'security.b', 'security.a×1', 'security.a', 'security.b×1']]);
  });

  it('keeps the entries when an append fails and appends them, once and in order, on the next flush', async () => {
    const { trail, log, logs } = setup();
    log.failNext = 1;
    trail.security('a', event('security.a'));
    trail.security('b', event('security.b'));
    await trail.flush();
    assert.deepEqual([log.calls, log.appended.length], [1, 0]);
    assert.ok(logs.some((l) => l.level === 40 && /will retry/.test(l.msg)));

    trail.security('c', event('security.c'));
    await trail.flush();
    assert.deepEqual(log.actions(), [['security.a', 'security.b', 'security.c']]);
    await trail.flush();
    assert.equal(log.calls, 2, 'nothing left to append');
    assert.equal(trail.dropped, 0);
  });

  it('drops the oldest entries beyond maxQueue, counting and logging the drop', async () => {
    const { trail, log, logs } = setup({ maxQueue: 3 });
    log.failNext = 2;
    for (const n of [1, 2, 3, 4, 5]) trail.security(`k${n}`, event(`security.e${n}`));
    assert.equal(trail.dropped, 2);
    assert.deepEqual(logs.filter((l) => l.level === 50).map((l) => l.dropped), [1, 1]);
    await trail.flush();
    trail.security('k6', event('security.e6'));
    await trail.flush();
    assert.equal(trail.dropped, 3);
    await trail.flush();
    assert.deepEqual(log.actions(), [['security.e4', 'security.e5', 'security.e6']]);
  });

  it('does not lose or miscount entries queued while an append is in flight', async () => {
    const { trail, log } = setup({ maxQueue: 2 });
    trail.security('a', event('security.a'));
    trail.security('b', event('security.b'));
    const release = log.hold();
    const flushing = trail.flush();
    for (const k of ['c', 'd', 'e']) trail.security(k, event(`security.${k}`));
    assert.equal(trail.dropped, 1, 'only the oldest queued entry, not one being appended');
    release();
    await flushing;
    assert.deepEqual(log.actions(), [['security.a', 'security.b'], ['security.d', 'security.e']]);
  });

  it('appends everything queued in one flush, in batches of 1000', async () => {
    const { trail, log } = setup();
    for (let i = 0; i < 2500; i++) trail.security(`k${i}`, event(`security.${i}`));
    await trail.flush();
    assert.deepEqual(log.appended.map((b) => b.length), [1000, 1000, 500]);
    assert.deepEqual(log.appended.flat().map((e) => e.action), Array.from({ length: 2500 }, (_, i) => `security.${i}`));
  });

  it('shares one run between concurrent flushes', async () => {
    const { trail, log } = setup();
    trail.security('a', event('security.a'));
    const release = log.hold();
    const [p1, p2] = [trail.flush(), trail.flush()];
    assert.equal(p1, p2);
    release();
    await Promise.all([p1, p2]);
    assert.equal(log.calls, 1);
  });

  it('flushes on its timer', async () => {
    const { trail, log } = setup({ flushIntervalMs: 5 });
    trail.security('a', event('security.a'));
    for (let i = 0; i < 100 && log.appended.length === 0; i++) await sleep(5);
    assert.deepEqual(log.actions(), [['security.a']]);
  });

  it('stop() closes every window, flushes, and stops the timer', async () => {
    const { trail, log } = setup({ flushIntervalMs: 5 });
    trail.security('k', event('security.a'));
    trail.security('k', event('security.a'));
    trail.security('k', event('security.a'));
    await trail.stop();
    assert.deepEqual(log.actions().flat(), ['security.a', 'security.a×2']);
    const calls = log.calls;
    trail.security('late', event('security.late'));
    await sleep(30);
    assert.equal(log.calls, calls, 'no flush after stop');
  });

  it('stop() during a flush in flight still appends what closing the windows queued', async () => {
    const { trail, log } = setup();
    trail.security('k', event('security.a'));
    trail.security('k', event('security.a'));
    const release = log.hold();
    const flushing = trail.flush();
    const stopping = trail.stop();
    release();
    await Promise.all([flushing, stopping]);
    assert.deepEqual(log.actions().flat(), ['security.a', 'security.a×1']);
  });

  it('stop() with storage down resolves and keeps the entries queued', async () => {
    const { trail, log } = setup();
    log.failNext = 10;
    trail.security('k', event('security.a'));
    await trail.stop();
    assert.equal(log.appended.length, 0);
    log.failNext = 0;
    await trail.flush();
    assert.deepEqual(log.actions(), [['security.a']]);
  });
});
