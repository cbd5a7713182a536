import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { MASTER_KEY_ENV, decodeMasterKey, loadMasterKey, masterKeyId } from './master-key.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-master-key-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function assertConfigError(err: unknown, mustInclude: RegExp, mustNotInclude: string[] = []): true {
  assert.ok(err instanceof GatewayError, `expected GatewayError, got ${String(err)}`);
  assert.equal(err.code, 'PC_ERR_CONFIG_INVALID');
  assert.match(err.message, mustInclude);
  for (const s of mustNotInclude) assert.ok(!err.message.includes(s), `message must not contain ${s}`);
  return true;
}

test('env key in base64, base64url and hex', async () => {
  const dataDir = await tempDir();
  const key = randomBytes(32);
  for (const encoded of [key.toString('base64'), key.toString('base64url'), key.toString('hex'), key.toString('hex').toUpperCase(), ` ${key.toString('base64')}\n`]) {
    const loaded = await loadMasterKey({ env: { [MASTER_KEY_ENV]: encoded }, dataDir });
    assert.equal(loaded.source, 'env');
    assert.ok(loaded.key.equals(key));
    assert.equal(loaded.id, createHash('sha256').update(key).digest('hex').slice(0, 8));
    assert.equal(loaded.id, masterKeyId(key));
  }
  assert.deepEqual(await readdir(dataDir), [], 'env key must not write a file');
});

test('env key wins over an existing file', async () => {
  const dataDir = await tempDir();
  const fileKey = await loadMasterKey({ env: {}, dataDir });
  const envKey = randomBytes(32);
  const loaded = await loadMasterKey({ env: { [MASTER_KEY_ENV]: envKey.toString('hex') }, dataDir });
  assert.equal(loaded.source, 'env');
  assert.ok(loaded.key.equals(envKey));
  assert.notEqual(loaded.id, fileKey.id);
});

test('invalid env values are rejected with a clear error that does not echo the value', async () => {
  const dataDir = await tempDir();
  const bad = [
    'hunter2-super-secret-value',
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64'),
    randomBytes(16).toString('hex'),
    `${randomBytes(32).toString('hex')}zz`,
    '',
  ];
  for (const value of bad) {
    await assert.rejects(loadMasterKey({ env: { [MASTER_KEY_ENV]: value }, dataDir }), (err) =>
      assertConfigError(err, /PORTCULLIS_MASTER_KEY is not a valid master key.*32 bytes.*hex.*base64/, value ? [value] : []),
    );
  }
  assert.equal(decodeMasterKey('not a key'), null);
});

test('generates master.key with mode 0600 on first use, then reuses it', async () => {
  const dataDir = join(await tempDir(), 'nested', 'data');
  const first = await loadMasterKey({ env: {}, dataDir });
  assert.equal(first.source, 'generated');
  assert.equal(first.key.length, 32);
  const path = join(dataDir, 'master.key');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  assert.ok(decodeMasterKey(await readFile(path, 'utf8'))?.equals(first.key));

  const second = await loadMasterKey({ env: {}, dataDir });
  assert.equal(second.source, 'file');
  assert.ok(second.key.equals(first.key));
  assert.equal(second.id, first.id);
  assert.deepEqual(await readdir(dataDir), ['master.key'], 'no temporary files left behind');
});

test('an existing hex key file is accepted', async () => {
  const dataDir = await tempDir();
  const key = randomBytes(32);
  await writeFile(join(dataDir, 'master.key'), `${key.toString('hex')}\n`, { mode: 0o600 });
  const loaded = await loadMasterKey({ env: {}, dataDir });
  assert.equal(loaded.source, 'file');
  assert.ok(loaded.key.equals(key));
});

test('a group/world accessible master.key is refused with a chmod 600 hint', async () => {
  const dataDir = await tempDir();
  const { key } = await loadMasterKey({ env: {}, dataDir });
  const path = join(dataDir, 'master.key');
  for (const mode of [0o644, 0o640, 0o604, 0o620]) {
    await chmod(path, mode);
    await assert.rejects(loadMasterKey({ env: {}, dataDir }), (err) =>
      assertConfigError(err, new RegExp(`chmod 600 ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), [key.toString('base64'), key.toString('hex')]),
    );
  }
  await chmod(path, 0o400);
  assert.ok((await loadMasterKey({ env: {}, dataDir })).key.equals(key));
});

test('a master.key with invalid content is refused without echoing it', async () => {
  const dataDir = await tempDir();
  await writeFile(join(dataDir, 'master.key'), 'password123-not-a-key\n', { mode: 0o600 });
  await assert.rejects(loadMasterKey({ env: {}, dataDir }), (err) => assertConfigError(err, /master key file .* is not a valid master key/, ['password123']));
});

test('concurrent first use in one process yields a single key', async () => {
  const dataDir = await tempDir();
  const results = await Promise.all(Array.from({ length: 12 }, () => loadMasterKey({ env: {}, dataDir })));
  const ids = new Set(results.map((r) => r.id));
  assert.equal(ids.size, 1);
  assert.equal(results.filter((r) => r.source === 'generated').length, 1);
  const onDisk = decodeMasterKey(await readFile(join(dataDir, 'master.key'), 'utf8'));
  assert.ok(onDisk?.equals(results[0]!.key));
  assert.deepEqual(await readdir(dataDir), ['master.key']);
});

function childLoad(dataDir: string): Promise<string> {
  const moduleUrl = new URL('./master-key.ts', import.meta.url).href;
  const code = `const { loadMasterKey } = await import(${JSON.stringify(moduleUrl)});
    const k = await loadMasterKey({ env: {}, dataDir: ${JSON.stringify(dataDir)} });
    process.stdout.write(k.id + ' ' + k.source);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errOut = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${errOut}`))));
  });
}

test('concurrent first use in several processes yields a single key', async () => {
  const dataDir = await tempDir();
  const results = await Promise.all(Array.from({ length: 4 }, () => childLoad(dataDir)));
  const ids = new Set(results.map((r) => r.split(' ')[0]));
  assert.equal(ids.size, 1, results.join(', '));
  assert.equal(results.filter((r) => r.endsWith('generated')).length, 1, results.join(', '));
  const mine = await loadMasterKey({ env: {}, dataDir });
  assert.ok(ids.has(mine.id));
});
