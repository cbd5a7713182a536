/**
 * Differences between two configuration states, per kind and name, and their human-readable form.
 *
 * Specs are compared in their stored form, in which secret values are sealed. A secret that did not
 * change keeps its sealed value (the config service reuses it), so a changed secret shows up as a
 * changed field path (`upstream.secretHeaders.Authorization`) and its value never appears anywhere
 * in a diff.
 */

import { z } from 'zod';

export const CHANGE_ACTIONS = ['create', 'update', 'delete'] as const;
export const CHANGE_KINDS = ['tenant', 'certificate', 'domain', 'service', 'route', 'application', 'jwt-issuer', 'llm-provider', 'llm-policy'] as const;

export type ChangeAction = (typeof CHANGE_ACTIONS)[number];
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One change of a diff: the wire shape of `changes[]` in apply responses. */
export const ConfigChangeSchema = z
  .object({
    action: z.enum(CHANGE_ACTIONS),
    kind: z.enum(CHANGE_KINDS),
    name: z.string(),
    fields: z.array(z.string()).optional().describe('For updates: dotted paths of the changed fields (secret values are never shown)'),
  })
  .strict();

export type ConfigChange = z.output<typeof ConfigChangeSchema>;

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values; object key order does not matter (PostgreSQL jsonb reorders keys). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Dotted paths of the fields that differ. Objects are compared key by key (recursively); arrays and
 * scalars are compared whole, so a changed list is reported once (`paths`, not `paths.0.path`).
 */
export function changedFields(before: Json, after: Json, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedFields(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (jsonEqual(before, after)) return [];
  return [prefix];
}

/**
 * The changes that turn `current` into `desired` for one kind (both keyed by name): creates for new
 * names, updates (with changed field paths) for differing specs, deletes for names only in `current`.
 * Ordered by name.
 */
export function diffKind(kind: ChangeKind, current: ReadonlyMap<string, Json>, desired: ReadonlyMap<string, Json>): ConfigChange[] {
  const names = [...new Set([...current.keys(), ...desired.keys()])].sort();
  const changes: ConfigChange[] = [];
  for (const name of names) {
    const before = current.get(name);
    const after = desired.get(name);
    if (before === undefined) changes.push({ action: 'create', kind, name });
    else if (after === undefined) changes.push({ action: 'delete', kind, name });
    else {
      const fields = changedFields(before, after);
      if (fields.length > 0) changes.push({ action: 'update', kind, name, fields });
    }
  }
  return changes;
}

const SYMBOL: Record<ChangeAction, string> = { create: '+', update: '~', delete: '-' };

/** `+ service httpbin`, `~ route x (paths, methods)`, `- route y`. */
export function formatChange(change: ConfigChange): string {
  const fields = change.action === 'update' && change.fields && change.fields.length > 0 ? ` (${change.fields.join(', ')})` : '';
  return `${SYMBOL[change.action]} ${change.kind} ${change.name}${fields}`;
}

/** One line per change, or the single line "No changes.". */
export function formatChanges(changes: readonly ConfigChange[]): string[] {
  return changes.length === 0 ? ['No changes.'] : changes.map(formatChange);
}
