/**
 * Remote JSON Web Key Sets, shared for the gateway's lifetime. Config snapshots come and go; the
 * registry outlives them so a new snapshot reuses the keys (and the fetch cooldown state) that the
 * previous one already fetched. One registry per gateway, created at start and closed at stop; never
 * a module singleton.
 *
 * Fetching, caching and refetch-on-unknown-`kid` are jose's `createRemoteJWKSet`: a fetched set is
 * used for `cacheMaxAge`; a token whose `kid` is not in the set triggers a refetch only when
 * `cooldown` has passed since the last successful fetch (so rotated keys are picked up, and a
 * flood of tokens with made-up `kid`s cannot turn into a flood of fetches). Concurrent fetches of one
 * set are coalesced by jose. Timing uses the wall clock (`Date.now()`), not an injected clock.
 */

import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, type FetchImplementation, type RemoteJWKSet } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';

/** A key resolver for `jwtVerify`; rejects when no key matches or the set cannot be fetched. */
export type JwksResolver = RemoteJWKSet;

export interface JwksOptions {
  /** PEM bundle of CAs trusted for the fetch, replacing the system roots. */
  readonly ca?: string | undefined;
  /** How long a fetched set is used, in ms. */
  readonly cacheMaxAge: number;
  /** Least time between refetches triggered by an unknown `kid`, in ms. */
  readonly cooldown: number;
  /** Timeout of one fetch, in ms. Default 5000. */
  readonly timeoutMs?: number | undefined;
}

/** Default timeout of one JWKS fetch, in ms. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;

interface Entry {
  readonly resolver: JwksResolver;
  /** Key into `#agents`, or undefined when the fetch uses the system roots. */
  readonly caKey: string | undefined;
}

/**
 * Memoises remote JWKS resolvers per (URL, CA, cache settings). Not safe to use after {@link close}.
 * All methods are synchronous except `close`; safe to call from concurrent requests.
 */
export class JwksRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #agents = new Map<string, Agent>();
  #closed = false;

  /**
   * The resolver for a JWKS URL and settings: the same object for the same arguments, so its cache
   * is shared by every issuer config (and snapshot) that names it. Throws TypeError when the URL or
   * a duration is invalid, or after `close()`.
   */
  get(url: string, opts: JwksOptions): JwksResolver {
    if (this.#closed) throw new Error('JwksRegistry is closed');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
    const caKey = opts.ca === undefined ? undefined : createHash('sha256').update(opts.ca).digest('hex');
    const key = `${url}\n${caKey ?? '-'}\n${opts.cacheMaxAge}\n${opts.cooldown}\n${timeoutMs}`;
    const existing = this.#entries.get(key);
    if (existing) return existing.resolver;

    const options: Parameters<typeof createRemoteJWKSet>[1] = {
      cacheMaxAge: opts.cacheMaxAge,
      cooldownDuration: opts.cooldown,
      timeoutDuration: timeoutMs,
    };
    if (opts.ca !== undefined && caKey !== undefined) options[customFetch] = this.#fetchWithCa(caKey, opts.ca);
    const resolver = createRemoteJWKSet(new URL(url), options);
    this.#entries.set(key, { resolver, caKey });
    return resolver;
  }

  /**
   * Drops every resolver not in `inUse` (call after a config swap with the resolvers the new
   * snapshot holds) and closes agents no remaining resolver needs (in-flight fetches finish first).
   * Dropped resolvers still held by an old snapshot keep working; an agent one of them re-creates
   * is closed by the next `retain` or `close`.
   */
  async retain(inUse: Iterable<JwksResolver>): Promise<void> {
    const keep = new Set(inUse);
    const caKeys = new Set<string>();
    for (const [key, entry] of this.#entries) {
      if (!keep.has(entry.resolver)) this.#entries.delete(key);
      else if (entry.caKey !== undefined) caKeys.add(entry.caKey);
    }
    const closing: Promise<void>[] = [];
    for (const [caKey, agent] of this.#agents) {
      if (caKeys.has(caKey)) continue;
      this.#agents.delete(caKey);
      closing.push(agent.close());
    }
    await Promise.all(closing);
  }

  /** Number of memoised resolvers (for metrics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** Closes every agent; in-flight fetches finish first. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  /** A fetch for jose that trusts only `ca`, through one undici Agent per distinct CA bundle. */
  #fetchWithCa(caKey: string, ca: string): FetchImplementation {
    return (url, init) => {
      let agent = this.#agents.get(caKey);
      if (agent === undefined) {
        if (this.#closed) return Promise.reject(new Error('JwksRegistry is closed'));
        agent = new Agent({ connect: { ca } });
        this.#agents.set(caKey, agent);
      }
      // undici's own fetch (not Node's bundled one) so the dispatcher is the same undici version.
      // Its Response type differs from the DOM lib's only in typings.
      return undiciFetch(url, {
        method: init.method,
        headers: [...init.headers],
        redirect: init.redirect,
        signal: init.signal,
        dispatcher: agent,
      }) as unknown as Promise<Response>;
    };
  }
}
