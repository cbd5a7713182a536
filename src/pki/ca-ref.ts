/**
 * How a tenant names a certificate authority: `name` for one of its own, `owner/name` for one that
 * tenant `owner` shares with it (`sharedWith`). In admin-API paths the slash is percent-encoded
 * (`owner%2Fname`), as GitLab does for project paths.
 */

import { z } from 'zod';
import { NameSchema } from '../model/common.js';

const NAME = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;

export const CaRefSchema = z
  .string()
  .min(1)
  .max(127)
  .refine((s) => {
    const [a, b, ...rest] = s.split('/');
    return rest.length === 0 && a !== undefined && a.length <= 63 && NAME.test(a) && (b === undefined || (b.length <= 63 && NAME.test(b)));
  }, 'must be a CA name, or "tenant/name" for a CA another tenant shares')
  .describe('A CA of this tenant by name, or one another tenant shares with it as "tenant/name"');

/** The tenants a CA is shared with: they may trust it in their domains and have it issue for their own applications and hosts. */
export const SharedWithSchema = z
  .array(NameSchema)
  .max(1000)
  .describe('Other tenants that may trust this CA (as "<owner>/<name>") and have it issue certificates for their own applications and hosts');

export const SharedServerCertificatesSchema = z
  .boolean()
  .describe("Whether tenants it is shared with may have it issue server certificates, for hosts their domains cover and no other tenant's domain overlaps (default: client certificates only)");

export interface CaAddress {
  /** The tenant that owns the CA. */
  readonly tenant: string;
  readonly name: string;
}

/** Resolves a reference made by `viewer`: no slash means the viewer's own CA. */
export function parseCaRef(ref: string, viewer: string): CaAddress {
  const slash = ref.indexOf('/');
  return slash < 0 ? { tenant: viewer, name: ref } : { tenant: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

/** The reference `viewer` uses for the CA `owner/name`: its bare name when the viewer owns it. */
export function caRef(owner: string, name: string, viewer: string): string {
  return owner === viewer ? name : `${owner}/${name}`;
}

/** Whether `viewer` may use the CA of `owner` whose settings are `sharedWith`. */
export function caVisibleTo(owner: string, sharedWith: readonly string[] | undefined, viewer: string): boolean {
  return owner === viewer || (sharedWith ?? []).includes(viewer);
}
