/**
 * Tamper detection against real databases: entries are appended through a store, then changed with
 * raw SQL (as someone with write access to the database but not the chain key would), and
 * `verifyAuditChain` must name the first break. Runs on SQLite and on PostgreSQL (mandatory in CI,
 * skipped loudly elsewhere when unreachable; see `postgresTestUrl`).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../storage/postgres/postgres-store.js';
import { postgresTestUrl, withTestSchema } from '../storage/postgres/test-database.js';
import { auditBody } from '../storage/sql/audit-log.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { AuditEntryInput, AuditRawRow, Store } from '../storage/store.js';
import { auditLinker, verifyAuditChain, type ChainReport } from './audit-chain.js';

/** A fresh, migrated store on its own database, with raw SQL access to that database. */
interface Tamperable {
  readonly store: Store;
  /** Runs one statement; parameters are written `?`. */
  exec(text: string, params?: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'portcullis-tamper-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function freshSqlite(): Promise<Tamperable> {
  const path = join(dir, `${randomUUID()}.db`);
  const store = await openSqliteStore({ path });
  await store.migrate();
  // A second connection on the file, used only while the store is idle (no lock is ever waited for).
  const raw = new Sqlite(path);
  return {
    store,
    exec: async (text, params = []) => void raw.prepare(text).run(...params),
    close: async () => {
      raw.close();
      await store.close();
    },
  };
}

function postgresOpener(url: string): () => Promise<Tamperable> {
  return async () => {
    const schema = withTestSchema(url);
    const store = await openPostgresStore({ url, schema: schema.schema, poolSize: 2 });
    await store.migrate();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`set search_path to "${schema.schema}"`);
    return {
      store,
      exec: async (text, params = []) => {
        let n = 0;
        await client.query(text.replace(/\?/g, () => `$${++n}`), [...params]);
      },
      close: async () => {
        await client.end();
        await store.close();
        await schema.drop();
      },
    };
  };
}

const link = auditLinker(randomBytes(32));

function entry(n: number): AuditEntryInput {
  return {
    tenant: n % 3 === 0 ? null : `tenant-${n % 2}`,
    actor: { id: 'token-1', name: 'ops', role: 'platform-admin', tenant: null },
    action: `service.update-${n}`,
    object: { kind: 'service', name: `svc-${n}` },
    diff: { before: { n }, after: { n: n + 1 } },
    sourceIp: '198.51.100.7',
    details: null,
  };
}

/** Appends entries 1..10 (two direct appends around a transactional one) and returns the stored rows. */
async function tenEntries(store: Store): Promise<AuditRawRow[]> {
  await store.audit.append([1, 2, 3, 4].map(entry), link);
  await store.transaction((tx) => tx.audit([5, 6, 7].map(entry), link));
  await store.audit.append([8, 9, 10].map(entry), link);
  const rows = await store.audit.raw(0, 100);
  assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  return rows;
}

/** Verifies with several page sizes (breaks may sit on a page boundary) and checks they agree. */
async function verify(store: Store): Promise<ChainReport> {
  const reports = [];
  for (const pageSize of [1000, 5, 3, 1]) reports.push(await verifyAuditChain((afterSeq, limit) => store.audit.raw(afterSeq, limit), link, pageSize));
  for (const r of reports.slice(1)) assert.deepEqual(r, reports[0], 'the page size changes nothing');
  return reports[0]!;
}

function assertProblem(report: ChainReport, kind: string, seq: number, checked: number): void {
  assert.equal(report.ok, false);
  assert.deepEqual([report.problem?.kind, report.problem?.seq], [kind, seq], report.problem?.message);
  assert.equal(report.entries, checked, 'entries checked before the break');
  assert.equal(report.head?.seq, checked === 0 ? undefined : checked);
}

/** Moves rows with seq >= `from` by `by` (two steps, so the primary key never collides mid-statement). */
async function renumber(db: Tamperable, from: number, by: number): Promise<void> {
  await db.exec('update audit_log set seq = -seq where seq >= ?', [from]);
  await db.exec('update audit_log set seq = ? - seq where seq < 0', [by]);
}

function tamperSuite(backend: string, fresh: () => Promise<Tamperable>): void {
  describe(`audit tamper detection: ${backend}`, () => {
    const withChain = (fn: (db: Tamperable, rows: AuditRawRow[]) => Promise<void>) => async () => {
      const db = await fresh();
      try {
        await fn(db, await tenEntries(db.store));
      } finally {
        await db.close();
      }
    };

    it(
      'an untouched chain verifies',
      withChain(async (db, rows) => {
        const report = await verify(db.store);
        assert.deepEqual(report, { ok: true, entries: 10, head: { seq: 10, hash: rows[9]?.hash }, problem: undefined });
      }),
    );

    it(
      "editing an entry's text: edited at that seq",
      withChain(async (db) => {
        await db.exec("update audit_log set entry = replace(entry, 'service.update-4', 'service.update-X') where seq = 4");
        assert.match((await db.store.audit.raw(3, 1))[0]?.body ?? '', /update-X/);
        assertProblem(await verify(db.store), 'edited', 4, 3);
      }),
    );

    it(
      'editing an entry and re-hashing it with another key: edited at that seq',
      withChain(async (db, rows) => {
        const row = rows[3]!;
        const body = row.body.replace('198.51.100.7', '203.0.113.9');
        await db.exec('update audit_log set entry = ?, hash = ? where seq = 4', [body, auditLinker(randomBytes(32))(row.prevHash, body)]);
        assertProblem(await verify(db.store), 'edited', 4, 3);
      }),
    );

    it(
      'deleting a middle row: deleted at its seq',
      withChain(async (db) => {
        await db.exec('delete from audit_log where seq = 5');
        assertProblem(await verify(db.store), 'deleted', 5, 4);
      }),
    );

    it(
      'deleting a middle row and renumbering the rest to close the gap: deleted at its seq',
      withChain(async (db) => {
        await db.exec('delete from audit_log where seq = 5');
        await renumber(db, 6, -1);
        assert.deepEqual((await db.store.audit.raw(0, 100)).map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assertProblem(await verify(db.store), 'deleted', 5, 4);
      }),
    );

    it(
      'inserting a forged row by renumbering the following ones: inserted at its seq',
      withChain(async (db, rows) => {
        await renumber(db, 6, 1);
        const prev = rows[4]!;
        const at = new Date().toISOString();
        const body = auditBody(6, at, { ...entry(6), action: 'tenant.delete', details: { forged: true } });
        const forgedHash = auditLinker(randomBytes(32))(prev.hash, body);
        await db.exec('insert into audit_log (seq, at, tenant, entry, prev_hash, hash) values (?, ?, ?, ?, ?, ?)', [6, at, null, body, prev.hash, forgedHash]);
        assert.deepEqual((await db.store.audit.raw(0, 100)).map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assertProblem(await verify(db.store), 'inserted', 6, 5);
      }),
    );

    it(
      "swapping two rows' contents: edited at the first",
      withChain(async (db, rows) => {
        const [r3, r7] = [rows[2]!, rows[6]!];
        const put = (seq: number, r: AuditRawRow) => db.exec('update audit_log set entry = ?, prev_hash = ?, hash = ? where seq = ?', [r.body, r.prevHash, r.hash, seq]);
        await put(3, r7);
        await put(7, r3);
        assertProblem(await verify(db.store), 'edited', 3, 2);
      }),
    );

    it(
      "swapping only two rows' entry text: edited at the first",
      withChain(async (db, rows) => {
        await db.exec('update audit_log set entry = ? where seq = 3', [rows[6]!.body]);
        await db.exec('update audit_log set entry = ? where seq = 7', [rows[2]!.body]);
        assertProblem(await verify(db.store), 'edited', 3, 2);
      }),
    );

    // The chain alone cannot tell a truncated log from a shorter one: each remaining entry still
    // links to its predecessor. Only a head kept elsewhere (`audit verify --expect-head`) shows it.
    it(
      'truncating the tail is not detectable by the chain alone: it verifies, but the head differs',
      withChain(async (db, rows) => {
        const headBefore = (await verify(db.store)).head;
        await db.exec('delete from audit_log where seq > 7');
        const report = await verify(db.store);
        assert.deepEqual(report, { ok: true, entries: 7, head: { seq: 7, hash: rows[6]?.hash }, problem: undefined });
        assert.notDeepEqual(report.head, headBefore);
        assert.deepEqual(headBefore, { seq: 10, hash: rows[9]?.hash });
      }),
    );
  });
}

tamperSuite('sqlite', freshSqlite);

const url = await postgresTestUrl();
if (url === undefined) {
  it('audit tamper detection: postgres', { skip: 'PostgreSQL not reachable' }, () => undefined);
} else {
  tamperSuite('postgres', postgresOpener(url));
}
