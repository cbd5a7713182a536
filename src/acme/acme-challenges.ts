/**
 * Challenge answers, published in the shared store so that whichever node the CA reaches can answer:
 * http-01 on the plain-HTTP listener (`/.well-known/acme-challenge/<token>`, RFC 8555 §8.3) and
 * tls-alpn-01 certificates for the TLS listener (RFC 8737), by host name.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AcmeStore } from '../storage/acme-records.js';

export const HTTP01_PREFIX = '/.well-known/acme-challenge/';
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
/** How long a published answer stays valid: the CA validates within minutes. */
export const CHALLENGE_TTL_MS = 15 * 60_000;

const TLS_ALPN_PREFIX = 'tls-alpn-01:';

export function tlsAlpnKey(host: string): string {
  return `${TLS_ALPN_PREFIX}${host.toLowerCase()}`;
}

/** A tls-alpn-01 answer: the self-signed certificate carrying the key authorization, and its key. */
export interface TlsAlpnAnswer {
  readonly certPem: string;
  readonly keyPem: string;
}

export class AcmeChallenges {
  constructor(
    private readonly store: Pick<AcmeStore, 'getChallenge' | 'putChallenge' | 'deleteChallenge' | 'countChallenges'>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  publishHttp01(token: string, keyAuthorization: string): Promise<void> {
    return this.store.putChallenge(token, keyAuthorization, new Date(this.now() + CHALLENGE_TTL_MS));
  }

  publishTlsAlpn01(host: string, answer: TlsAlpnAnswer): Promise<void> {
    return this.store.putChallenge(tlsAlpnKey(host), JSON.stringify(answer), new Date(this.now() + CHALLENGE_TTL_MS));
  }

  /** The tls-alpn-01 answer for a host, while its validation is pending. */
  async tlsAlpn01(host: string): Promise<TlsAlpnAnswer | undefined> {
    const value = await this.store.getChallenge(tlsAlpnKey(host), new Date(this.now()));
    return value === undefined ? undefined : (JSON.parse(value) as TlsAlpnAnswer);
  }

  /** Whether any node has a tls-alpn-01 validation pending. */
  async tlsAlpnPending(): Promise<boolean> {
    return (await this.store.countChallenges(TLS_ALPN_PREFIX, new Date(this.now()))) > 0;
  }

  withdraw(key: string): Promise<void> {
    return this.store.deleteChallenge(key);
  }

  /**
   * Answers an http-01 validation request; returns false for any other path. Unknown and expired
   * tokens get 404. Never redirected: the CA follows redirects, but the answer must not depend on TLS.
   */
  handleHttp01(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (!path.startsWith(HTTP01_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const token = path.slice(HTTP01_PREFIX.length);
    const reply = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!TOKEN_RE.test(token)) {
      reply(404, 'not found');
      return true;
    }
    void this.store.getChallenge(token, new Date(this.now())).then(
      (answer) => reply(answer === undefined ? 404 : 200, answer ?? 'not found'),
      (err: unknown) => {
        this.logger.error({ err }, 'reading an ACME http-01 challenge failed');
        reply(503, 'unavailable');
      },
    );
    return true;
  }
}
