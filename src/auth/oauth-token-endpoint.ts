/**
 * The gateway's OAuth 2.0 endpoints on the data plane (RFC 6749 client credentials grant):
 *
 * - `POST /_portcullis/oauth2/token`: `grant_type=client_credentials`, client authenticated with
 *   HTTP Basic (`client_secret_basic`) or form fields (`client_secret_post`). Answers a short-lived
 *   JWT access token signed with the client's tenant key. A client bound to a certificate must call
 *   over mutual TLS with that certificate, and its tokens are bound to it (`cnf.x5t#S256`).
 * - `GET /_portcullis/oauth2/{tenant}/jwks.json`: the tenant's public signing keys.
 *
 * Errors follow RFC 6749 §5.2 (`{"error":"invalid_client",…}`), the shape OAuth client libraries read,
 * and never say which part of the client's credentials failed.
 */

import type { RequestContext } from '../pipeline/context.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { AccessRuntime } from './access-runtime.js';
import { isClientId, isClientSecret } from './credential-secrets.js';

const TOKEN_PATH = '/_portcullis/oauth2/token';
const JWKS_RE = /^\/_portcullis\/oauth2\/([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)\/jwks\.json$/;
const MAX_BODY = 8192;

export interface OAuthEndpointOptions {
  /** Lifetime of issued access tokens, in seconds. */
  readonly tokenTtlSeconds: number;
}

function send(ctx: RequestContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const res = ctx.res;
  ctx.responded = true;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('x-request-id', ctx.requestId);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(text);
}

function oauthError(ctx: RequestContext, status: number, error: string, description: string): void {
  if (!ctx.req.complete && ctx.req.httpVersionMajor < 2) ctx.res.setHeader('connection', 'close');
  send(ctx, status, { error, error_description: description }, status === 401 ? { 'www-authenticate': 'Basic realm="portcullis"' } : {});
}

function readForm(ctx: RequestContext): Promise<URLSearchParams | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        ctx.req.pause();
        return;
      }
      chunks.push(c);
    });
    ctx.req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    ctx.req.on('error', () => resolve(undefined));
  });
}

/** client_id and client_secret from Basic auth or the form; undefined when absent or ambiguous. */
function clientCredentials(ctx: RequestContext, form: URLSearchParams): { id: string; secret: string } | undefined {
  const auth = ctx.req.headers.authorization;
  const formId = form.get('client_id') ?? undefined;
  const formSecret = form.get('client_secret') ?? undefined;
  if (auth !== undefined) {
    if (formSecret !== undefined || !/^basic /i.test(auth)) return undefined;
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    try {
      return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
    } catch {
      return undefined;
    }
  }
  return formId !== undefined && formSecret !== undefined ? { id: formId, secret: formSecret } : undefined;
}

export class OAuthEndpoints {
  constructor(
    private readonly rt: AccessRuntime,
    private readonly opts: OAuthEndpointOptions,
  ) {}

  /** Answers the request when it is for one of these endpoints; returns false otherwise. */
  handle(ctx: RequestContext, snapshot: Snapshot): boolean {
    if (ctx.path === TOKEN_PATH) {
      if (ctx.req.method !== 'POST') {
        ctx.res.setHeader('allow', 'POST');
        oauthError(ctx, 405, 'invalid_request', 'Use POST');
        return true;
      }
      this.#token(ctx, snapshot).catch((err: unknown) => {
        this.rt.logger.error({ err, requestId: ctx.requestId }, 'token endpoint failed');
        if (!ctx.res.headersSent) oauthError(ctx, 500, 'server_error', 'The token could not be issued');
      });
      return true;
    }
    const m = JWKS_RE.exec(ctx.path);
    if (m && ctx.req.method === 'GET' && snapshot.tenants.has(m[1]!)) {
      this.rt.oauth.jwks(m[1]!).then(
        (jwks) => send(ctx, 200, jwks, { 'cache-control': 'public, max-age=300' }),
        (err: unknown) => {
          this.rt.logger.error({ err }, 'jwks endpoint failed');
          oauthError(ctx, 500, 'server_error', 'Keys unavailable');
        },
      );
      return true;
    }
    return false;
  }

  async #token(ctx: RequestContext, snapshot: Snapshot): Promise<void> {
    const rt = this.rt;
    if (rt.failures.sourceBlocked(ctx.originIp)) {
      ctx.res.setHeader('retry-after', String(rt.failures.retryAfterSeconds(ctx.originIp)));
      return oauthError(ctx, 429, 'slow_down', 'Too many failed attempts; try again later');
    }
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return oauthError(ctx, 400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
    const form = await readForm(ctx);
    if (!form) return oauthError(ctx, 400, 'invalid_request', 'The body is too large or unreadable');
    const creds = clientCredentials(ctx, form);
    const deny = (reason: string) => {
      rt.onFailure?.('oauth2-client', reason);
      const tenant = entry?.tenant ?? '-';
      rt.failures.record(ctx.originIp, tenant);
      // Like the services' guards: failures against a tenant over its limit answer 429.
      if (rt.failures.tenantBlocked(tenant)) {
        ctx.res.setHeader('retry-after', String(rt.failures.retryAfterSeconds(tenant, 'tenant')));
        return oauthError(ctx, 429, 'slow_down', 'Too many failed attempts; try again later');
      }
      oauthError(ctx, 401, 'invalid_client', 'Client authentication failed');
    };
    const entry = creds && isClientId(creds.id) ? snapshot.access?.index.credential(creds.id) : undefined;
    if (!creds || !entry || entry.type !== 'oauth-client' || !isClientSecret(creds.secret)) {
      if (creds) rt.hasher.hash(creds.secret);
      return deny(creds ? 'unknown_client' : 'no_client_auth');
    }
    if (!rt.hasher.verify(creds.secret, entry.secretHash)) return deny('bad_secret');
    if (entry.revoked) {
      rt.audit?.security(`revoked:${entry.id}`, {
        action: 'security.revoked_credential_used',
        tenant: entry.tenant,
        sourceIp: ctx.originIp,
        object: { kind: 'credential', name: entry.prefix },
        details: { application: entry.application, endpoint: 'token' },
      });
      return deny('revoked');
    }
    if (entry.expiresAt <= (rt.now ?? Date.now)()) return deny('expired');
    const cert = ctx.clientCert;
    if (entry.boundCertificate !== undefined && cert?.fingerprint256 !== entry.boundCertificate) return deny('certificate_binding');
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') return oauthError(ctx, 400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported');
    rt.usage.touch(entry.id);
    const ttl = this.opts.tokenTtlSeconds;
    const token = await rt.oauth.sign(entry.tenant, {
      sub: entry.application,
      ttlSeconds: ttl,
      extra: { client_id: entry.prefix },
      ...(entry.boundCertificate !== undefined && cert ? { cnfX5tS256: Buffer.from(cert.fingerprint256, 'hex').toString('base64url') } : {}),
    });
    send(ctx, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl });
  }
}
