/**
 * The Quick start, as a user runs it: `portcullis start` with no config file, then `apply`, `export`
 * and a request with curl, then SIGTERM. Real processes, real curl, real certificates.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, type TestUpstream } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')];

interface Running {
  child: ChildProcess;
  stderr: () => string;
  /** What it wrote to stdout: the access log. */
  stdout: () => string;
  urls: { https: string; http: string; admin: string };
  token: string | undefined;
}

async function startCli(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [...BIN, 'start', '--data-dir', dataDir, '--https-port', '0', '--http-port', '0', '--admin-port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: '', PORTCULLIS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!/Try it:/.test(err)) {
    if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`start did not print its banner: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = (label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(err)![1]!;
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    urls: { https: url('HTTPS data plane'), http: url('HTTP \\(redirects\\)'), admin: url('Admin API').replace(/\/admin\/v1$/, '') },
    token: /Admin token[^\n]*\n\s+(pca_\S+)/.exec(err)?.[1],
  };
}

function stopCli(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    if (r.child.exitCode !== null) return resolve(r.child.exitCode);
    r.child.once('exit', (code) => resolve(code));
    r.child.kill('SIGTERM');
  });
}

/** Runs the CLI from the repository root (where tsx resolves); file arguments are absolute. */
/** Runs a command asynchronously: the upstream lives in this process and must keep answering. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [...BIN, ...args], env);
}

function curl(args: string[]) {
  return run('curl', ['-sS', '--max-time', '10', ...args]);
}

describe('CLI quick start', () => {
  let dataDir: string;
  let work: string;
  let upstream: TestUpstream;
  let gw: Running;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
    dataDir = join(work, '.portcullis');
    upstream = await startUpstream((req, res) => res.end(`hello from ${req.url}\n`));
    gw = await startCli(dataDir);
  });

  after(async () => {
    if (gw) await stopCli(gw);
    await upstream.close();
    await rm(work, { recursive: true, force: true });
  });

  it('starts with no config file: data dir, CA, keys with safe modes, token printed once', async () => {
    assert.ok(gw.token, `no admin token in the banner:\n${gw.stderr()}`);
    assert.match(gw.stderr(), /--cacert \S+ca\.pem/);
    for (const [file, mode] of [
      ['ca.pem', 0o644],
      ['ca-key.pem', 0o600],
      ['server-key.pem', 0o600],
      ['master.key', 0o600],
      ['portcullis.db', 0o600],
    ] as const) {
      const s = await stat(join(dataDir, file));
      assert.equal(s.mode & 0o777, mode, `${file} has mode ${(s.mode & 0o777).toString(8)}`);
    }
    const ready = await curl(['--cacert', join(dataDir, 'ca.pem'), `${gw.urls.admin}/readyz`]);
    assert.equal(ready.code, 0, ready.stderr);
    assert.match(ready.stdout, /ready|ok/);
  });

  it('applies a YAML file idempotently, exports it back, and serves the route over HTTPS', async () => {
    const file = join(work, 'gateway.yaml');
    await writeFile(
      file,
      `services:\n  - name: hello\n    upstream:\n      targets: [{ url: ${upstream.url} }]\n    routes:\n      - name: hello\n        paths: [/hello]\n        methods: [GET]\n`,
    );
    const env = { PORTCULLIS_ADMIN_TOKEN: gw.token!, PORTCULLIS_ADMIN_URL: gw.urls.admin, PORTCULLIS_DATA_DIR: dataDir };
    const dry = await cli(['apply', '-f', file, '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\+ service hello/);
    assert.match(dry.stdout, /dry run/i);
    const applied = await cli(['apply', '-f', file], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /\+ route hello/);
    const again = await cli(['apply', '-f', file], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /No changes\./);

    const res = await curl(['--cacert', join(dataDir, 'ca.pem'), `${gw.urls.https}/hello/world?x=1`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'hello from /hello/world?x=1\n');

    const exported = await cli(['export'], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /name: hello/);
    const exportFile = join(work, 'exported.yaml');
    await writeFile(exportFile, exported.stdout);
    const roundTrip = await cli(['apply', '-f', exportFile], env);
    assert.match(roundTrip.stdout, /No changes\./);
  });

  it('reports YAML errors with line and column and changes nothing', async () => {
    const env = { PORTCULLIS_ADMIN_TOKEN: gw.token!, PORTCULLIS_ADMIN_URL: gw.urls.admin, PORTCULLIS_DATA_DIR: dataDir };
    const broken = join(work, 'broken.yaml');
    await writeFile(broken, 'services:\n  - name: x\n    upstream: [unclosed\n');
    const r = await cli(['apply', '-f', broken], env);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /broken\.yaml:\d+:\d+/);
    const invalid = join(work, 'invalid.yaml');
    await writeFile(invalid, 'services:\n  - name: x\n    upstream:\n      targets: [{ url: ftp://nope }]\n    routes: []\n');
    const v = await cli(['apply', '-f', invalid], env);
    assert.equal(v.code, 1);
    assert.match(v.stdout + v.stderr, /invalid\.yaml:4:/);
    const still = await cli(['apply', '-f', join(work, 'gateway.yaml')], env);
    assert.match(still.stdout, /No changes\./);
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `${gw.urls.http}/hello?a=b`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^308 https:\/\/127\.0\.0\.1:\d+\/hello\?a=b$/);
  });

  it('prints help for every command and refuses unknown ones', async () => {
    for (const cmd of ['start', 'apply', 'export', 'version']) {
      const r = await cli([cmd, '--help']);
      assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage: portcullis/);
    }
    assert.match((await cli(['version'])).stdout, /^portcullis \d+\.\d+\.\d+/);
    assert.equal((await cli(['frobnicate'])).code, 2);
    assert.equal((await cli(['start', '--no-such-flag'])).code, 2);
  });

  it('exits 0 on SIGTERM with every access-log line written, and a restart reuses the CA and prints no new token', async () => {
    const before = gw;
    const code = await stopCli(gw);
    assert.equal(code, 0);
    const lines = before.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log?: string; path?: string; status?: number });
    assert.ok(lines.some((l) => l.log === 'access' && l.path === '/hello/world' && l.status === 200), 'the buffered access log is flushed at shutdown');
    const caBefore = (await stat(join(dataDir, 'ca.pem'))).mtimeMs;
    gw = await startCli(dataDir);
    assert.equal(gw.token, undefined);
    assert.equal((await stat(join(dataDir, 'ca.pem'))).mtimeMs, caBefore);
    const res = await curl(['--cacert', join(dataDir, 'ca.pem'), `${gw.urls.https}/hello/again`]);
    assert.equal(res.stdout, 'hello from /hello/again\n', 'config survived the restart');
  });

  it('refuses a bad settings file with its line and column', async () => {
    const settings = join(work, 'settings.yaml');
    await writeFile(settings, 'https:\n  port: "not a port"\n');
    const r = await cli(['start', '--config', settings, '--data-dir', join(work, 'other')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /settings\.yaml:2:9/);
  });
});
