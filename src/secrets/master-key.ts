/**
 * The master key: the AES-256 key that seals secret configuration values (see SecretBox).
 *
 * Sources, first match wins:
 *  1. `PORTCULLIS_MASTER_KEY`: 32 bytes as 64 hex digits or base64/base64url (43 or 44 characters).
 *  2. `<dataDir>/master.key`: the same encodings, surrounding whitespace ignored; must be chmod 600.
 *  3. Neither: 32 random bytes are generated and written to `<dataDir>/master.key` (base64, 0600).
 *     Concurrent first starts are safe: the file is published without clobbering, and a process
 *     that loses the race adopts the winner's key.
 *
 * Losing the key makes sealed values unreadable: back up `master.key` (or the env value).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gatewayError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { fileError, readPrivateFile } from './file-mode.js';

/** Environment variable holding the master key. */
export const MASTER_KEY_ENV = 'PORTCULLIS_MASTER_KEY';
/** File name of the master key inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';
/** Master key length in bytes. */
export const MASTER_KEY_BYTES = 32;

export interface MasterKey {
  /** First 8 hex characters of SHA-256(key): names the key in sealed values without revealing it. */
  id: string;
  /** The 32 key bytes. */
  key: Buffer;
  /** Where it came from: the environment, an existing file, or generated (and written) by this call. */
  source: 'env' | 'file' | 'generated';
}

export interface LoadMasterKeyOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL_KEY = /^[A-Za-z0-9_-]{43}=?$/;

/** The public identifier of a key: first 8 hex characters of its SHA-256. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Decodes a textual master key: 64 hex digits, or base64 / base64url of exactly 32 bytes.
 * @returns `null` when the text is not a valid 32-byte key (callers build the error).
 */
export function decodeMasterKey(text: string): Buffer | null {
  const value = text.trim();
  let key: Buffer | null = null;
  if (HEX_KEY.test(value)) key = Buffer.from(value, 'hex');
  else if (BASE64_KEY.test(value)) key = Buffer.from(value, 'base64');
  else if (BASE64URL_KEY.test(value)) key = Buffer.from(value, 'base64url');
  return key !== null && key.length === MASTER_KEY_BYTES ? key : null;
}

function invalidKeyMessage(where: string, length: number): string {
  return (
    `${where} is not a valid master key (got ${length} characters): expected exactly ${MASTER_KEY_BYTES} bytes ` +
    `encoded as 64 hex digits or 44 base64 characters, e.g. the output of \`openssl rand -base64 32\``
  );
}

function fromKey(key: Buffer, source: MasterKey['source']): MasterKey {
  return { id: masterKeyId(key), key, source };
}

async function readKeyFile(path: string): Promise<Buffer | null> {
  const content = await readPrivateFile(path, 'master key file');
  if (content === null) return null;
  const text = content.toString('utf8');
  const key = decodeMasterKey(text);
  if (!key) throw gatewayError('CONFIG_INVALID', invalidKeyMessage(`master key file ${path}`, text.trim().length));
  return key;
}

/**
 * Loads (or on first start creates) the master key.
 *
 * @throws GatewayError CONFIG_INVALID when
 *  - `PORTCULLIS_MASTER_KEY` is set (even to an empty string) but is not a 32-byte hex/base64 key;
 *    the message gives its length and the expected format, never the value;
 *  - `master.key` is accessible by group or others (message says to `chmod 600` it);
 *  - `master.key` does not hold a valid key, or the data directory / file cannot be read or written.
 */
export async function loadMasterKey(opts: LoadMasterKeyOptions): Promise<MasterKey> {
  const fromEnv = opts.env[MASTER_KEY_ENV];
  if (fromEnv !== undefined) {
    const key = decodeMasterKey(fromEnv);
    if (!key) throw gatewayError('CONFIG_INVALID', invalidKeyMessage(MASTER_KEY_ENV, fromEnv.trim().length));
    return fromKey(key, 'env');
  }

  const path = join(opts.dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return fromKey(existing, 'file');

  try {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fileError('create data directory', opts.dataDir, err);
  }
  const generated = randomBytes(MASTER_KEY_BYTES);
  const published = await writeFileAtomic(path, `${generated.toString('base64')}\n`, { mode: 0o600, overwrite: false });
  if (published) return fromKey(generated, 'generated');

  // Another process created the file between our read and our publish: use its key.
  const winner = await readKeyFile(path);
  if (!winner) throw gatewayError('CONFIG_INVALID', `master key file ${path} disappeared while being created`);
  return fromKey(winner, 'file');
}
