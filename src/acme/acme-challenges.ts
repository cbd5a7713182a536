/**
 * Challenge answers, published in the shared store so that whichever node the CA reaches can answer:
 * http-01 on the plain-HTTP listener (`/.well-known/acme-challenge/<token>`, RFC 8555 §8.3).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AcmeStore } from '../storage/acme-records.js';

export const HTTP01_PREFIX = '/.well-known/acme-challenge/';
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
/** How long a published answer stays valid: the CA validates within minutes. */
export const CHALLENGE_TTL_MS = 15 * 60_000;

export class AcmeChallenges {
  constructor(
    private readonly store: Pick<AcmeStore, 'getChallenge' | 'putChallenge' | 'deleteChallenge'>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  publishHttp01(token: string, keyAuthorization: string): Promise<void> {
    return this.store.putChallenge(token, keyAuthorization, new Date(this.now() + CHALLENGE_TTL_MS));
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
