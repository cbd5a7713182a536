import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayError } from '../core/errors.js';
import type { Store } from '../storage/store.js';
import { SYSTEM_CONTEXT } from './audit-context.js';
import { auditedWrite } from './audited-write.js';

const store = { transaction: async <T>(fn: (tx: unknown) => Promise<T>) => fn({ audit: async () => undefined }) } as unknown as Store;

describe('auditedWrite', () => {
  it('returns the result when the reload fails for a passing reason (polling retries)', async () => {
    const r = await auditedWrite({ store, link: undefined, context: SYSTEM_CONTEXT, onCommitted: () => Promise.reject(new Error('transient')) }, async () => ({ result: 7, audit: [] }));
    assert.equal(r, 7);
  });

  it('tells the caller when the committed change could not be loaded by the data plane', async () => {
    await assert.rejects(
      auditedWrite({ store, link: undefined, context: SYSTEM_CONTEXT, onCommitted: () => Promise.reject(gatewayError('CHANGE_NOT_LOADED')) }, async () => ({ result: 7, audit: [] })),
      (err: unknown) => (err as { status?: number; type?: string }).status === 500 && (err as { type?: string }).type === 'change_not_loaded',
    );
  });
});
