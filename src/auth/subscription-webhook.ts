/**
 * Tells approvers about new subscription requests: a POST of JSON to the service's `access.notify.url`,
 * signed with HMAC-SHA-256 over the body (`x-portcullis-signature: sha256=<hex>`) when a secret is
 * set. Fire and forget: up to 3 attempts with backoff; failures are logged, never thrown.
 */

import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import { secretAad } from '../config/secret-fields.js';
import type { SecretSealer } from '../config/secret-sealing.js';
import type { ServiceAccess } from '../model/access.js';
import { isSealed } from '../secrets/secret-box.js';
import type { SubscriptionRecord } from '../storage/store.js';

export function subscriptionNotifier(secrets: Pick<SecretSealer, 'open'>, logger: Logger, attempts = 3): (sub: SubscriptionRecord, access: ServiceAccess) => void {
  return (sub, access) => {
    const notify = access.notify;
    if (!notify) return;
    let secret: string | undefined;
    try {
      const raw = notify.secret;
      secret = raw !== undefined && isSealed(raw) ? secrets.open(raw, secretAad('service', sub.serviceTenant, sub.service, 'access.notify.secret')) : raw;
    } catch (err) {
      logger.error({ err, service: `${sub.serviceTenant}/${sub.service}` }, 'subscription webhook secret could not be opened');
      return;
    }
    const body = JSON.stringify({ event: 'subscription.requested', subscription: sub });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'portcullis' };
    if (secret !== undefined) headers['x-portcullis-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    void (async () => {
      for (let i = 1; i <= attempts; i++) {
        try {
          const res = await request(notify.url, { method: 'POST', headers, body, headersTimeout: 5000, bodyTimeout: 5000 });
          await res.body.dump();
          if (res.statusCode < 300) return;
          logger.warn({ status: res.statusCode, attempt: i, subscription: sub.id }, 'subscription webhook answered an error');
        } catch (err) {
          logger.warn({ err: { message: (err as Error).message }, attempt: i, subscription: sub.id }, 'subscription webhook failed');
        }
        if (i < attempts) await new Promise((r) => setTimeout(r, 250 * 2 ** i + Math.random() * 250));
      }
    })();
  };
}
