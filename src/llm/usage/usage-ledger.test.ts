/**
 * The usage ledger's batching against a scripted in-memory store: writes after `flushInterval` or
 * at `batchSize`, keeps and retries records a failed write held (in order), drains on close() while
 * storage recovers, and drops the oldest beyond `maxPending`.
 */

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pino from 'pino';
import { usageRecord } from '../../storage/conformance/llm-usage.conformance.js';
import type { LlmUsageStore, UsageQuery, UsageRecordInput, UsageRow } from '../../storage/llm-usage-records.js';
import { UsageLedger, type LedgerOptions } from './usage-ledger.js';

/** What one append does: succeed, or fail (after an optional delay, to keep the write in flight). */
type Outcome = 'ok' | 'fail' | { failAfterMs: number };

/** A store keeping appended batches; each append takes the next scripted outcome (then 'ok'). */
class FakeUsageStore implements LlmUsageStore {
  readonly batches: string[][] = [];
  calls = 0;

  constructor(private readonly script: Outcome[] = []) {}

  async append(records: readonly UsageRecordInput[]): Promise<void> {
    this.calls++;
    const outcome = this.script.shift() ?? 'ok';
    if (typeof outcome === 'object') await sleep(outcome.failAfterMs);
    if (outcome !== 'ok') throw new Error('storage down');
    this.batches.push(records.map((r) => r.requestId));
  }

  async query(_q: UsageQuery): Promise<UsageRow[]> {
    return [];
  }

  async recent(_tenant: string, _limit: number): Promise<UsageRecordInput[]> {
    return [];
  }

  /** Every written request id, in write order. */
  get written(): string[] {
    return this.batches.flat();
  }
}

function record(requestId: string): UsageRecordInput {
  return usageRecord('acme', { requestId });
}

const logger = pino({ level: 'silent' });

function ledgerWith(script: Outcome[], opts: LedgerOptions) {
  const store = new FakeUsageStore(script);
  return { store, ledger: new UsageLedger(store, logger, opts) };
}

const recordAll = (ledger: UsageLedger, ids: string[]): void => ids.forEach((id) => ledger.record(record(id)));

describe('UsageLedger', () => {
  it('writes queued records as one batch after flushInterval', async () => {
    const { store, ledger } = ledgerWith([], { flushInterval: 20, batchSize: 100 });
    recordAll(ledger, ['a', 'b', 'c']);
    assert.equal(store.calls, 0);
    await sleep(60);
    assert.deepEqual(store.batches, [['a', 'b', 'c']]);
    await ledger.close();
  });

  it('writes at once when batchSize records are waiting', async () => {
    const { store, ledger } = ledgerWith([], { flushInterval: 10_000, batchSize: 3 });
    recordAll(ledger, ['a', 'b']);
    assert.equal(store.calls, 0);
    ledger.record(record('c'));
    assert.equal(store.calls, 1);
    await ledger.flush();
    assert.deepEqual(store.batches, [['a', 'b', 'c']]);
    await ledger.close();
    assert.equal(store.calls, 1);
  });

  it('keeps the records of a failed write and retries them later, in order', async () => {
    const { store, ledger } = ledgerWith(['fail'], { flushInterval: 20, batchSize: 2 });
    recordAll(ledger, ['a', 'b']);
    await sleep(5);
    assert.equal(store.calls, 1);
    assert.deepEqual(store.written, []);
    ledger.record(record('c'));
    await sleep(80);
    assert.deepEqual(store.written, ['a', 'b', 'c']);
    assert.equal(ledger.dropped, 0);
    await ledger.close();
  });

  it('retries a failed write on its own, without new records', async () => {
    const { store, ledger } = ledgerWith(['fail', 'fail'], { flushInterval: 20, batchSize: 1 });
    ledger.record(record('a'));
    await sleep(120);
    assert.ok(store.calls >= 3, `calls: ${store.calls}`);
    assert.deepEqual(store.written, ['a']);
    await ledger.close();
  });

  it('resolves flush() when a write already in flight fails', async () => {
    const { store, ledger } = ledgerWith([{ failAfterMs: 20 }], { flushInterval: 10_000, batchSize: 2 });
    recordAll(ledger, ['a', 'b']);
    await assert.doesNotReject(ledger.flush());
    await ledger.close(1000);
    assert.deepEqual(store.written, ['a', 'b']);
  });

  it('leaves no rejection unhandled when a batch fills during a failing write', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { store, ledger } = ledgerWith([{ failAfterMs: 20 }], { flushInterval: 10_000, batchSize: 2 });
      recordAll(ledger, ['a', 'b', 'c', 'd']);
      await sleep(50);
      assert.deepEqual(unhandled, []);
      await ledger.close(1000);
      assert.deepEqual(store.written, ['a', 'b', 'c', 'd']);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('close() writes what is left at once', async () => {
    const { store, ledger } = ledgerWith([], { flushInterval: 10_000, batchSize: 100 });
    recordAll(ledger, ['a', 'b']);
    await ledger.close();
    assert.deepEqual(store.batches, [['a', 'b']]);
  });

  it('close() retries until the store recovers within its timeout', async () => {
    const { store, ledger } = ledgerWith(['fail', 'fail'], { flushInterval: 10_000, batchSize: 100 });
    recordAll(ledger, ['a', 'b']);
    await ledger.close(2000);
    assert.equal(store.calls, 3);
    assert.deepEqual(store.written, ['a', 'b']);
  });

  it('close() waits for a write in flight that fails, then retries it', async () => {
    const { store, ledger } = ledgerWith([{ failAfterMs: 20 }], { flushInterval: 10_000, batchSize: 2 });
    recordAll(ledger, ['a', 'b']);
    ledger.record(record('c'));
    await assert.doesNotReject(ledger.close(2000));
    assert.deepEqual(store.written, ['a', 'b', 'c']);
  });

  it('close() gives up after its timeout, keeping the records unwritten', async () => {
    const { store, ledger } = ledgerWith(Array<Outcome>(100).fill('fail'), { flushInterval: 10_000, batchSize: 100 });
    ledger.record(record('a'));
    const started = Date.now();
    await ledger.close(150);
    assert.ok(Date.now() - started < 1000);
    assert.ok(store.calls >= 2, `calls: ${store.calls}`);
    assert.deepEqual(store.written, []);
  });

  it('drops the oldest records beyond maxPending while storage is down, and counts them', async () => {
    const { store, ledger } = ledgerWith(['fail'], { flushInterval: 10_000, batchSize: 100, maxPending: 3 });
    recordAll(ledger, ['1', '2']);
    await ledger.flush();
    assert.equal(ledger.dropped, 0);
    recordAll(ledger, ['3', '4', '5']);
    assert.equal(ledger.dropped, 2);
    ledger.record(record('6'));
    assert.equal(ledger.dropped, 3);
    await ledger.close();
    assert.deepEqual(store.written, ['4', '5', '6']);
  });
});
