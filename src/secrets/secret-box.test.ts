import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { GatewayError } from '../core/errors.js';
import { SEALED_PREFIX, SecretBox, isSealed, sealedKeyId } from './secret-box.js';

const AAD = 'service:default:billing:secretHeaders.authorization';
const key1 = { id: 'k1', key: randomBytes(32) };
const key2 = { id: 'k2', key: randomBytes(32) };

function assertDecryptFails(fn: () => unknown, plaintext?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'PC_ERR_INTERNAL');
    assert.equal(err.message, 'secret could not be decrypted');
    if (plaintext) assert.ok(!JSON.stringify(err.toResponse()).includes(plaintext));
    return true;
  });
}

/** Decodes the payload, lets `mutate` change bytes, re-encodes. */
function tamper(sealed: string, mutate: (payload: Buffer) => Buffer): string {
  const cut = sealed.lastIndexOf(':') + 1;
  const payload = Buffer.from(sealed.slice(cut), 'base64url');
  return sealed.slice(0, cut) + mutate(Buffer.from(payload)).toString('base64url');
}

test('seal/open round trip, wire format and fresh IV per seal', () => {
  const box = new SecretBox({ current: key1 });
  for (const plaintext of ['Bearer sk-live-123', '', 'ünïcødé ✓ 🔐', 'x'.repeat(10_000)]) {
    const sealed = box.seal(plaintext, AAD);
    assert.match(sealed, /^pcenc:v1:k1:[A-Za-z0-9_-]+$/);
    assert.ok(isSealed(sealed));
    assert.equal(sealedKeyId(sealed), 'k1');
    assert.equal(box.open(sealed, AAD), plaintext);
    if (plaintext) assert.ok(!sealed.includes(plaintext));
  }
  const a = box.seal('same', AAD);
  const b = box.seal('same', AAD);
  assert.notEqual(a, b);
  // iv (12) + tag (16) + ciphertext: the IVs differ
  assert.notDeepEqual(Buffer.from(a.slice(a.lastIndexOf(':') + 1), 'base64url').subarray(0, 12), Buffer.from(b.slice(b.lastIndexOf(':') + 1), 'base64url').subarray(0, 12));
  assert.equal(Buffer.from(a.slice(a.lastIndexOf(':') + 1), 'base64url').length, 12 + 16 + 4);
});

test('isSealed recognises only the sealed prefix', () => {
  assert.equal(isSealed(`${SEALED_PREFIX}k:abc`), true);
  assert.equal(isSealed('Bearer abc'), false);
  assert.equal(isSealed(undefined), false);
  assert.equal(isSealed(42), false);
  assert.equal(sealedKeyId('plain'), undefined);
});

test('open with a different AAD fails without revealing the plaintext', () => {
  const box = new SecretBox({ current: key1 });
  const sealed = box.seal('Bearer top-secret', AAD);
  assertDecryptFails(() => box.open(sealed, 'service:default:other:secretHeaders.authorization'), 'top-secret');
  assertDecryptFails(() => box.open(sealed, ''), 'top-secret');
});

test('open with the wrong key fails', () => {
  const sealed = new SecretBox({ current: key1 }).seal('Bearer top-secret', AAD);
  const other = new SecretBox({ current: { id: 'k1', key: randomBytes(32) } });
  assertDecryptFails(() => other.open(sealed, AAD), 'top-secret');
  assertDecryptFails(() => new SecretBox({ current: key2 }).open(sealed, AAD)); // unknown key id
});

test('tampering with IV, tag, ciphertext, key id or encoding fails', () => {
  const box = new SecretBox({ current: key1, previous: [key2] });
  const sealed = box.seal('Bearer top-secret', AAD);
  const flip = (index: number) => (p: Buffer) => {
    p[index] = (p[index] as number) ^ 0x01;
    return p;
  };
  assertDecryptFails(() => box.open(tamper(sealed, flip(0)), AAD)); // IV
  assertDecryptFails(() => box.open(tamper(sealed, flip(12)), AAD)); // tag
  assertDecryptFails(() => box.open(tamper(sealed, flip(30)), AAD)); // ciphertext
  assertDecryptFails(() => box.open(tamper(sealed, (p) => p.subarray(0, p.length - 1)), AAD)); // truncated
  assertDecryptFails(() => box.open(tamper(sealed, (p) => Buffer.concat([p, Buffer.from([0])])), AAD)); // extended
  assertDecryptFails(() => box.open(tamper(sealed, (p) => p.subarray(0, 20)), AAD)); // shorter than iv+tag
  assertDecryptFails(() => box.open(sealed.replace(':k1:', ':k2:'), AAD)); // header is authenticated
  assertDecryptFails(() => box.open(`${sealed}=`, AAD)); // non-canonical encoding
  assertDecryptFails(() => box.open(sealed.replace('pcenc:v1:', 'pcenc:v2:'), AAD));
  assertDecryptFails(() => box.open('Bearer plain', AAD));
  assertDecryptFails(() => box.open('pcenc:v1:k1', AAD));
  assertDecryptFails(() => box.open('pcenc:v1::AAAA', AAD));
  assertDecryptFails(() => box.open('pcenc:v1:k1:not base64!', AAD));
});

test('rotation: previous keys still open old values; reseal moves them to the current key', () => {
  const oldBox = new SecretBox({ current: key1 });
  const sealedOld = oldBox.seal('Bearer rotated', AAD);
  const rotated = new SecretBox({ current: key2, previous: [key1] });
  assert.equal(rotated.currentKeyId, 'k2');
  assert.ok(rotated.hasKey('k1'));
  assert.equal(rotated.open(sealedOld, AAD), 'Bearer rotated');
  assert.equal(sealedKeyId(rotated.seal('new', AAD)), 'k2');

  const resealed = rotated.reseal(sealedOld, AAD);
  assert.equal(sealedKeyId(resealed), 'k2');
  assert.equal(rotated.open(resealed, AAD), 'Bearer rotated');
  assert.equal(rotated.reseal(resealed, AAD), resealed);
  // once the old key is dropped, old values no longer open but resealed ones do
  const retired = new SecretBox({ current: key2 });
  assertDecryptFails(() => retired.open(sealedOld, AAD));
  assert.equal(retired.open(resealed, AAD), 'Bearer rotated');
  assertDecryptFails(() => rotated.reseal(sealedOld, 'elsewhere'));
});

test('constructor validates keys without echoing them', () => {
  const short = randomBytes(31);
  assert.throws(() => new SecretBox({ current: { id: 'k', key: short } }), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'PC_ERR_CONFIG_INVALID');
    assert.ok(!err.message.includes(short.toString('hex')) && !err.message.includes(short.toString('base64')));
    return true;
  });
  assert.throws(() => new SecretBox({ current: { id: 'a:b', key: randomBytes(32) } }), /key id/);
  assert.throws(() => new SecretBox({ current: { id: '', key: randomBytes(32) } }), /key id/);
  assert.throws(() => new SecretBox({ current: key1, previous: [{ id: 'k1', key: randomBytes(32) }] }), /two different keys/);
  assert.doesNotThrow(() => new SecretBox({ current: key1, previous: [key1] }));
});

test('keys are copied and do not appear in inspect or JSON output', () => {
  const material = { id: 'k9', key: randomBytes(32) };
  const original = Buffer.from(material.key);
  const box = new SecretBox({ current: material });
  const sealed = box.seal('v', AAD);
  material.key.fill(0); // caller wipes its copy
  assert.equal(box.open(sealed, AAD), 'v');
  const shown = inspect(box, { depth: 10, showHidden: true }) + JSON.stringify(box);
  assert.ok(!shown.includes(original.toString('hex')));
  assert.ok(!shown.includes(original.toString('base64')));
});
