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

/**
 * Checks rows in seq order, page by page, stopping at the first break. The break is classified by
 * looking for the entry that belongs there among the rows after it (reading on, when needed, up to
 * the end; so a broken chain may cost up to twice the reads of an intact one):
 * - `deleted`: seq numbers are missing, or a genuine entry sits at a lower seq than it was written
 *   with while the entry that belongs there is gone (rows removed and later rows renumbered);
 * - `inserted`: a row that does not match its hash stands where the genuine next entry should be,
 *   and that entry follows further on (a forged row slipped in, later rows renumbered), or a genuine
 *   entry appears a second time;
 * - `edited`: anything else, such as a changed row or two rows whose contents were swapped.
 * Reads committed rows only; safe to call while entries are being appended.
 */
export async function verifyAuditChain(
  readPage: (afterSeq: number, limit: number) => Promise<readonly AuditRawRow[]>,
  link: AuditLinker,
  pageSize = 1000,
): Promise<ChainReport> {
  let prev: ChainLink | undefined;
  let entries = 0;
  for (;;) {
    const rows = await readPage(prev?.seq ?? 0, pageSize);
    for (const row of rows) {
      const seq = (prev?.seq ?? 0) + 1;
      if (row.seq !== seq || !writtenAfter(row, prev, seq, link)) {
        const at = prev;
        const findMoved = () => findAfter(readPage, row.seq, pageSize, (r) => writtenAfter(r, at, seq, link));
        return { ok: false, entries, head: prev, problem: await diagnose(row, prev, findMoved, link) };
      }
      prev = { seq: row.seq, hash: row.hash };
      entries += 1;
    }
    if (rows.length < pageSize) return { ok: true, entries, head: prev, problem: undefined };
  }
}

interface ChainLink {
  seq: number;
  hash: string;
}

function bodySeq(body: string): number | undefined {
  try {
    const seq = (JSON.parse(body) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** True when `row` matches its hash and was written as entry `seq`, linked to `prev` (wherever it is stored now). */
function writtenAfter(row: AuditRawRow, prev: ChainLink | undefined, seq: number, link: AuditLinker): boolean {
  return row.prevHash === (prev?.hash ?? '') && bodySeq(row.body) === seq && link(row.prevHash, row.body) === row.hash;
}

/** The first row after `afterSeq` that satisfies `match`, reading page by page. */
async function findAfter(
  readPage: (afterSeq: number, limit: number) => Promise<readonly AuditRawRow[]>,
  afterSeq: number,
  pageSize: number,
  match: (row: AuditRawRow) => boolean,
): Promise<AuditRawRow | undefined> {
  for (let after = afterSeq; ; ) {
    const rows = await readPage(after, pageSize);
    const found = rows.find(match);
    if (found) return found;
    const last = rows.at(-1);
    if (rows.length < pageSize || !last) return undefined;
    after = last.seq;
  }
}

/**
 * Why `row`, the first one that is not the entry after `prev`, breaks the chain. `findMoved` looks
 * for the entry that belongs at `row`'s place among the later rows.
 */
async function diagnose(row: AuditRawRow, prev: ChainLink | undefined, findMoved: () => Promise<AuditRawRow | undefined>, link: AuditLinker): Promise<ChainProblem> {
  const expectedSeq = (prev?.seq ?? 0) + 1;
  if (row.seq > expectedSeq) return deleted(expectedSeq, row.seq - 1, '');
  const intact = link(row.prevHash, row.body) === row.hash;
  const writtenAs = bodySeq(row.body);
  if (intact && writtenAs === row.seq) {
    return {
      seq: row.seq,
      kind: prev ? 'inserted' : 'deleted',
      message: `entry ${row.seq} does not follow entry ${prev?.seq ?? 0}: an entry was inserted or removed before it`,
    };
  }
  // The entry that belongs at `expectedSeq`, if it is still stored further on (under a later seq).
  const moved = await findMoved();
  if (!intact) {
    if (moved) {
      const forged = moved.seq - 1 === row.seq ? `entry ${row.seq} was` : `entries ${row.seq}–${moved.seq - 1} were`;
      return { seq: row.seq, kind: 'inserted', message: `${forged} inserted: the genuine entry ${expectedSeq} follows as ${moved.seq}` };
    }
    return { seq: row.seq, kind: 'edited', message: `entry ${row.seq} was modified: its hash does not match its content` };
  }
  if (writtenAs === undefined) return { seq: row.seq, kind: 'edited', message: `entry ${row.seq} was modified: its body has no sequence number` };
  // A genuine entry, stored under a seq it was not written with.
  if (moved) return { seq: row.seq, kind: 'edited', message: `entry ${row.seq} holds entry ${writtenAs}: entries were reordered` };
  if (writtenAs > expectedSeq) return deleted(expectedSeq, writtenAs - 1, ' (later entries were renumbered)');
  return { seq: row.seq, kind: 'inserted', message: `entry ${row.seq} is a copy of entry ${writtenAs}` };
}

function deleted(first: number, last: number, note: string): ChainProblem {
  const missing = first === last ? `entry ${first} is` : `entries ${first}–${last} are`;
  return { seq: first, kind: 'deleted', message: `${missing} missing${note}` };
}
