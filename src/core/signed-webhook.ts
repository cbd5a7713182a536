/**
 * Signed webhooks: a POST of a JSON body, signed with HMAC-SHA-256 over the exact body bytes
 * (`x-portcullis-signature: sha256=<hex>`) when a secret is set. A receiver verifies by computing the
 * same HMAC over the raw body it read (before any JSON parsing) and comparing in constant time.
 *
 * Delivery is explicit about retries: up to {@link WEBHOOK_BACKOFF_MS}.length + 1 attempts, waiting
 * the table's delay (plus up to 250 ms of jitter) between them. Any 2xx answer is a delivery; a
 * non-2xx answer or a network error is retried. Redirects are not followed.
 */

import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { request } from 'undici';

/** The header carrying `sha256=<hex HMAC of the body>`. */
export const SIGNATURE_HEADER = 'x-portcullis-signature';

/** Waits before the 2nd and 3rd attempts, ms (jitter added). */
export const WEBHOOK_BACKOFF_MS: readonly number[] = [500, 1000];

/** `sha256=<hex>`: HMAC-SHA-256 of `body` (UTF-8) keyed by `secret`. */
export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookTarget {
  readonly url: string;
  /** Signs the body when set. */
  readonly secret?: string | undefined;
}

export interface WebhookDeliveryOptions {
  /** Per-attempt timeout for the answer's head and body, ms (default 5000). */
  readonly timeoutMs?: number;
  /** Waits between attempts, ms (default {@link WEBHOOK_BACKOFF_MS}); its length + 1 is the number of attempts. */
  readonly backoffMs?: readonly number[];
  /** Facts logged with each failed attempt (never a secret). */
  readonly logContext?: Record<string, unknown>;
  /** Abandons the delivery (the attempt in flight and the waits): it then resolves `false`. */
  readonly signal?: AbortSignal | undefined;
}

/** Delivers one webhook; resolves `true` once delivered, `false` when every attempt failed. */
export type WebhookSender = (target: WebhookTarget, body: string, opts?: WebhookDeliveryOptions) => Promise<boolean>;

/**
 * A {@link WebhookSender} over undici. Failed attempts are logged at warn with `logContext`; the
 * returned promise never rejects. Safe to call concurrently.
 */
export function signedWebhookSender(logger: Logger): WebhookSender {
  return async (target, body, opts = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'portcullis' };
    if (target.secret !== undefined) headers[SIGNATURE_HEADER] = webhookSignature(body, target.secret);
    const backoff = opts.backoffMs ?? WEBHOOK_BACKOFF_MS;
    const timeout = opts.timeoutMs ?? 5000;
    const { signal } = opts;
    for (let attempt = 1; attempt <= backoff.length + 1; attempt++) {
      if (signal?.aborted) return false;
      try {
        const res = await request(target.url, { method: 'POST', headers, body, headersTimeout: timeout, bodyTimeout: timeout, signal });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return true;
        logger.warn({ ...opts.logContext, status: res.statusCode, attempt }, 'webhook answered an error');
      } catch (err) {
        if (signal?.aborted) return false;
        logger.warn({ ...opts.logContext, err: { message: (err as Error).message }, attempt }, 'webhook failed');
      }
      const wait = backoff[attempt - 1];
      if (wait !== undefined) await sleep(wait + Math.random() * 250, undefined, { signal }).catch(() => undefined);
    }
    return false;
  };
}
