/**
 * Tells approvers about new subscription requests: a POST of JSON to the service's `access.notify.url`,
 * signed with HMAC-SHA-256 over the body (`x-portcullis-signature: sha256=<hex>`) when a secret is
 * set (see core/signed-webhook.ts). Fire and forget: failures are logged, never thrown.
 */

import type { Logger } from 'pino';
import { secretAad } from '../config/secret-fields.js';
import type { SecretSealer } from '../config/secret-sealing.js';
import { signedWebhookSender, type WebhookSender } from '../core/signed-webhook.js';
import type { ServiceAccess } from '../model/access.js';
import { isSealed } from '../secrets/secret-box.js';
import type { SubscriptionRecord } from '../storage/store.js';

export function subscriptionNotifier(secrets: Pick<SecretSealer, 'open'>, logger: Logger, send: WebhookSender = signedWebhookSender(logger)): (sub: SubscriptionRecord, access: ServiceAccess) => void {
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
    void send({ url: notify.url, secret }, body, { logContext: { webhook: 'subscription', subscription: sub.id } });
  };
}
