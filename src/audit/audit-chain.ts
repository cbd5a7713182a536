/**
 * The audit log's hash chain. Each entry's hash is HMAC-SHA-256(chain key, previous hash + "\n" +
 * canonical body), with a key only the gateway holds (sealed with the master key). Editing,
 * inserting, deleting or reordering entries therefore breaks the chain at that point, and someone
 * with write access to the database but not the master key cannot mend it.
 *
 * Removing the newest entries leaves a shorter valid chain; compare the head (`seq`, `hash`) with a
 * copy kept elsewhere (`portcullis audit verify --expect-head`) to detect that.
 */

import { createHmac } from 'node:crypto';
import type { AuditLinker, AuditRawRow } from '../storage/store.js';

export function auditLinker(key: Buffer): AuditLinker {
  return (prevHash, body) => createHmac('sha256', key).update(prevHash).update('\n').update(body).digest('hex');
}

export type ChainProblemKind = 'edited' | 'deleted' | 'inserted';

export interface ChainProblem {
  readonly seq: number;
  readonly kind: ChainProblemKind;
  readonly message: string;
}

export interface ChainReport {
  readonly ok: boolean;
  /** Entries checked. */
  readonly entries: number;
  /** The last entry (`seq` and `hash`), when there is one. */
  readonly head: { seq: number; hash: string } | undefined;
  /** The first break found. */
  readonly problem: ChainProblem | undefined;
}

/** Checks rows in seq order, page by page, stopping at the first break. */
export async function verifyAuditChain(
  readPage: (afterSeq: number, limit: number) => Promise<readonly AuditRawRow[]>,
  link: AuditLinker,
  pageSize = 1000,
): Promise<ChainReport> {
  let prev: { seq: number; hash: string } | undefined;
  let entries = 0;
  for (;;) {
    const rows = await readPage(prev?.seq ?? 0, pageSize);
    for (const row of rows) {
      const problem = checkRow(row, prev, link);
      if (problem) return { ok: false, entries, head: prev, problem };
      prev = { seq: row.seq, hash: row.hash };
      entries += 1;
    }
    if (rows.length < pageSize) return { ok: true, entries, head: prev, problem: undefined };
  }
}

function bodySeq(body: string): number | undefined {
  try {
    const seq = (JSON.parse(body) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

function checkRow(row: AuditRawRow, prev: { seq: number; hash: string } | undefined, link: AuditLinker): ChainProblem | undefined {
  const expectedSeq = (prev?.seq ?? 0) + 1;
  if (link(row.prevHash, row.body) !== row.hash || bodySeq(row.body) !== row.seq) {
    return { seq: row.seq, kind: 'edited', message: `entry ${row.seq} was modified: its hash does not match its content` };
  }
  if (row.seq > expectedSeq) {
    const missing = row.seq - expectedSeq === 1 ? `entry ${expectedSeq} is` : `entries ${expectedSeq}–${row.seq - 1} are`;
    return { seq: expectedSeq, kind: 'deleted', message: `${missing} missing` };
  }
  if (row.prevHash !== (prev?.hash ?? '')) {
    return {
      seq: row.seq,
      kind: row.seq === expectedSeq && prev ? 'inserted' : 'deleted',
      message: `entry ${row.seq} does not follow entry ${prev?.seq ?? 0}: an entry was inserted or removed before it`,
    };
  }
  return undefined;
}
