import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { storeConformance } from '../store.conformance.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeConformance('sqlite (in-memory)', () => openSqliteStore({ path: ':memory:' }));
storeConformance('sqlite (file)', () => openSqliteStore({ path: join(dir, 'conformance', 'portcullis.db') }));

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('SQLite file store', () => {
  it('creates the database, its WAL and its directory owner-only, with WAL on', async () => {
    const path = join(dir, 'nested', 'data', 'portcullis.db');
    const store = await openSqliteStore({ path });
    try {
      await store.migrate();
      await store.transaction(async (tx) => (await tx.tenant('default')).create('service', 'svc', {}));
      assert.equal(mode(path), 0o600);
      assert.equal(mode(join(dir, 'nested', 'data')), 0o700);
      assert.ok(existsSync(`${path}-wal`), 'journal_mode is WAL');
      assert.equal(mode(`${path}-wal`), 0o600);
      assert.equal(mode(`${path}-shm`), 0o600);
    } finally {
      await store.close();
    }
  });

  it('narrows an existing file to 0600 and keeps data across reopen', async () => {
    const path = join(dir, 'reopen.db');
    writeFileSync(path, '', { mode: 0o644 });
    const first = await openSqliteStore({ path });
    assert.equal(mode(path), 0o600);
    await first.migrate();
    await first.transaction(async (tx) => (await tx.tenant('default')).create('route', 'r', { path: '/' }));
    const revision = await first.revision();
    await first.close();

    const second = await openSqliteStore({ path });
    try {
      await second.migrate();
      assert.equal(await second.revision(), revision);
      assert.deepEqual((await (await second.tenant('default')).get('route', 'r'))?.spec, { path: '/' });
    } finally {
      await second.close();
    }
  });

  it('reports an unopenable file as STORAGE', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    await assert.rejects(openSqliteStore({ path: join(blocker, 'x.db') }), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'PC_ERR_STORAGE');
      return true;
    });
  });

  // Sequential on purpose: better-sqlite3 waits for a lock synchronously, so two stores on one file
  // in one process would block each other's event loop (one store per file per process).
  it('two stores on one file see each other through the revision', async () => {
    const path = join(dir, 'shared.db');
    const [a, b] = [await openSqliteStore({ path }), await openSqliteStore({ path })];
    try {
      await a.migrate();
      await b.migrate();
      const before = await b.revision();
      await a.transaction(async (tx) => (await tx.tenant('default')).create('service', 'from-a', {}));
      assert.equal(await b.revision(), before + 1);
      assert.ok(await (await b.tenant('default')).get('service', 'from-a'));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
