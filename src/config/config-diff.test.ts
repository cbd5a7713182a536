import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changedFields, diffKind, formatChange, formatChanges, jsonEqual } from './config-diff.js';

describe('config diff', () => {
  it('compares JSON regardless of key order', () => {
    assert.ok(jsonEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }));
    assert.ok(!jsonEqual([1, 2], [2, 1]));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!jsonEqual(null, {}));
  });

  it('names changed fields, recursing into objects but not arrays', () => {
    const before = { paths: [{ path: '/a' }], methods: [], upstream: { timeouts: { connect: 1 }, secretHeaders: { A: 'sealed-1', B: 'sealed-2' } } };
    const after = { paths: [{ path: '/b' }], methods: [], upstream: { timeouts: { connect: 2 }, secretHeaders: { A: 'sealed-1', C: 'sealed-3' } } };
    assert.deepEqual(changedFields(before, after), ['paths', 'upstream.secretHeaders.B', 'upstream.secretHeaders.C', 'upstream.timeouts.connect']);
    assert.deepEqual(changedFields(before, structuredClone(before)), []);
  });

  it('diffs a kind into creates, updates and deletes, by name', () => {
    const current = new Map<string, unknown>([
      ['keep', { x: 1 }],
      ['change', { x: 1 }],
      ['gone', { x: 1 }],
    ]);
    const desired = new Map<string, unknown>([
      ['keep', { x: 1 }],
      ['change', { x: 2 }],
      ['added', { x: 1 }],
    ]);
    assert.deepEqual(diffKind('route', current, desired), [
      { action: 'create', kind: 'route', name: 'added' },
      { action: 'update', kind: 'route', name: 'change', fields: ['x'] },
      { action: 'delete', kind: 'route', name: 'gone' },
    ]);
  });

  it('formats changes for humans', () => {
    assert.equal(formatChange({ action: 'create', kind: 'service', name: 'httpbin' }), '+ service httpbin');
    assert.equal(formatChange({ action: 'update', kind: 'route', name: 'x', fields: ['paths', 'methods'] }), '~ route x (paths, methods)');
    assert.equal(formatChange({ action: 'delete', kind: 'route', name: 'y' }), '- route y');
    assert.deepEqual(formatChanges([]), ['No changes.']);
  });
});
