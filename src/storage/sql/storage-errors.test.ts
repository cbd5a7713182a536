import assert from 'node:assert/strict';
import { it } from 'node:test';
import { errorText, redact, storageError } from './storage-errors.js';

it('redact removes URL passwords and listed secrets', () => {
  assert.equal(redact('cannot reach postgres://app:p%40ss@db:5432/x'), 'cannot reach postgres://app:***@db:5432/x');
  assert.equal(redact('auth failed for p@ss', ['p@ss']), 'auth failed for ***');
});

it('errorText falls back to the code and unwraps AggregateError', () => {
  const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' });
  assert.equal(errorText(refused), 'ECONNREFUSED');
  assert.equal(errorText(new AggregateError([new Error('a'), new Error('b'), new Error('a')], '')), 'a; b');
});

it('storageError builds a STORAGE GatewayError with a redacted message', () => {
  const err = storageError('PostgreSQL', new Error('bad password "hunter2"'), ['hunter2'], 'ping');
  assert.equal(err.code, 'PC_ERR_STORAGE');
  assert.equal(err.message, 'PostgreSQL ping failed: bad password "***"');
});
