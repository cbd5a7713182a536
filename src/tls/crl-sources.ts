/**
 * CRLs of other issuers, for domains whose `clientAuth.revocation` names them: fetched from URLs or
 * read from files, kept per source for the gateway's lifetime, refreshed in the background, and
 * handed to snapshot builds. A build never waits on the network for a CRL it already has; it
 * fetches only sources it has never loaded.
 *
 * A CRL is usable for a domain when it was loaded, is signed by one of the domain's trusted CAs, and
 * is not past its nextUpdate. Anything else makes revocation information unavailable for the domain,
 * which then refuses client certificates (or, with `onUnavailable: allow`, skips revocation checks).
 */

import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { CrlSource, Revocation } from '../model/domain.js';
import { splitPemCertificates } from '../pki/pem.js';
import { x509 } from '../pki/x509.js';
import { pkiCrypto, toPem } from '../pki/keys.js';

const MAX_CRL_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

interface Loaded {
  readonly crl: x509.X509Crl;
  readonly pem: string;
  readonly loadedAt: number;
}

interface Entry {
  loaded: Loaded | undefined;
  error: string | undefined;
  refreshMs: number;
  lastAttempt: number;
}

export function sourceKey(s: CrlSource): string {
  return 'url' in s ? `url:${s.url}` : `file:${s.file}`;
}

/** What a domain gets: CRL PEMs to load, or the reason revocation information is unavailable. */
export type DomainCrls = { readonly ok: true; readonly pems: string[] } | { readonly ok: false; readonly reason: string };

export class CrlSources {
  readonly #entries = new Map<string, Entry>();
  readonly #timer: NodeJS.Timeout;
  #refreshing = false;

  constructor(
    private readonly logger: Logger,
    /** Told when a refresh changed what some CRL says (the snapshot is rebuilt). */
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
    tickMs = 1000,
  ) {
    this.#timer = setInterval(() => void this.refreshDue(), tickMs);
    this.#timer.unref();
  }

  /** Loads the sources never loaded before (a snapshot build awaits this). */
  async ensure(revocations: readonly Revocation[]): Promise<void> {
    const todo: Array<[string, CrlSource]> = [];
    for (const r of revocations) {
      for (const s of r.crls) {
        const key = sourceKey(s);
        const e = this.#entries.get(key);
        if (e) e.refreshMs = Math.min(e.refreshMs, r.refresh);
        else {
          this.#entries.set(key, { loaded: undefined, error: undefined, refreshMs: r.refresh, lastAttempt: 0 });
          todo.push([key, s]);
        }
      }
    }
    await Promise.all(todo.map(([key, s]) => this.#load(key, s)));
  }

  /** The CRLs of a domain, each verified against `trustedCas`, or why they cannot be used. */
  async forDomain(revocation: Revocation, trustedCas: string): Promise<DomainCrls> {
    const cas = splitPemCertificates(trustedCas).map((p) => new x509.X509Certificate(p));
    const pems: string[] = [];
    const now = this.now();
    for (const s of revocation.crls) {
      const e = this.#entries.get(sourceKey(s));
      const label = 'url' in s ? s.url : s.file;
      if (!e?.loaded) return { ok: false, reason: `CRL ${label} unavailable${e?.error ? `: ${e.error}` : ''}` };
      const { crl } = e.loaded;
      const next = crl.nextUpdate?.getTime();
      if (next !== undefined && next < now) return { ok: false, reason: `CRL ${label} is stale (nextUpdate ${new Date(next).toISOString()})` };
      let signed = false;
      for (const ca of cas) {
        if (ca.subject !== crl.issuer) continue;
        if (await crl.verify({ publicKey: ca }, pkiCrypto()).catch(() => false)) {
          signed = true;
          break;
        }
      }
      if (!signed) return { ok: false, reason: `CRL ${label} is not signed by any of the domain's trusted CAs` };
      pems.push(e.loaded.pem);
    }
    return { ok: true, pems };
  }

  /** Fetches again every source whose refresh interval has passed, or whose CRL nears its nextUpdate. */
  async refreshDue(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const now = this.now();
      let changed = false;
      for (const [key, e] of this.#entries) {
        const next = e.loaded?.crl.nextUpdate?.getTime();
        const due = now - e.lastAttempt >= e.refreshMs || (next !== undefined && next - now < e.refreshMs / 4) || (!e.loaded && now - e.lastAttempt >= 10_000);
        if (!due) continue;
        const before = e.loaded?.pem;
        const hadError = e.error;
        await this.#load(key, key.startsWith('url:') ? { url: key.slice(4) } : { file: key.slice(5) });
        if (e.loaded?.pem !== before || e.error !== hadError) changed = true;
      }
      if (changed) this.onChange();
    } finally {
      this.#refreshing = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #load(key: string, source: CrlSource): Promise<void> {
    const e = this.#entries.get(key)!;
    e.lastAttempt = this.now();
    try {
      const raw = 'url' in source ? await fetchCrl(source.url) : await readFile(source.file);
      const text = raw.toString('latin1');
      const crl = text.includes('-----BEGIN X509 CRL-----') ? new x509.X509Crl(text) : new x509.X509Crl(new Uint8Array(raw));
      // OpenSSL (Node's `crl` option) reads the "X509 CRL" PEM label only.
      e.loaded = { crl, pem: toPem(crl.rawData, 'X509 CRL'), loadedAt: this.now() };
      e.error = undefined;
    } catch (err) {
      // Keep the last good CRL: it stays usable until its nextUpdate.
      e.error = (err as Error).message;
      this.logger.warn({ source: key, err: { message: e.error } }, 'CRL could not be loaded');
    }
  }
}

async function fetchCrl(url: string): Promise<Buffer> {
  const res = await request(url, { method: 'GET', headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`HTTP ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    size += (c as Buffer).length;
    if (size > MAX_CRL_BYTES) throw new Error('CRL larger than 20 MB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
