/**
 * Onboarding an application from the command line, as the tenants guide tells it: app, key,
 * subscription, approval, a curl call, revocation; admin tokens; and `portcullis audit verify`
 * catching a row edited behind the gateway's back.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCommand, simpleDoc, startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')];

const run = runCommand;

describe('CLI: onboarding an application, admin tokens, audit verification', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [...BIN, ...args], env);
  const curl = async (...args: string[]) => {
    const r = await run('curl', ['-sS', '--max-time', '10', '--cacert', join(gw.dataDir, 'ca.pem'), '-o', '/dev/null', '-w', '%{http_code}', ...args]);
    return Number(r.stdout);
  };

  before(async () => {
    gw = await startGateway({ settings: { auth: { lastUsedFlushInterval: 100 } } });
    up = await startUpstream();
    env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: gw.token, PORTCULLIS_CA_FILE: join(gw.dataDir, 'ca.pem') };
    await gw.apply(simpleDoc(up.url, { service: { access: { methods: ['api-key'], approval: 'manual' } } }));
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('creates an app and a key, subscribes, approves, calls, revokes', async () => {
    const app = await cli('app', 'create', 'billing', '--description', 'Billing service');
    assert.equal(app.code, 0, app.stderr);
    const key = await cli('key', 'create', '--app', 'billing', '--expires-in', '30d');
    assert.equal(key.code, 0, key.stderr);
    const apiKey = /api key: (pck_\S+)/.exec(key.stdout)?.[1];
    const keyId = /credential (\S+) \(api-key\)/.exec(key.stdout)?.[1];
    assert.ok(apiKey && keyId, key.stdout);
    const url = `${gw.httpsUrl}/echo`;
    assert.equal(await curl('-H', `x-api-key: ${apiKey}`, url), 403);

    const sub = await cli('subscription', 'request', '--app', 'billing', '--service', 'echo');
    assert.equal(sub.code, 0, sub.stderr);
    const subId = /subscription (\S+): pending/.exec(sub.stdout)?.[1];
    assert.ok(subId, sub.stdout);
    const pending = await cli('subscription', 'list', '--incoming', '--status', 'pending');
    assert.match(pending.stdout, new RegExp(subId));
    assert.equal((await cli('subscription', 'approve', subId, '--comment', 'ok for Q4')).code, 0);
    assert.equal(await curl('-H', `x-api-key: ${apiKey}`, url), 200);
    assert.equal(await curl('-H', `authorization: Bearer ${apiKey}`, url), 200);

    await waitFor(async () => /\d{4}-\d\d-\d\dT/.test((await cli('key', 'list', '--app', 'billing')).stdout.split('\n')[1] ?? ''), 5000, 'lastUsedAt');
    const listed = await cli('key', 'list', '--json');
    assert.ok(!listed.stdout.includes(apiKey), 'the key is never listed');

    assert.equal((await cli('key', 'revoke', keyId, '--reason', 'left the company')).code, 0);
    assert.equal(await curl('-H', `x-api-key: ${apiKey}`, url), 401);
  });

  it('issues a tenant-scoped token that cannot reach other tenants', async () => {
    const t = await cli('token', 'create', '--name', 'ci', '--role', 'viewer', '--tenant', 'default', '--expires-in', '1h');
    assert.equal(t.code, 0, t.stderr);
    const token = /token: (pca_\S+)/.exec(t.stdout)?.[1];
    assert.ok(token);
    const asViewer = (...args: string[]) => run(process.execPath, [...BIN, ...args], { ...env, PORTCULLIS_ADMIN_TOKEN: token });
    assert.equal((await asViewer('app', 'list')).code, 0);
    const denied = await asViewer('app', 'create', 'nope');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /viewer role does not have the applications.write permission/);
    const other = await asViewer('app', 'list', '--tenant', 'someone-else');
    assert.equal(other.code, 1);
    assert.match(other.stderr, /Tenant "someone-else" not found/);
  });

  it('exports the audit trail and detects an edited entry', async () => {
    const file = join(gw.dataDir, 'audit.jsonl');
    const exported = await cli('audit', 'export', '--out', file);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string; hash: string });
    assert.ok(lines.some((e) => e.action === 'subscription.approve'));
    assert.ok(lines.some((e) => e.action === 'credential.revoke'));
    const head = lines.at(-1)!;

    const ok = await cli('audit', 'verify', '--expect-head', `${head.seq}:${head.hash}`);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /audit chain intact/);

    const db = new Database(join(gw.dataDir, 'portcullis.db'));
    const target = lines.find((e) => e.action === 'credential.revoke')!;
    const row = db.prepare('select entry from audit_log where seq = ?').get(target.seq) as { entry: string };
    db.prepare('update audit_log set entry = ? where seq = ?').run(row.entry.replace('left the company', 'routine'), target.seq);
    db.close();
    const broken = await cli('audit', 'verify');
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, new RegExp(`BROKEN at entry ${target.seq} \\(edited\\)`));
    await writeFile(file, '');
  });
});
