import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { toNumber } from './row-mapping.js';

/**
 * The config revision: one counter row (id = 1) created by the initial migration. Every committed
 * transaction that wrote tenants or config objects bumps it exactly once; nodes sharing a database
 * poll it to notice each other's writes.
 */
export async function readRevision(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('config_revision').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
  return toNumber(row.revision);
}

/** Adds one to the revision. Call inside the writing transaction, once. */
export async function bumpRevision(db: Kysely<Database>): Promise<void> {
  await db
    .updateTable('config_revision')
    .set({ revision: sql<number>`revision + 1` })
    .where('id', '=', 1)
    .execute();
}
