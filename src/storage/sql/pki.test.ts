import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseSerial } from './pki.js';

describe('normaliseSerial', () => {
  it('gives one form for the ways tools print a serial: whole bytes, upper case, no sign byte', () => {
    assert.equal(normaliseSerial('e12f32dae628f95b365b6f5ec873dd5'), '0E12F32DAE628F95B365B6F5EC873DD5');
    assert.equal(normaliseSerial('0E:12:F3'), '0E12F3');
    assert.equal(normaliseSerial('008AFF'), '8AFF');
    assert.equal(normaliseSerial('00'), '00');
    assert.equal(normaliseSerial('xyz'), '');
  });
});
