import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { CredentialHasher } from './credential-secrets.js';
import type { AuthFailureLimiter } from './failure-limiter.js';
import type { IdentityIndex } from './identity-index.js';
import type { JwksRegistry } from './jwt/jwks-registry.js';
import type { JwtAuthenticator } from './jwt/jwt-authenticator.js';
import type { OAuthKeyring } from './oauth-keyring.js';
import type { UsageRecorder } from './usage-recorder.js';

/** Access machinery that lives as long as the gateway (caches, counters, keys), shared by every snapshot. */
export interface AccessRuntime {
  readonly hasher: CredentialHasher;
  readonly oauth: OAuthKeyring;
  readonly jwks: JwksRegistry;
  readonly failures: AuthFailureLimiter;
  readonly usage: UsageRecorder;
  readonly audit: AuditTrail | undefined;
  readonly logger: Logger;
  /** Told of every refused authentication (metrics): method tried (or "none") and internal reason. */
  readonly onFailure?: ((method: string, reason: string) => void) | undefined;
  readonly now?: () => number;
}

/** Access state of one config snapshot. */
export interface AccessSnapshot {
  readonly index: IdentityIndex;
  readonly jwt: JwtAuthenticator;
}
