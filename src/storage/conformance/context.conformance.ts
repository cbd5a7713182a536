/**
 * What every part of the store conformance suite shares: the store under test, unique names, and
 * assertion helpers. The parts (`*.conformance.ts` in this folder) are called by `storeConformance`
 * in `../store.conformance.ts`, which is the one entry point backends use.
 */
import assert from 'node:assert/strict';
import { Errors, GatewayError, type ErrorKind } from '../../core/errors.js';
import type { AuditEntryInput, AuditLinker, Store, TenantScope } from '../store.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface ConformanceContext {
  /** The migrated store under test; read it inside tests only (it is opened in a `before` hook). */
  readonly store: Store;
  /** The linker every audit append of the suite uses, so the whole chain verifies with it. */
  readonly link: AuditLinker;
  /** A name unique to this run and call. */
  unique(prefix: string): string;
  /** Creates a uniquely named tenant and returns its name. */
  newTenant(prefix?: string): Promise<string>;
  /** Runs `fn` with a writable scope on `tenant`, in its own transaction. */
  inTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T>;
}

/** Rejects with a GatewayError of this kind. */
export async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.code, Errors[kind].code, `expected ${kind}, got ${err.code}: ${err.message}`);
    return true;
  });
}

export function assertIso(value: string | null): void {
  assert.ok(value !== null);
  assert.equal(new Date(value).toISOString(), value);
}

/** A plausible audit entry about `tenant`. */
export function auditInput(tenant: string | null, action: string, details: Record<string, unknown> | null = null): AuditEntryInput {
  return {
    tenant,
    actor: { id: 'conformance', name: 'conformance suite', role: 'platform-admin', tenant: null },
    action,
    object: { kind: 'service', name: 'svc' },
    diff: { before: null, after: { n: 1 } },
    sourceIp: '192.0.2.1',
    details,
  };
}
