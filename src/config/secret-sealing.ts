/**
 * Sealing and redaction of secret fields (see secret-fields.ts for which fields they are). Sealed
 * values are what storage holds; redacted values are what clients see; clear values exist only on
 * the way in and, inside a snapshot, on the way to the upstream.
 */

import type { ErrorDetail } from '../core/errors.js';
import { REDACTED } from '../model/service.js';
import type { ConfigKind } from '../storage/store.js';
import { isSealed } from '../secrets/secret-box.js';
import { SECRET_CHECKS, SECRET_PATHS, secretAad } from './secret-fields.js';

/** Seals and opens secret values (the secret box). */
export interface SecretSealer {
  seal(plain: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** Longest sealed value the model accepts for a header value. */
const MAX_SEALED_HEADER_LENGTH = 8192;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value at `path` (the object itself for an empty path), or undefined. */
function getAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

interface SecretSlot {
  /** The object holding the value, and the value's key in it. */
  readonly container: Record<string, unknown>;
  readonly key: string;
  /** Path of the value in the spec, used in AAD and error paths ("upstream.secretHeaders.authorization", "key"). */
  readonly field: readonly string[];
  /** True for the values of a secret map (header values, limited in length). */
  readonly mapValue: boolean;
}

/** Every secret location present in `spec` (see SECRET_PATHS). */
function secretSlots(kind: ConfigKind, spec: Record<string, unknown>): SecretSlot[] {
  const slots: SecretSlot[] = [];
  for (const path of SECRET_PATHS[kind]) {
    const parentPath = path.slice(0, -1);
    const parent = getAt(spec, parentPath);
    if (!isRecord(parent)) continue;
    const last = path[path.length - 1]!;
    if (last === '*') {
      for (const key of Object.keys(parent)) slots.push({ container: parent, key, field: [...parentPath, key], mapValue: true });
    } else if (parent[last] !== undefined) {
      slots.push({ container: parent, key: last, field: path, mapValue: false });
    }
  }
  return slots;
}

/** A copy of `spec` with every secret value replaced by "<redacted>". */
export function redactSecrets(kind: ConfigKind, spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  for (const slot of secretSlots(kind, out)) slot.container[slot.key] = REDACTED;
  return out;
}

/**
 * Returns the spec to store: every secret value sealed with its AAD. "<redacted>" keeps the stored
 * sealed value; a clear value equal to the stored one keeps the stored sealed value too (so
 * re-applying a file does not count as a change). Problems are appended to `problems` with paths
 * prefixed by `at`; the caller throws once for all of them.
 */
export function sealSecrets(
  sealer: SecretSealer,
  kind: ConfigKind,
  tenant: string,
  spec: Record<string, unknown>,
  existing: Record<string, unknown> | undefined,
  at: readonly (string | number)[],
  problems: ErrorDetail[],
): Record<string, unknown> {
  const out = structuredClone(spec);
  const name = String(spec.name);
  for (const slot of secretSlots(kind, out)) {
    const field = slot.field.join('.');
    const path = [...at, ...slot.field].map(String).join('.');
    const aad = secretAad(kind, tenant, name, field);
    const stored = getAt(existing, slot.field);
    const previous = typeof stored === 'string' ? stored : undefined;
    const value = slot.container[slot.key];
    if (value === REDACTED) {
      if (previous === undefined) {
        problems.push({ path, message: `is "${REDACTED}" but no value is stored for it; send the actual value` });
        delete slot.container[slot.key];
      } else {
        slot.container[slot.key] = previous;
        const check = SECRET_CHECKS[kind]?.[field];
        const kept = check ? tryOpen(sealer, previous, aad) : undefined;
        const problem = kept === undefined ? undefined : check!(kept, spec);
        if (problem) problems.push({ path, message: `(the stored value) ${problem}` });
      }
      continue;
    }
    if (isSealed(value)) {
      // An encrypted value sent back would be sealed again, and used as the secret itself.
      problems.push({ path, message: `looks like an encrypted value; send the actual value, or "${REDACTED}" to keep the stored one` });
      delete slot.container[slot.key];
      continue;
    }
    const plain = String(value);
    if (previous !== undefined && tryOpen(sealer, previous, aad) === plain) {
      slot.container[slot.key] = previous;
      continue;
    }
    const sealed = sealer.seal(plain, aad);
    if (slot.mapValue && sealed.length > MAX_SEALED_HEADER_LENGTH) {
      problems.push({ path, message: 'is too long to store encrypted; use at most about 6000 characters' });
      delete slot.container[slot.key];
    } else slot.container[slot.key] = sealed;
  }
  return out;
}

/** Opens every secret of a stored spec in place of its sealed value (for building snapshots). */
export function openSecrets(sealer: Pick<SecretSealer, 'open'>, kind: ConfigKind, tenant: string, spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  const name = String(spec.name);
  for (const slot of secretSlots(kind, out)) {
    slot.container[slot.key] = sealer.open(String(slot.container[slot.key]), secretAad(kind, tenant, name, slot.field.join('.')));
  }
  return out;
}

function tryOpen(sealer: SecretSealer, sealed: string, aad: string): string | undefined {
  try {
    return sealer.open(sealed, aad);
  } catch {
    return undefined;
  }
}
