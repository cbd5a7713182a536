import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { openStore } from './open-store.js';
import type { Store } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function rejectsWith(promise: Promise<unknown>, code: string, secret?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, code, err.message);
    if (secret) assert.ok(!err.message.includes(secret), `message leaks the password: ${err.message}`);
    return true;
  });
}

async function withStore(store: Store, fn: (s: Store) => Promise<void>): Promise<void> {
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('openStore', () => {
  it('defaults to SQLite at <dataDir>/portcullis.db, creating the directory', async () => {
    const dataDir = join(dir, 'data');
    await withStore(await openStore({ dataDir }), async (s) => {
      assert.equal(s.backend, 'sqlite');
      await s.migrate();
      assert.ok(existsSync(join(dataDir, 'portcullis.db')));
    });
    await withStore(await openStore({ dataDir, databaseUrl: '  ' }), async (s) => assert.equal(s.backend, 'sqlite'));
  });

  it('opens SQLite for sqlite: and file: URLs', async () => {
    await withStore(await openStore({ dataDir: dir, databaseUrl: `sqlite:${join(dir, 'a.db')}` }), async (s) => {
      await s.migrate();
      assert.ok(existsSync(join(dir, 'a.db')));
    });
    await withStore(await openStore({ dataDir: dir, databaseUrl: `sqlite://${join(dir, 'b.db')}` }), async () => {
      assert.ok(existsSync(join(dir, 'b.db')));
    });
    await withStore(await openStore({ dataDir: dir, databaseUrl: pathToFileURL(join(dir, 'c.db')).href }), async () => {
      assert.ok(existsSync(join(dir, 'c.db')));
    });
    await withStore(await openStore({ dataDir: dir, databaseUrl: 'sqlite::memory:' }), async (s) => {
      await s.migrate();
      assert.equal(s.backend, 'sqlite');
    });
  });

  it('opens PostgreSQL for postgres:// and postgresql:// URLs, connecting lazily', async () => {
    for (const scheme of ['postgres', 'postgresql', 'POSTGRES']) {
      await withStore(await openStore({ dataDir: dir, databaseUrl: `${scheme}://u:p@127.0.0.1:1/db`, schema: 's1' }), async (s) => {
        assert.equal(s.backend, 'postgres');
      });
    }
  });

  it('reports an unreachable PostgreSQL as STORAGE without the password', async () => {
    await withStore(await openStore({ dataDir: dir, databaseUrl: 'postgres://admin:hunter2pw@127.0.0.1:1/db' }), async (s) => {
      await rejectsWith(s.ping(), 'PC_ERR_STORAGE', 'hunter2pw');
      await rejectsWith(s.migrate(), 'PC_ERR_STORAGE', 'hunter2pw');
    });
  });

  it('rejects unknown schemes, bare paths and malformed URLs with CONFIG_INVALID, never echoing the password', async () => {
    await rejectsWith(openStore({ dataDir: dir, databaseUrl: 'mysql://root:s3cretpw@db/portcullis' }), 'PC_ERR_CONFIG_INVALID', 's3cretpw');
    await rejectsWith(openStore({ dataDir: dir, databaseUrl: './portcullis.db' }), 'PC_ERR_CONFIG_INVALID');
    await rejectsWith(openStore({ dataDir: dir, databaseUrl: 'sqlite:' }), 'PC_ERR_CONFIG_INVALID');
    await rejectsWith(openStore({ dataDir: dir, databaseUrl: 'postgres://u:s3cretpw@host:notaport/db' }), 'PC_ERR_CONFIG_INVALID', 's3cretpw');
    await rejectsWith(openStore({ dataDir: dir, databaseUrl: 'postgres://u:p@h/db', schema: 'bad"schema' }), 'PC_ERR_CONFIG_INVALID');
  });
});
