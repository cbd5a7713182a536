import type { Kysely } from 'kysely';
import { canonicalJson } from '../../core/canonical-json.js';
import type { AuditEntryInput, AuditLinker, AuditLog, AuditQuery, AuditRawRow, AuditRecord } from '../store.js';
import type { Database } from './database.js';
import { toNumber } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';

/** Rows per INSERT statement (6 parameters each; well under SQLite's and PostgreSQL's limits). */
const INSERT_CHUNK = 500;

/** The body an entry's hash covers: everything but the hashes themselves. */
export function auditBody(seq: number, at: string, e: AuditEntryInput): string {
  return canonicalJson({ seq, at, tenant: e.tenant, actor: e.actor, action: e.action, object: e.object, diff: e.diff, sourceIp: e.sourceIp, details: e.details });
}

/**
 * Appends entries after the current head. Must run inside a write transaction (write transactions
 * are serialised across nodes, so two appends never read the same head).
 */
export async function appendAudit(trx: Kysely<Database>, entries: readonly AuditEntryInput[], link: AuditLinker, now: Date = new Date()): Promise<AuditRecord[]> {
  if (entries.length === 0) return [];
  const head = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let seq = head ? toNumber(head.seq) : 0;
  let prevHash = head?.hash ?? '';
  const at = now.toISOString();
  const out: AuditRecord[] = [];
  const rows: Array<{ seq: number; at: string; tenant: string | null; entry: string; prev_hash: string; hash: string }> = [];
  for (const e of entries) {
    seq += 1;
    const body = auditBody(seq, at, e);
    const hash = link(prevHash, body);
    rows.push({ seq, at, tenant: e.tenant, entry: body, prev_hash: prevHash, hash });
    out.push({ ...e, seq, at, prevHash, hash });
    prevHash = hash;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx.insertInto('audit_log').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  return out;
}

function toAuditRecord(row: { seq: number | string | bigint; entry: string; prev_hash: string; hash: string }): AuditRecord {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(row.entry) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return {
    seq: toNumber(row.seq),
    at: String(body.at ?? ''),
    tenant: (body.tenant as string | null | undefined) ?? null,
    actor: body.actor as AuditRecord['actor'],
    action: String(body.action ?? ''),
    object: (body.object as AuditRecord['object'] | undefined) ?? null,
    diff: (body.diff as AuditRecord['diff'] | undefined) ?? null,
    sourceIp: (body.sourceIp as string | null | undefined) ?? null,
    details: (body.details as AuditRecord['details'] | undefined) ?? null,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  list(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#guard(async () => {
      const rows = await this.db
        .selectFrom('audit_log')
        .select(['seq', 'entry', 'prev_hash', 'hash'])
        .$if(query.tenant !== undefined, (qb) => qb.where('tenant', '=', query.tenant ?? ''))
        .$if(query.afterSeq !== undefined, (qb) => qb.where('seq', '>', query.afterSeq ?? 0))
        .orderBy('seq')
        .limit(query.limit)
        .execute();
      return rows.map(toAuditRecord);
    });
  }

  /** Rows in seq order from `afterSeq` (exclusive), for chain verification. */
  raw(afterSeq: number, limit: number): Promise<AuditRawRow[]> {
    return this.#guard(async () => {
      const rows = await this.db.selectFrom('audit_log').select(['seq', 'entry', 'prev_hash', 'hash']).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
      return rows.map((r) => ({ seq: toNumber(r.seq), body: r.entry, prevHash: r.prev_hash, hash: r.hash }));
    });
  }

  append(entries: readonly AuditEntryInput[], link: AuditLinker, now?: Date): Promise<AuditRecord[]> {
    return this.#guard(() => this.dialect.writeTransaction(this.db, (trx) => appendAudit(trx, entries, link, now)));
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}
