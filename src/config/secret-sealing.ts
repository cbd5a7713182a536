/**
 * Sealing and redaction of secret fields (see secret-fields.ts for which fields they are). Sealed
 * values are what storage holds; redacted values are what clients see; clear values exist only on
 * the way in and, inside a snapshot, on the way to the upstream.
 */

import type { ErrorDetail } from '../core/errors.js';
import { REDACTED } from '../model/service.js';
import type { ConfigKind } from '../storage/store.js';
import { SECRET_MAPS, secretAad } from './secret-fields.js';

/** Seals and opens secret values (the secret box). */
export interface SecretSealer {
  seal(plain: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** Longest sealed value the model accepts for a header value. */
const MAX_SEALED_LENGTH = 8192;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function getAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function setAt(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (!isRecord(next)) return;
    cur = next;
  }
  cur[path[path.length - 1]!] = value;
}

/** A copy of `spec` with every secret value replaced by "<redacted>". */
export function redactSecrets(kind: ConfigKind, spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  for (const mapPath of SECRET_MAPS[kind]) {
    const map = getAt(out, mapPath);
    if (isRecord(map)) setAt(out, mapPath, Object.fromEntries(Object.keys(map).map((k) => [k, REDACTED])));
  }
  return out;
}

/**
 * Returns the spec to store: every secret-map value sealed with its AAD. "<redacted>" keeps the stored
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
  for (const mapPath of SECRET_MAPS[kind]) {
    const map = getAt(out, mapPath);
    if (!isRecord(map)) continue;
    const stored = getAt(existing, mapPath);
    const sealedMap: Record<string, string> = {};
    for (const [key, value] of Object.entries(map)) {
      const field = [...mapPath, key].join('.');
      const path = [...at, ...mapPath, key].map(String).join('.');
      const aad = secretAad(kind, tenant, name, field);
      const previous = isRecord(stored) && typeof stored[key] === 'string' ? (stored[key] as string) : undefined;
      if (value === REDACTED) {
        if (previous === undefined) problems.push({ path, message: `is "${REDACTED}" but no value is stored for it; send the actual value` });
        else sealedMap[key] = previous;
        continue;
      }
      const plain = String(value);
      if (previous !== undefined && tryOpen(sealer, previous, aad) === plain) {
        sealedMap[key] = previous;
        continue;
      }
      const sealed = sealer.seal(plain, aad);
      if (sealed.length > MAX_SEALED_LENGTH) problems.push({ path, message: 'is too long to store encrypted; use at most about 6000 characters' });
      else sealedMap[key] = sealed;
    }
    setAt(out, mapPath, sealedMap);
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
