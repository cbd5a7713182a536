import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Settings } from '../config/settings.js';
import { instanceKey } from '../secrets/instance-secret.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { Store } from '../storage/store.js';
import type { AccessRuntime } from './access-runtime.js';
import { CredentialHasher } from './credential-secrets.js';
import { AuthFailureLimiter } from './failure-limiter.js';
import { JwksRegistry } from './jwt/jwks-registry.js';
import { OAuthKeyring } from './oauth-keyring.js';
import { UsageRecorder } from './usage-recorder.js';

export interface CreateAccessRuntimeOptions {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  readonly settings: Settings['auth'];
  /** Told of every refused authentication (metrics). */
  readonly onFailure: (method: string, reason: string) => void;
}

/**
 * The gateway-lifetime authentication machinery: the credential hashing key (sealed in the store),
 * per-tenant OAuth2 keys, JWKS caches, failure limits (reaching one is a security event), last-used
 * recording. `close` releases what it holds.
 */
export async function createAccessRuntime(o: CreateAccessRuntimeOptions): Promise<AccessRuntime & { close(): Promise<void> }> {
  const { store, secrets, audit, logger } = o;
  const hasher = new CredentialHasher(await instanceKey(store, secrets, 'credential-hmac-key'));
  const oauth = new OAuthKeyring(store, secrets);
  const jwks = new JwksRegistry();
  const usage = new UsageRecorder(store, logger, o.settings.lastUsedFlushInterval);
  const { perSource, perTenant, window } = o.settings.failures;
  const failures = new AuthFailureLimiter({
    limits: { perSource, perTenant, windowMs: window },
    onLimit: (scope, key, count) => {
      logger.warn({ scope, key: scope === 'source' ? key : undefined, tenant: scope === 'tenant' ? key : undefined, count }, 'authentication failure limit reached');
      audit.security(`auth-failures:${scope}:${key}`, {
        action: 'security.auth_failures',
        tenant: scope === 'tenant' ? key : null,
        sourceIp: scope === 'source' ? key : null,
        details: { scope, failures: count, windowMs: window },
      });
    },
  });
  return {
    hasher,
    oauth,
    jwks,
    failures,
    usage,
    audit,
    logger,
    onFailure: o.onFailure,
    async close() {
      await usage.stop();
      await oauth.close();
      await jwks.close();
    },
  };
}
