import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../core/errors.js';
import { withLockFile, writeFileAtomic } from './atomic-file.js';
import { assertPrivateMode, formatMode, isPrivateMode, readPrivateFile } from './file-mode.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-atomic-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('private mode check: owner-only passes, any group/other bit fails with a chmod hint', () => {
  assert.ok(isPrivateMode(0o100600));
  assert.ok(isPrivateMode(0o100400));
  assert.ok(!isPrivateMode(0o100644));
  assert.ok(!isPrivateMode(0o100620));
  assert.ok(isPrivateMode(0o100644, 'win32'));
  assert.equal(formatMode(0o100644), '0644');
  assert.throws(
    () => assertPrivateMode(0o100644, '/data/key.pem', 'CA key'),
    (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && /CA key \/data\/key\.pem .*mode 0644.*chmod 600 \/data\/key\.pem/.test(err.message),
  );
});

test('readPrivateFile: null when missing, content when private, error when shared', async () => {
  const dir = await tempDir();
  const path = join(dir, 'k');
  assert.equal(await readPrivateFile(path, 'key'), null);
  await writeFile(path, 'secret', { mode: 0o600 });
  assert.equal((await readPrivateFile(path, 'key'))?.toString(), 'secret');
  await chmod(path, 0o644);
  await assert.rejects(readPrivateFile(path, 'key'), (err: unknown) => err instanceof GatewayError && /chmod 600/.test(err.message) && !err.message.includes('secret'));
  await assert.rejects(readPrivateFile(dir, 'key'), /not a regular file/);
});

test('writeFileAtomic sets the exact mode, replaces by default and leaves no temp files', async () => {
  const dir = await tempDir();
  const path = join(dir, 'f.pem');
  assert.equal(await writeFileAtomic(path, 'one', { mode: 0o644 }), true);
  assert.equal((await stat(path)).mode & 0o777, 0o644);
  assert.equal(await writeFileAtomic(path, 'two', { mode: 0o600 }), true);
  assert.equal(await readFile(path, 'utf8'), 'two');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), ['f.pem']);
});

test('writeFileAtomic with overwrite:false never clobbers', async () => {
  const dir = await tempDir();
  const path = join(dir, 'once');
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => writeFileAtomic(path, v, { mode: 0o600, overwrite: false })));
  assert.equal(results.filter(Boolean).length, 1);
  const winner = ['a', 'b', 'c', 'd'][results.indexOf(true)];
  assert.equal(await readFile(path, 'utf8'), winner);
  assert.deepEqual(await readdir(dir), ['once']);
});

test('writeFileAtomic into a missing directory fails with CONFIG_INVALID', async () => {
  const dir = await tempDir();
  await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'f'), 'x', { mode: 0o600 }), (err: unknown) => err instanceof GatewayError && /ENOENT/.test(err.message));
});

test('withLockFile serialises critical sections and releases on error', async () => {
  const dir = await tempDir();
  const lock = join(dir, '.lock');
  let inside = 0;
  let maxInside = 0;
  const section = async () => {
    inside++;
    maxInside = Math.max(maxInside, inside);
    await sleep(10);
    inside--;
  };
  await Promise.all(Array.from({ length: 5 }, () => withLockFile(lock, section, { pollMs: 5 })));
  assert.equal(maxInside, 1);
  await assert.rejects(withLockFile(lock, async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(await readdir(dir), []);
});

test('withLockFile takes over a stale lock and times out on a live one', async () => {
  const dir = await tempDir();
  const lock = join(dir, '.lock');
  await writeFile(lock, '999999\n');
  const old = new Date(Date.now() - 120_000);
  await utimes(lock, old, old);
  assert.equal(await withLockFile(lock, async () => 'ran', { staleMs: 60_000 }), 'ran');

  await writeFile(lock, '999999\n');
  await assert.rejects(
    withLockFile(lock, async () => 'never', { timeoutMs: 100, pollMs: 10 }),
    (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && err.message.includes(lock),
  );
});
