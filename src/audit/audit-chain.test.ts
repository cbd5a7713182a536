/** `verifyAuditChain` on rows held in memory: the classification corners (real databases: audit-tamper.test.ts). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson } from '../core/canonical-json.js';
import type { AuditRawRow } from '../storage/store.js';
import { auditLinker, verifyAuditChain, type ChainReport } from './audit-chain.js';

const link = auditLinker(randomBytes(32));

/** A genuine chain of entries 1..n. */
function chain(n: number): AuditRawRow[] {
  const rows: AuditRawRow[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const prevHash = rows.at(-1)?.hash ?? '';
    const body = canonicalJson({ seq, at: '2030-01-01T00:00:00.000Z', action: `action-${seq}` });
    rows.push({ seq, body, prevHash, hash: link(prevHash, body) });
  }
  return rows;
}

/** Stores rows under new seq numbers 1..n, in the given order (as someone renumbering would). */
const renumbered = (rows: readonly AuditRawRow[]): AuditRawRow[] => rows.map((r, i) => ({ ...r, seq: i + 1 }));

async function verify(rows: readonly AuditRawRow[]): Promise<ChainReport> {
  const sorted = [...rows].sort((a, b) => a.seq - b.seq);
  const reports = [];
  for (const pageSize of [1000, 2, 1]) {
    reports.push(await verifyAuditChain(async (after, limit) => sorted.filter((r) => r.seq > after).slice(0, limit), link, pageSize));
  }
  for (const r of reports.slice(1)) assert.deepEqual(r, reports[0]);
  return reports[0]!;
}

function forged(seq: number, prevHash: string): AuditRawRow {
  const body = canonicalJson({ seq, action: 'forged' });
  return { seq, body, prevHash, hash: auditLinker(randomBytes(32))(prevHash, body) };
}

const problem = (r: ChainReport) => [r.problem?.kind, r.problem?.seq, r.entries];

describe('verifyAuditChain', () => {
  it('accepts an empty log and an intact chain', async () => {
    assert.deepEqual(await verify([]), { ok: true, entries: 0, head: undefined, problem: undefined });
    const rows = chain(5);
    assert.deepEqual(await verify(rows), { ok: true, entries: 5, head: { seq: 5, hash: rows[4]?.hash }, problem: undefined });
  });

  it('reports missing seq numbers first, even when a later row is also edited', async () => {
    const rows = chain(8).filter((r) => r.seq !== 4 && r.seq !== 5);
    rows[4] = { ...rows[4]!, body: rows[4]!.body.replace('action', 'ACTION') };
    const report = await verify(rows);
    assert.deepEqual(problem(report), ['deleted', 4, 3]);
    assert.match(report.problem?.message ?? '', /entries 4–5 are missing/);
  });

  it('reports the first entries missing, renumbered or not', async () => {
    assert.deepEqual(problem(await verify(chain(6).slice(2))), ['deleted', 1, 0]);
    const report = await verify(renumbered(chain(6).slice(2)));
    assert.deepEqual(problem(report), ['deleted', 1, 0]);
    assert.match(report.problem?.message ?? '', /entries 1–2 are missing \(later entries were renumbered\)/);
  });

  it('reports several forged rows slipped in as inserted, naming them', async () => {
    const rows = chain(6);
    const fake = [forged(4, rows[2]!.hash), forged(5, 'x')];
    const report = await verify(renumbered([...rows.slice(0, 3), ...fake, ...rows.slice(3)]));
    assert.deepEqual(problem(report), ['inserted', 4, 3]);
    assert.match(report.problem?.message ?? '', /entries 4–5 were inserted: the genuine entry 4 follows as 6/);
  });

  it('reports a forged row appended at the end, or replacing an entry, as edited', async () => {
    const rows = chain(4);
    assert.deepEqual(problem(await verify([...rows, forged(5, rows[3]!.hash)])), ['edited', 5, 4]);
    assert.deepEqual(problem(await verify([...rows.slice(0, 2), forged(3, rows[1]!.hash), rows[3]!])), ['edited', 3, 2]);
  });

  it('reports a replayed copy of a genuine entry as inserted', async () => {
    const rows = chain(4);
    const report = await verify([...rows, { ...rows[1]!, seq: 5 }]);
    assert.deepEqual(problem(report), ['inserted', 5, 4]);
    assert.match(report.problem?.message ?? '', /copy of entry 2/);
  });

  it('reports reordered entries as edited at the first moved one', async () => {
    const rows = chain(6);
    const report = await verify(renumbered([rows[0]!, rows[4]!, rows[2]!, rows[3]!, rows[1]!, rows[5]!]));
    assert.deepEqual(problem(report), ['edited', 2, 1]);
    assert.match(report.problem?.message ?? '', /entry 2 holds entry 5: entries were reordered/);
  });

  it('reports a body that is not JSON, or a changed hash, as edited', async () => {
    const rows = chain(3);
    assert.deepEqual(problem(await verify([rows[0]!, { ...rows[1]!, body: 'not json' }, rows[2]!])), ['edited', 2, 1]);
    assert.deepEqual(problem(await verify([rows[0]!, { ...rows[1]!, hash: rows[2]!.hash }, rows[2]!])), ['edited', 2, 1]);
  });
});
