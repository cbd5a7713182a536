/**
 * Which config fields hold secrets, and the additional authenticated data that binds each sealed
 * value to its place (so a ciphertext copied to another object or field does not decrypt).
 */

import type { ConfigKind } from '../storage/store.js';

/** AAD for a sealed field: `kind:tenant:name:field`. */
export function secretAad(kind: ConfigKind, tenant: string, name: string, field: string): string {
  return `${kind}:${tenant}:${name}:${field}`;
}

/**
 * Secret-valued maps per kind, as paths into the spec. Every value of such a map is a secret: sealed
 * before storage, redacted on read.
 */
export const SECRET_MAPS: Readonly<Record<ConfigKind, readonly (readonly string[])[]>> = {
  service: [['upstream', 'secretHeaders']],
  route: [],
};
