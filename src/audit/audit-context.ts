import type { AuditActor, AuditEntryInput } from '../storage/store.js';

/** Who is acting, and from where: attached to every audit entry an action writes. */
export interface AuditContext {
  readonly actor: AuditActor;
  readonly sourceIp: string | null;
}

/** The gateway itself (start-up, background work). */
export const SYSTEM_CONTEXT: AuditContext = Object.freeze({ actor: Object.freeze({ id: 'system', name: 'system', role: null, tenant: null }), sourceIp: null });

/** The data plane (security events). */
export const DATA_PLANE_ACTOR: AuditActor = Object.freeze({ id: 'data-plane', name: 'data plane', role: null, tenant: null });

export interface AuditFacts {
  readonly tenant: string | null;
  readonly action: string;
  readonly object?: { kind: string; name: string } | null;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly details?: Record<string, unknown> | null;
}

/** An audit entry for an action done in `ctx`. A diff is recorded when `before` or `after` is given. */
export function auditEntry(ctx: AuditContext, facts: AuditFacts): AuditEntryInput {
  const hasDiff = facts.before !== undefined || facts.after !== undefined;
  return {
    tenant: facts.tenant,
    actor: ctx.actor,
    action: facts.action,
    object: facts.object ?? null,
    diff: hasDiff ? { before: facts.before ?? null, after: facts.after ?? null } : null,
    sourceIp: ctx.sourceIp,
    details: facts.details ?? null,
  };
}
