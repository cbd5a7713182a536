import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { checkTlsPolicy, listenerTlsOptions, STRICT_CURVES, STRICT_TLS12_CIPHERS, strictTlsOptions, TLS13_CIPHERSUITES } from './tls-policy.js';
import { checkHsts, DEFAULT_HSTS, hstsHeaderValue } from './hsts.js';

describe('listener TLS policy', () => {
  it('defaults to the strict policy, with tickets left on', () => {
    const o = listenerTlsOptions();
    assert.deepEqual(o, strictTlsOptions());
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.maxVersion, 'TLSv1.3');
    assert.equal(o.ciphers, `${TLS13_CIPHERSUITES}:${STRICT_TLS12_CIPHERS}`);
    assert.equal(o.honorCipherOrder, true);
    assert.equal(o.ecdhCurve, STRICT_CURVES);
    assert.equal('secureOptions' in o, false, 'no SSL_OP_NO_TICKET or other option forced here');
    createSecureContext(o); // OpenSSL accepts it
  });

  it('narrows and reorders: TLS 1.2 names, TLS 1.3 names, curve aliases', () => {
    const o = listenerTlsOptions({ minVersion: 'TLSv1.2', ciphers: 'ecdhe-rsa-chacha20-poly1305:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384', curves: 'secp384r1:x25519' });
    assert.equal(o.ciphers, 'TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384');
    assert.equal(o.ecdhCurve, 'P-384:X25519');
    createSecureContext(o);
    // Without TLS 1.3 names, the default TLS 1.3 suites stay (an empty list would disable TLS 1.3).
    assert.equal(listenerTlsOptions({ minVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }).ciphers, `${TLS13_CIPHERSUITES}:ECDHE-ECDSA-AES128-GCM-SHA256`);
    assert.equal(listenerTlsOptions({ minVersion: 'TLSv1.3' }).minVersion, 'TLSv1.3');
  });

  it('refuses anything weaker', () => {
    assert.deepEqual(checkTlsPolicy({ minVersion: 'TLSv1.2' }), []);
    assert.equal(checkTlsPolicy({ minVersion: 'TLSv1.1' as 'TLSv1.2' })[0]?.field, 'minVersion');
    for (const ciphers of ['ECDHE-RSA-AES128-SHA', 'AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'ALL', 'DEFAULT@SECLEVEL=0', 'TLS_AES_128_CCM_8_SHA256:ECDHE-RSA-AES128-GCM-SHA256', '']) {
      assert.equal(checkTlsPolicy({ minVersion: 'TLSv1.2', ciphers })[0]?.field, 'ciphers', ciphers);
    }
    for (const curves of ['secp192r1', 'brainpoolP256r1', 'ffdhe2048', '']) {
      assert.equal(checkTlsPolicy({ minVersion: 'TLSv1.2', curves })[0]?.field, 'curves', curves);
    }
    assert.throws(() => listenerTlsOptions({ minVersion: 'TLSv1.2', ciphers: 'AES128-SHA' }), /invalid TLS policy: ciphers/);
  });
});

describe('HSTS', () => {
  it('renders the header value', () => {
    assert.equal(hstsHeaderValue(DEFAULT_HSTS), 'max-age=31536000');
    assert.equal(hstsHeaderValue({ enabled: true, maxAge: 63072000, includeSubDomains: true, preload: true }), 'max-age=63072000; includeSubDomains; preload');
    assert.equal(hstsHeaderValue({ ...DEFAULT_HSTS, enabled: false }), undefined);
    assert.equal(hstsHeaderValue(undefined), undefined);
  });

  it('refuses a preload request the preload list would refuse', () => {
    assert.deepEqual(checkHsts({ enabled: true, maxAge: 31536000, includeSubDomains: true, preload: true }), []);
    assert.equal(checkHsts({ enabled: true, maxAge: 31536000, includeSubDomains: false, preload: true }).length, 1);
    assert.equal(checkHsts({ enabled: true, maxAge: 86400, includeSubDomains: true, preload: true }).length, 1);
    assert.deepEqual(checkHsts({ enabled: false, maxAge: 0, includeSubDomains: false, preload: true }), []);
  });
});
