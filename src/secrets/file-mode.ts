/**
 * Permission checks for files that hold secrets (master key, private keys).
 *
 * A secret file must not be accessible to group or others: its mode must have none of the bits in
 * 0o077. That is stricter than "not group/world readable" on purpose: a group-writable key file can
 * be replaced by someone else, which is as bad as it being read. The fix is always `chmod 600`.
 *
 * On Windows POSIX mode bits are not meaningful (Node reports 0o666 for every writable file), so
 * the check is skipped there; NTFS ACLs are the operator's responsibility.
 */
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { gatewayError, type GatewayError } from '../core/errors.js';

/** Mode bits that must be clear on a secret file. */
export const INSECURE_MODE_BITS = 0o077;

/** Formats the permission bits of a mode as four octal digits, e.g. `0644`. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** True when `mode` keeps the file private to its owner (no group/other bits). Always true on Windows. */
export function isPrivateMode(mode: number, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return true;
  return (mode & INSECURE_MODE_BITS) === 0;
}

/**
 * Throws unless `mode` is private to the owner.
 *
 * @param what a human label used in the message, e.g. "master key file".
 * @throws GatewayError CONFIG_INVALID naming the path, the current mode and the `chmod 600` fix.
 *   The message never contains file contents.
 */
export function assertPrivateMode(mode: number, path: string, what: string, platform: NodeJS.Platform = process.platform): void {
  if (isPrivateMode(mode, platform)) return;
  throw gatewayError(
    'CONFIG_INVALID',
    `${what} ${path} is accessible by group or others (mode ${formatMode(mode)}); refusing to use it. Run \`chmod 600 ${path}\` and start again.`,
  );
}

/**
 * Wraps a filesystem failure in a CONFIG_INVALID error that says what was attempted on which path
 * (paths and errno codes are not secret; contents never appear).
 */
export function fileError(action: string, path: string, err: unknown): GatewayError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (err instanceof Error ? err.message : String(err));
  return gatewayError('CONFIG_INVALID', `cannot ${action} ${path}: ${reason}`, undefined, err);
}

/** True when `err` is a Node filesystem error with the given code. */
export function hasErrorCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * Reads a secret file after checking its permissions on the open descriptor (so the file checked
 * is the file read, even if the path is swapped in between).
 *
 * @returns the contents, or `null` when the file does not exist.
 * `allowInsecureMode` skips the permission check (an explicit operator override).
 *
 * @throws GatewayError CONFIG_INVALID when the file is group/other accessible (with the chmod hint),
 *   is not a regular file, or cannot be read.
 */
export async function readPrivateFile(path: string, what: string, opts: { allowInsecureMode?: boolean } = {}): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) return null;
    throw fileError(`open ${what}`, path, err);
  }
  try {
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (err) {
      throw fileError(`stat ${what}`, path, err);
    }
    if (!stats.isFile()) throw gatewayError('CONFIG_INVALID', `${what} ${path} is not a regular file`);
    if (!opts.allowInsecureMode) assertPrivateMode(stats.mode, path, what);
    try {
      return await handle.readFile();
    } catch (err) {
      throw fileError(`read ${what}`, path, err);
    }
  } finally {
    await handle.close();
  }
}
