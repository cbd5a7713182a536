import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttemptControl, signalAttemptIo } from './attempt-io.js';

describe('attempt I/O', () => {
  it('tells watchers once, with the reason, and makes a signal only when read (aborted if the attempt was)', () => {
    const io = new AttemptControl(100, 200);
    const seen: unknown[] = [];
    io.onAbort((r) => seen.push(['a', r]));
    const stop = io.onAbort((r) => seen.push(['b', r]));
    stop();
    const early = io.signal;
    io.abort('first');
    io.abort('second');
    assert.deepEqual(seen, [['a', 'first']]);
    assert.equal(early.aborted, true);
    assert.equal(early.reason as unknown, 'first');
    io.onAbort((r) => seen.push(['late', String(r)]));
    assert.deepEqual(seen.at(-1), ['late', 'first']);

    const lazy = new AttemptControl(1, 1);
    lazy.abort('gone');
    assert.equal(lazy.signal.aborted, true);
    assert.equal(lazy.signal.reason as unknown, 'gone');
    assert.deepEqual([lazy.headersTimeout, lazy.bodyTimeout], [1, 1]);
  });

  it('watches an existing signal the same way', () => {
    const ac = new AbortController();
    const io = signalAttemptIo(ac.signal, 5, 6);
    const seen: unknown[] = [];
    io.onAbort((r) => seen.push(r));
    io.onAbort((r) => seen.push(`never: ${String(r)}`))();
    ac.abort('why');
    io.onAbort((r) => seen.push(`late: ${String(r)}`));
    assert.deepEqual(seen, ['why', 'late: why']);
  });
});
