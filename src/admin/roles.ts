/**
 * Admin roles as sets of named permissions. A token carries one role and, except for platform
 * administrators, one tenant: it can only ever reach that tenant (see tenant-bound-store.ts).
 *
 * | permission            | platform-admin | tenant-admin | developer | viewer |
 * |-----------------------|:--------------:|:------------:|:---------:|:------:|
 * | tenants.read          |       ✓        |      ✓       |     ✓     |   ✓    |
 * | tenants.write         |       ✓        |              |           |        |
 * | config.read           |       ✓        |      ✓       |     ✓     |   ✓    |
 * | config.write          |       ✓        |      ✓       |           |        |
 * | applications.write    |       ✓        |      ✓       |     ✓     |        |
 * | credentials.write     |       ✓        |      ✓       |     ✓     |        |
 * | subscriptions.request |       ✓        |      ✓       |     ✓     |        |
 * | subscriptions.decide  |       ✓        |      ✓       |           |        |
 * | tokens.manage         |       ✓        |      ✓       |           |        |
 * | audit.read            |       ✓        |      ✓       |           |        |
 * | audit.verify          |       ✓        |              |           |        |
 * | metrics.read          |       ✓        |              |           |        |
 *
 * `metrics.read` also reads the platform-wide certificate inventory: the certificates its expiry
 * gauge shows.
 */

import type { AdminRole } from '../storage/store.js';

export const ADMIN_ROLES = ['platform-admin', 'tenant-admin', 'developer', 'viewer'] as const satisfies readonly AdminRole[];

export const PERMISSIONS = [
  'tenants.read',
  'tenants.write',
  'config.read',
  'config.write',
  'applications.write',
  'credentials.write',
  'subscriptions.request',
  'subscriptions.decide',
  'tokens.manage',
  'audit.read',
  'audit.verify',
  'metrics.read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const DEVELOPER: readonly Permission[] = ['tenants.read', 'config.read', 'applications.write', 'credentials.write', 'subscriptions.request'];

export const ROLE_PERMISSIONS: Readonly<Record<AdminRole, ReadonlySet<Permission>>> = Object.freeze({
  'platform-admin': new Set(PERMISSIONS),
  'tenant-admin': new Set<Permission>([...DEVELOPER, 'config.write', 'subscriptions.decide', 'tokens.manage', 'audit.read']),
  developer: new Set(DEVELOPER),
  viewer: new Set<Permission>(['tenants.read', 'config.read']),
});

/** Roles a principal of `role` may grant when creating tokens: its own and those below it. */
export function grantableRoles(role: AdminRole): readonly AdminRole[] {
  const i = ADMIN_ROLES.indexOf(role);
  return ADMIN_ROLES.slice(i);
}
