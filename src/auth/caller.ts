import type { AuthMethod } from '../model/access.js';

/**
 * The authenticated caller of a request, set by the authenticate phase and read by every later phase
 * (authorisation, rate limits, cost tracking, logs). Never holds a secret: only public identifiers.
 */
export interface Caller {
  /** Tenant owning the application. */
  readonly tenant: string;
  readonly application: string;
  /** Methods that authenticated the call, in the service's order (two or more with `require: all`). */
  readonly methods: readonly AuthMethod[];
  /** Id of the credential used (API key or OAuth2 client record id), when one was. */
  readonly credentialId: string | undefined;
  /**
   * Public identifier of what was presented: an API key prefix, an OAuth2 client_id, a JWT issuer
   * name, or a client certificate's SHA-256 fingerprint. Safe to log.
   */
  readonly credential: string;
  /** Services the credential is limited to (`tenant/name`), or undefined for no limit. */
  readonly serviceScopes: ReadonlySet<string> | undefined;
  /** Models the credential is limited to, or undefined for no limit. */
  readonly modelScopes: ReadonlySet<string> | undefined;
}
