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

  it('refuses bad env values without echoing secrets', async () => {
    await assert.rejects(loadSettings({ env: { PORTCULLIS_HTTPS_PORT: 'http' }, flags: {} }), /PORTCULLIS_HTTPS_PORT must be a port/);
  });
});
