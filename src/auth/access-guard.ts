/**
 * The access guard of a service with an `access` block: joins the authenticate phase (who is
 * calling: API key, JWT, gateway-issued OAuth2 token, client certificate) and the authorize phase
 * (may this application call this service: tenant visibility, credential scopes, an approved
 * subscription). One instance per service and snapshot.
 *
 * Failures never say which part failed: every authentication failure is the same 401 (or 429 once
 * the source or tenant is over its failure limit); the internal reason goes to metrics and logs.
 */

import { gatewayError } from '../core/errors.js';
import type { AuthMethod, ServiceAccess } from '../model/access.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PluginInstance } from '../pipeline/plugin.js';
import type { ClientCertificate } from '../tls/client-certificate.js';
import type { AccessRuntime, AccessSnapshot } from './access-runtime.js';
import type { Caller } from './caller.js';
import { apiKeyPrefix } from './credential-secrets.js';
import type { AppRef, CredentialEntry } from './identity-index.js';
import { JwtRejected, type VerifiedJwt } from './jwt/jwt-authenticator.js';
import { gatewayTokenTenant } from './oauth-keyring.js';
import { presentedCredentials, type PresentedCredentials } from './presented-credentials.js';

/** One method's outcome: undefined when nothing for it was presented. */
type Outcome = Success | Failure | undefined;

interface Success {
  readonly ok: true;
  readonly method: AuthMethod;
  readonly app: AppRef;
  readonly credentialId: string | undefined;
  readonly credential: string;
  readonly entry: CredentialEntry | undefined;
  /** The request header the credential came in: consumed by the gateway, never forwarded upstream. */
  readonly header?: 'x-api-key' | 'authorization' | undefined;
}

interface Failure {
  readonly ok: false;
  readonly method: AuthMethod | 'none';
  readonly reason: string;
}

const fail = (method: AuthMethod | 'none', reason: string): Failure => ({ ok: false, method, reason });

export interface GuardedService {
  readonly tenant: string;
  readonly name: string;
  readonly access: ServiceAccess;
}

/** base64url SHA-256 of a certificate, from its hex fingerprint (RFC 8705 `x5t#S256`). */
function thumbprint(cert: ClientCertificate | undefined): string | undefined {
  return cert ? Buffer.from(cert.fingerprint256, 'hex').toString('base64url') : undefined;
}

const WWW_AUTHENTICATE = 'Bearer realm="portcullis"';

export function createAccessGuard(svc: GuardedService, snap: AccessSnapshot, rt: AccessRuntime): PluginInstance {
  const { access } = svc;
  const methods = access.methods;
  const serviceKey = `${svc.tenant}/${svc.name}`;
  const allowedTenants: ReadonlySet<string> = new Set([svc.tenant, ...access.sharedWith]);
  const now = rt.now ?? Date.now;

  function checkEntry(method: AuthMethod, entry: CredentialEntry, cert: ClientCertificate | undefined, sourceIp: string): Failure | undefined {
    if (entry.revoked) {
      rt.audit?.security(`revoked:${entry.id}`, {
        action: 'security.revoked_credential_used',
        tenant: entry.tenant,
        sourceIp,
        object: { kind: 'credential', name: entry.prefix },
        details: { application: entry.application, service: serviceKey },
      });
      return fail(method, 'revoked');
    }
    if (entry.expiresAt <= now()) return fail(method, 'expired');
    if (entry.boundCertificate !== undefined && cert?.fingerprint256 !== entry.boundCertificate) return fail(method, 'certificate_binding');
    if (!allowedTenants.has(entry.tenant)) return fail(method, 'foreign_tenant');
    return undefined;
  }

  function apiKey(p: PresentedCredentials, ctx: RequestContext): Outcome {
    const key = p.apiKey;
    if (key === undefined) return undefined;
    const prefix = apiKeyPrefix(key);
    const entry = prefix === undefined ? undefined : snap.index.credential(prefix);
    if (entry === undefined || entry.type !== 'api-key') {
      rt.hasher.hash(key); // same work as a known prefix: no timing signal about which prefixes exist
      return fail('api-key', prefix === undefined ? 'malformed' : 'unknown');
    }
    if (!rt.hasher.verify(key, entry.secretHash)) return fail('api-key', 'bad_secret');
    const bad = checkEntry('api-key', entry, ctx.clientCert, ctx.originIp);
    if (bad) return bad;
    return { ok: true, method: 'api-key', app: { tenant: entry.tenant, name: entry.application }, credentialId: entry.id, credential: entry.prefix, entry, header: p.apiKeyHeader };
  }

  function boundOk(v: VerifiedJwt, cert: ClientCertificate | undefined): boolean {
    return v.certThumbprint === undefined || v.certThumbprint === thumbprint(cert);
  }

  function jwtDone(v: VerifiedJwt, cert: ClientCertificate | undefined): Outcome {
    if (!boundOk(v, cert)) return fail('jwt', 'certificate_binding');
    const app = snap.index.jwtApplication(v.tenant, v.issuerName, v.subject);
    if (!app) return fail('jwt', 'unmapped_subject');
    return { ok: true, method: 'jwt', app, credentialId: undefined, credential: v.issuerName, entry: undefined, header: 'authorization' };
  }

  function oauthDone(v: VerifiedJwt, tenant: string, ctx: RequestContext): Outcome {
    const cert = ctx.clientCert;
    if (!boundOk(v, cert)) return fail('oauth2', 'certificate_binding');
    const entry = snap.index.credential(v.subject);
    if (!entry || entry.type !== 'oauth-client' || entry.tenant !== tenant || v.claims.sub !== entry.application) return fail('oauth2', 'unknown_client');
    const bad = checkEntry('oauth2', entry, cert, ctx.originIp);
    if (bad) return bad;
    return { ok: true, method: 'oauth2', app: { tenant, name: entry.application }, credentialId: entry.id, credential: entry.prefix, entry, header: 'authorization' };
  }

  const rejected = (method: AuthMethod) => (err: unknown) => fail(method, err instanceof JwtRejected ? err.reason : 'error');

  function bearer(p: PresentedCredentials, ctx: RequestContext, want: AuthMethod): Outcome | Promise<Outcome> {
    const token = p.bearer;
    if (token === undefined) return undefined;
    const issuedHere = gatewayTokenTenant(token);
    if ((issuedHere !== undefined) !== (want === 'oauth2')) return undefined;
    try {
      if (want === 'oauth2') {
        const tenant = issuedHere!;
        if (!allowedTenants.has(tenant)) return fail('oauth2', 'foreign_tenant');
        const r = rt.oauth.verify(token, tenant);
        return r instanceof Promise ? r.then((v) => oauthDone(v, tenant, ctx), rejected('oauth2')) : oauthDone(r, tenant, ctx);
      }
      const r = snap.jwt.verify(token, allowedTenants);
      return r instanceof Promise ? r.then((v) => jwtDone(v, ctx.clientCert), rejected('jwt')) : jwtDone(r, ctx.clientCert);
    } catch (err) {
      return rejected(want)(err);
    }
  }

  function mtls(ctx: RequestContext): Outcome {
    const cert = ctx.clientCert;
    if (!cert) return undefined;
    for (const app of snap.index.certificateApplications(cert)) {
      if (allowedTenants.has(app.tenant)) return { ok: true, method: 'mtls', app, credentialId: undefined, credential: cert.fingerprint256, entry: undefined };
    }
    return access.require === 'all' ? fail('mtls', 'unmapped_certificate') : undefined;
  }

  function evaluate(method: AuthMethod, p: PresentedCredentials, ctx: RequestContext): Outcome | Promise<Outcome> {
    switch (method) {
      case 'api-key':
        return apiKey(p, ctx);
      case 'jwt':
      case 'oauth2':
        return bearer(p, ctx, method);
      case 'mtls':
        return mtls(ctx);
    }
  }

  /** Turns the outcomes (in method order) into a caller, or a failure. */
  function decide(outcomes: readonly Outcome[]): Success[] | Failure {
    const successes: Success[] = [];
    let presentedAny = false;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i];
      if (o === undefined) {
        if (access.require === 'all') return fail(methods[i]!, 'missing');
        continue;
      }
      presentedAny = true;
      if (!o.ok) return o;
      successes.push(o);
    }
    if (!presentedAny || successes.length === 0) return fail('none', 'missing');
    // Credentials naming different applications leave the caller ambiguous, whatever `require` says:
    // with `any` the first would otherwise be the caller while another's credential (and scopes) rode along.
    const first = successes[0]!.app;
    if (successes.some((s) => s.app.tenant !== first.tenant || s.app.name !== first.name)) return fail('none', 'different_applications');
    return successes;
  }

  function refuse(ctx: RequestContext, failure: Failure): never {
    rt.onFailure?.(failure.method, failure.reason);
    // A request that presented nothing guessed nothing (a health check, a browser's first try): it
    // gets its 401 but does not count towards the failure limits, so it cannot lock a shared address out.
    if (failure.reason !== 'missing') rt.failures.record(ctx.originIp, svc.tenant);
    if (rt.failures.tenantBlocked(svc.tenant)) {
      ctx.res.setHeader('retry-after', String(rt.failures.retryAfterSeconds(svc.tenant, 'tenant')));
      throw gatewayError('TOO_MANY_AUTH_FAILURES');
    }
    ctx.res.setHeader('www-authenticate', WWW_AUTHENTICATE);
    throw gatewayError('AUTH_REQUIRED');
  }

  function accept(ctx: RequestContext, result: Success[] | Failure): void {
    if (!Array.isArray(result)) refuse(ctx, result);
    const first = result[0]!;
    const entry = result.find((s) => s.entry !== undefined)?.entry;
    const caller: Caller = {
      tenant: first.app.tenant,
      application: first.app.name,
      methods: result.map((s) => s.method),
      credentialId: entry?.id,
      credential: entry?.prefix ?? first.credential,
      serviceScopes: entry?.serviceScopes,
      modelScopes: entry?.modelScopes,
    };
    ctx.caller = caller;
    // The gateway's credentials stop here: an upstream (possibly another tenant's, for a shared
    // service) never receives a key or token it could replay.
    for (const s of result) if (s.header !== undefined) ctx.consumeRequestHeader(s.header);
  }

  return {
    authenticate(ctx) {
      if (rt.failures.sourceBlocked(ctx.originIp)) {
        ctx.res.setHeader('retry-after', String(rt.failures.retryAfterSeconds(ctx.originIp)));
        throw gatewayError('TOO_MANY_AUTH_FAILURES');
      }
      const p = presentedCredentials(ctx.req.headers);
      if (p.malformed) refuse(ctx, fail('none', 'malformed'));
      const outcomes: Array<Outcome | Promise<Outcome>> = [];
      let pending = false;
      for (const m of methods) {
        const o = evaluate(m, p, ctx);
        if (o instanceof Promise) pending = true;
        outcomes.push(o);
      }
      if (!pending) return accept(ctx, decide(outcomes as Outcome[]));
      return Promise.all(outcomes).then((resolved) => accept(ctx, decide(resolved)));
    },

    authorize(ctx) {
      const caller = ctx.caller;
      if (!caller) throw gatewayError('AUTH_REQUIRED');
      if (!allowedTenants.has(caller.tenant) || (caller.serviceScopes !== undefined && !caller.serviceScopes.has(serviceKey))) {
        throw gatewayError('ACCESS_DENIED');
      }
      const status = snap.index.subscription(caller.tenant, caller.application, svc.tenant, svc.name);
      if (status === 'pending') throw gatewayError('SUBSCRIPTION_PENDING');
      if (status !== 'approved') throw gatewayError('ACCESS_DENIED', 'The application is not subscribed to this service');
      // A use is a call let through: refused calls (another method missing, no subscription) are not.
      if (caller.credentialId !== undefined) rt.usage.touch(caller.credentialId);
      if (access.forwardIdentity) {
        ctx.setUpstreamHeader('x-portcullis-tenant', caller.tenant);
        ctx.setUpstreamHeader('x-portcullis-application', caller.application);
        ctx.setUpstreamHeader('x-portcullis-credential', caller.credential);
        ctx.setUpstreamHeader('x-portcullis-auth-method', caller.methods.join(','));
      }
    },
  };
}
