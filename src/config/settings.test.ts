import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { loadSettings } from './settings.js';

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-settings-'));
  const p = join(dir, 'settings.yaml');
  await writeFile(p, text);
  return p;
}

describe('loadSettings', () => {
  it('has safe defaults with no file', async () => {
    const s = await loadSettings({ env: {}, flags: {}, cwd: '/srv' });
    assert.equal(s.dataDir, '/srv/.portcullis');
    assert.equal(s.https.port, 8443);
    assert.equal(s.http.port, 8080);
    assert.equal(s.admin.port, 9443);
    assert.equal(s.admin.host, '127.0.0.1');
    assert.equal(s.limits.maxBodySize, 10 * 1024 * 1024);
    assert.deepEqual(s.trustedProxies, []);
  });

  it('layers file < env < flags', async () => {
    const f = await file('https:\n  port: 1000\nhttp:\n  port: 1001\nadmin:\n  port: 1002\nlimits:\n  maxBodySize: 1mb\n  requestTimeout: 2m\n');
    const s = await loadSettings({ env: { PORTCULLIS_CONFIG: f, PORTCULLIS_HTTP_PORT: '2001', PORTCULLIS_ADMIN_PORT: '2002' }, flags: { adminPort: 3002 } });
    assert.equal(s.https.port, 1000);
    assert.equal(s.http.port, 2001);
    assert.equal(s.admin.port, 3002);
    assert.equal(s.limits.maxBodySize, 1024 * 1024);
    assert.equal(s.limits.requestTimeout, 120_000);
  });

  it('points at the line and column of a bad value, and of a syntax error', async () => {
    const bad = await file('https:\n  port: 8443\nlimits:\n  maxBodySize: lots\n');
    await assert.rejects(loadSettings({ env: {}, flags: { configFile: bad } }), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.match(e.message, /settings\.yaml:4:16: limits\.maxBodySize/);
      return true;
    });
    const syntax = await file('https:\n  port: [1,\n');
    await assert.rejects(loadSettings({ env: {}, flags: { configFile: syntax } }), /settings\.yaml:\d+:\d+/);
    const unknown = await file('htps:\n  port: 1\n');
    await assert.rejects(loadSettings({ env: {}, flags: { configFile: unknown } }), /settings\.yaml:1:1/);
  });

  it('defaults every TLS listener to the strict policy and HSTS on', async () => {
    const s = await loadSettings({ env: {}, flags: {} });
    assert.deepEqual(s.https.tls, { minVersion: 'TLSv1.2' });
    assert.deepEqual(s.admin.tls, { minVersion: 'TLSv1.2' });
    assert.deepEqual(s.https.hsts, { enabled: true, maxAge: 31_536_000, includeSubDomains: false, preload: false });
    assert.equal('tls' in s.http, false, 'the plain-HTTP listener has no TLS policy');
    const partial = await loadSettings({ env: {}, flags: { configFile: await file('https:\n  port: 1\n  hsts:\n    includeSubDomains: true\n') } });
    assert.deepEqual(partial.https.tls, { minVersion: 'TLSv1.2' });
    assert.deepEqual(partial.https.hsts, { enabled: true, maxAge: 31_536_000, includeSubDomains: true, preload: false });
  });

  it('accepts narrower TLS policies per listener', async () => {
    const f = await file('https:\n  tls:\n    minVersion: TLSv1.3\n    curves: X25519:secp384r1\nadmin:\n  tls:\n    ciphers: ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384\n');
    const s = await loadSettings({ env: {}, flags: { configFile: f } });
    assert.deepEqual(s.https.tls, { minVersion: 'TLSv1.3', curves: 'X25519:secp384r1' });
    assert.deepEqual(s.admin.tls, { minVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384' });
  });

  it('refuses anything that would allow TLS below 1.2 or weaker suites and curves, with line and column', async () => {
    const cases: Array<[string, RegExp]> = [
      ['https:\n  tls:\n    minVersion: TLSv1.1\n', /settings\.yaml:3:17: https\.tls\.minVersion: must be TLSv1\.2 or TLSv1\.3/],
      ['https:\n  tls:\n    minVersion: TLSv1\n', /https\.tls\.minVersion/],
      ['admin:\n  tls:\n    minVersion: SSLv3\n', /admin\.tls\.minVersion/],
      ['https:\n  tls:\n    ciphers: ECDHE-ECDSA-AES128-SHA\n', /settings\.yaml:3:14: https\.tls\.ciphers: ECDHE-ECDSA-AES128-SHA: only ECDHE \+ AEAD/],
      ['https:\n  tls:\n    ciphers: AES128-GCM-SHA256\n', /https\.tls\.ciphers: AES128-GCM-SHA256/],
      ['https:\n  tls:\n    ciphers: "HIGH:!aNULL"\n', /https\.tls\.ciphers/],
      ['https:\n  tls:\n    ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0"\n', /@SECLEVEL=0/],
      ['https:\n  tls:\n    ciphers: TLS_AES_128_GCM_SHA256\n', /names no TLS 1\.2 suite while minVersion is TLSv1\.2/],
      ['https:\n  tls:\n    curves: X25519:secp192r1\n', /https\.tls\.curves: secp192r1/],
      ['https:\n  tls:\n    maxVersion: TLSv1.1\n', /settings\.yaml:3:5/],
      ['http:\n  tls:\n    minVersion: TLSv1.2\n', /settings\.yaml:2:3/],
      ['https:\n  hsts:\n    preload: true\n', /https\.hsts\.preload: requires includeSubDomains/],
      ['https:\n  hsts:\n    maxAge: -1\n', /https\.hsts\.maxAge/],
    ];
    for (const [text, expected] of cases) {
      const f = await file(text);
      await assert.rejects(loadSettings({ env: {}, flags: { configFile: f } }), (e: unknown) => {
        assert.ok(e instanceof GatewayError, String(e));
        assert.match(e.message, expected, text);
        return true;
      });
    }
    // A TLS 1.3-only policy may name TLS 1.3 suites alone.
    const ok = await file('https:\n  tls:\n    minVersion: TLSv1.3\n    ciphers: TLS_AES_256_GCM_SHA384\n');
    assert.equal((await loadSettings({ env: {}, flags: { configFile: ok } })).https.tls.ciphers, 'TLS_AES_256_GCM_SHA384');
  });

  it('refuses bad env values without echoing secrets', async () => {
    await assert.rejects(loadSettings({ env: { PORTCULLIS_HTTPS_PORT: 'http' }, flags: {} }), /PORTCULLIS_HTTPS_PORT must be a port/);
  });

  it('monitors certificate expiry by default: 30, 14, 7 and 1 days, hourly, no webhook', async () => {
    const s = await loadSettings({ env: {}, flags: {} });
    assert.deepEqual(s.pki.expiry, { thresholds: [30, 14, 7, 1], checkInterval: 3_600_000 });
    const f = await file('pki:\n  expiry:\n    thresholds: [1, 60, 7, 7]\n    checkInterval: 10m\n    webhook: { url: "https://hooks.example.com/x", secret: "0123456789abcdef" }\n');
    const custom = await loadSettings({ env: {}, flags: { configFile: f } });
    assert.deepEqual(custom.pki.expiry, { thresholds: [60, 7, 1], checkInterval: 600_000, webhook: { url: 'https://hooks.example.com/x', secret: '0123456789abcdef' } });
  });

  it('refuses a webhook without a secret of 16 characters, and checks more often than every second', async () => {
    const cases: Array<[string, RegExp]> = [
      ['webhook: { url: "https://h.example.com" }', /pki\.expiry\.webhook\.secret/],
      ['webhook: { url: "https://h.example.com", secret: "short" }', /at least 16 characters/],
      ['webhook: { url: "ftp://h.example.com", secret: "0123456789abcdef" }', /pki\.expiry\.webhook\.url/],
      ['checkInterval: 10ms', /pki\.expiry\.checkInterval/],
      ['thresholds: [0]', /pki\.expiry\.thresholds/],
    ];
    for (const [yaml, message] of cases) {
      const f = await file(`pki:\n  expiry:\n    ${yaml}\n`);
      await assert.rejects(loadSettings({ env: {}, flags: { configFile: f } }), (e: unknown) => e instanceof GatewayError && message.test(`${e.message} ${JSON.stringify(e.details)}`), yaml);
    }
  });
});
