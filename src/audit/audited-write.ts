import type { AuditLinker, Store, StoreTx } from '../storage/store.js';
import { auditEntry, type AuditContext, type AuditFacts } from './audit-context.js';
import { Errors, GatewayError } from '../core/errors.js';

/** True for the error saying a committed change could not be loaded by the data plane. */
export function isNotLoaded(err: unknown): boolean {
  return err instanceof GatewayError && err.code === Errors.CHANGE_NOT_LOADED.code;
}

/** What a write callback returns: its result, and the audit facts to record with it. */
export interface AuditedResult<T> {
  readonly result: T;
  readonly audit: readonly AuditFacts[];
}

/**
 * Runs `fn` in one store transaction and appends its audit entries (for `context`'s actor) in the
 * same transaction, so a change never commits without its record. Then calls `onCommitted` (the data
 * plane reloads). A CHANGE_NOT_LOADED failure is passed on (the caller must learn that the change is
 * not in force); any other is ignored, since the change is committed and revision polling picks it up.
 */
export async function auditedWrite<T>(
  opts: { store: Store; link: AuditLinker | undefined; context: AuditContext; onCommitted?: (() => Promise<void>) | undefined },
  fn: (tx: StoreTx) => Promise<AuditedResult<T>>,
): Promise<T> {
  const result = await opts.store.transaction(async (tx) => {
    const out = await fn(tx);
    if (opts.link && out.audit.length > 0) await tx.audit(out.audit.map((f) => auditEntry(opts.context, f)), opts.link);
    return out.result;
  });
  if (opts.onCommitted) {
    try {
      await opts.onCommitted();
    } catch (err) {
      if (isNotLoaded(err)) throw err;
      // Committed; the snapshot manager's revision polling picks it up.
    }
  }
  return result;
}
