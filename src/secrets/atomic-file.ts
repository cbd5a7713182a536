/**
 * Crash-safe file publication and a cross-process lock file, for key material in the data dir.
 *
 * Readers never see a half-written file: content is written to a unique temporary file in the same
 * directory, flushed, given its final mode, and only then moved into place.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayError } from '../core/errors.js';
import { fileError, hasErrorCode } from './file-mode.js';

export interface WriteFileAtomicOptions {
  /** Final permission bits, applied with chmod so the umask cannot widen or narrow them. */
  mode: number;
  /**
   * `true` (default): replace an existing file atomically (rename).
   * `false`: never clobber: if the path exists (for example another process won a race), leave it
   * untouched and return `false`. Uses a hard link, which fails atomically when the target exists.
   */
  overwrite?: boolean;
}

function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Best effort: persist the directory entry after a rename/link (not supported everywhere, e.g. Windows). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Directory fsync is an extra durability step only; failing it does not make the write unsafe.
  }
}

/**
 * Writes `data` to `path` atomically with exactly `options.mode`.
 *
 * @returns `true` when this call published the file; `false` only with `overwrite: false` when the
 *   path already existed (its content is then whatever the other writer put there).
 * @throws GatewayError CONFIG_INVALID when the directory is not writable or the filesystem fails
 *   (the temporary file is removed in every failure case).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions): Promise<boolean> {
  const overwrite = options.overwrite ?? true;
  const tmp = tempPathFor(path);
  try {
    const handle = await open(tmp, 'wx', options.mode);
    try {
      await handle.chmod(options.mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw fileError('write', tmp, err);
  }

  let published = true;
  try {
    if (overwrite) {
      await rename(tmp, path);
    } else {
      try {
        await link(tmp, path);
      } catch (err) {
        if (!hasErrorCode(err, 'EEXIST')) throw err;
        published = false;
      }
      await rm(tmp, { force: true });
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw fileError('publish', path, err);
  }
  if (published) await syncDirectory(dirname(path));
  return published;
}

export interface LockFileOptions {
  /** Give up waiting after this long. Default 15 s. */
  timeoutMs?: number;
  /** A lock file older than this is considered left behind by a crashed process and removed. Default 60 s. */
  staleMs?: number;
  /** Poll interval while waiting. Default 50 ms. */
  pollMs?: number;
}

/**
 * Runs `fn` while holding an exclusive lock file at `lockPath` (created with `wx`, removed after).
 * Serialises work between processes sharing a data directory; also serialises concurrent calls in
 * one process. A lock older than `staleMs` is assumed abandoned and taken over, so `fn` should be
 * much shorter than that.
 *
 * @returns what `fn` returns; rethrows what `fn` throws (the lock is released either way).
 * @throws GatewayError CONFIG_INVALID when the lock cannot be acquired within `timeoutMs`, naming
 *   the lock path so an operator can remove a leftover lock.
 */
export async function withLockFile<T>(lockPath: string, fn: () => Promise<T>, options: LockFileOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if (!hasErrorCode(err, 'EEXIST')) throw fileError('create lock file', lockPath, err);
    }
    try {
      const info = await stat(lockPath);
      if (Date.now() - info.mtimeMs > staleMs) {
        await rm(lockPath, { force: true });
        continue;
      }
    } catch (err) {
      if (!hasErrorCode(err, 'ENOENT')) throw fileError('inspect lock file', lockPath, err);
      continue; // released between our open and stat: try again at once
    }
    if (Date.now() >= deadline) {
      throw gatewayError(
        'CONFIG_INVALID',
        `timed out waiting for lock file ${lockPath}; if no other Portcullis process is running, delete it and start again`,
      );
    }
    await sleep(pollMs);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
