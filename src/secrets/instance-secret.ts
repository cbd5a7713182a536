/**
 * Instance-wide secrets kept in the shared store (so every node of a cluster uses the same one),
 * sealed with the master key: the database alone never reveals them. The first node to create one
 * wins; the others read it.
 */

import { randomBytes } from 'node:crypto';
import type { Store } from '../storage/store.js';
import type { SecretBox } from './secret-box.js';

function aadFor(name: string): string {
  return `setting:${name}`;
}

/**
 * The secret stored under `name`, creating it with `create()` when absent. Throws when the stored
 * value does not open with the master key (a different master key, or tampering).
 */
export async function instanceSecret(store: Pick<Store, 'getSetting' | 'putSettingIfAbsent'>, box: SecretBox, name: string, create: () => string | Promise<string>): Promise<string> {
  const existing = await store.getSetting(name);
  const sealed = existing ?? (await store.putSettingIfAbsent(name, box.seal(await create(), aadFor(name))));
  return box.open(sealed, aadFor(name));
}

/** A random 32-byte key stored under `name` (see {@link instanceSecret}). */
export async function instanceKey(store: Pick<Store, 'getSetting' | 'putSettingIfAbsent'>, box: SecretBox, name: string): Promise<Buffer> {
  return Buffer.from(await instanceSecret(store, box, name, () => randomBytes(32).toString('base64')), 'base64');
}
