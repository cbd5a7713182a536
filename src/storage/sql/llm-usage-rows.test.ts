import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usageRecord } from '../conformance/llm-usage.conformance.js';
import { USAGE_COLUMNS, usageRowValues, uuidV7s } from './llm-usage-rows.js';

describe('llm_usage rows', () => {
  it('makes distinct UUIDv7 ids that sort by their instant', () => {
    const early = uuidV7s(3, Date.UTC(2031, 4, 6));
    const late = uuidV7s(3, Date.UTC(2031, 4, 6) + 1);
    for (const id of [...early, ...late]) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(new Set([...early, ...late]).size, 6);
    assert.equal(early[0]!.slice(0, 13), (Date.UTC(2031, 4, 6)).toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-'));
    for (const a of early) for (const b of late) assert.ok(a < b);
  });

  it('lists one value per column, integers for flags and rounded amounts', () => {
    const values = usageRowValues(usageRecord('t', { at: '2031-05-06T07:08:09Z', stream: true, costNanoUsd: 1.6, latencyMs: 2.4, ttftMs: 0.5 }), 'id-1');
    assert.equal(values.length, USAGE_COLUMNS.length);
    const row = Object.fromEntries(USAGE_COLUMNS.map((c, i) => [c, values[i]]));
    assert.deepEqual(
      [row.id, row.at, row.hour, row.stream, row.estimated, row.cost_nano_usd, row.latency_ms, row.ttft_ms],
      ['id-1', '2031-05-06T07:08:09.000Z', '2031-05-06T07', 1, 0, 2, 2, 1],
    );
  });
});
