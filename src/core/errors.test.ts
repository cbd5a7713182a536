import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayError } from './errors.js';

test('error registry renders the wire shape', () => {
  const e = gatewayError('ROUTE_NOT_FOUND');
  assert.deepEqual(e.toResponse(), { error: { type: 'route_not_found', code: 'PC_ERR_ROUTE_NOT_FOUND', message: 'No route matches this request' } });
  assert.equal(e.status, 404);
});
