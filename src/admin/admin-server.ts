/**
 * The admin API server: HTTPS with the strict TLS policy, the admin route table, bearer-token
 * authentication, JSON in and out, one log line per request (never a header value or a body).
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ConfigService } from '../config/config-service.js';
import type { AccessService } from '../auth/access-service.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { AuditContext } from '../audit/audit-context.js';
import { tenantBoundStore } from '../storage/tenant-bound-store.js';
import { accessRoutes } from './access-routes.js';
import { pkiRoutes } from './pki-routes.js';
import { inventoryRoutes } from './inventory-routes.js';
import { llmUsageRoutes } from './llm-usage-routes.js';
import { acmeRoutes } from './acme-routes.js';
import type { InventoryReader } from '../pki/expiry/certificate-inventory.js';
import type { CaService } from '../pki/ca-service.js';
import { Errors, GatewayError, gatewayError, toGatewayError } from '../core/errors.js';
import { createHttpsListener } from '../listeners/https-listener.js';
import type { Listener } from '../listeners/listener.js';
import type { Store } from '../storage/store.js';
import type { AdminAuth, AdminPrincipal } from './admin-auth.js';
import { readJsonBody, sendEmpty, sendError, sendJson, sendText } from './admin-http.js';
import { AdminRouter } from './admin-router.js';
import { adminRoutes, PATH_PARAMS, type AdminRoute } from './admin-routes.js';
import { parseParam } from './admin-schemas.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.js';

/** What the admin server needs to know about the data plane's config snapshot. */
export interface SnapshotStatus {
  readonly revision: number;
  readonly error: Error | undefined;
  readonly current: unknown;
}

export interface AdminServerLimits {
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}

export const DEFAULT_ADMIN_LIMITS: Readonly<AdminServerLimits> = Object.freeze({
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
});

export interface AdminListenerDeps {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  readonly logger: Logger;
  readonly configService: ConfigService;
  readonly accessService: AccessService;
  readonly caService: CaService;
  /** The audit trail (chain key, security events); absent in some unit tests. */
  readonly audit?: AuditTrail | undefined;
  readonly store: Store;
  readonly snapshots: SnapshotStatus;
  readonly auth: AdminAuth;
  readonly version: string;
  readonly limits?: Partial<AdminServerLimits>;
  /** Prometheus exposition for `GET /metrics`; without it the endpoint answers 404. */
  readonly metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
  /** Certificate inventories (with the listener's certificate); default: without it. */
  readonly inventory?: InventoryReader | undefined;
}

export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The endpoints served (the OpenAPI document lists exactly these). */
  readonly routes: readonly AdminRoute[];
  readonly openapi: () => OpenApiDocument;
}

/** Splits a request target into pathname and query; only origin-form targets (`/…`) are accepted. */
function parseTarget(target: string | undefined): { pathname: string; query: URLSearchParams } {
  if (!target || target.charCodeAt(0) !== 47 /* / */) throw gatewayError('BAD_REQUEST', 'Request target must be a path');
  const q = target.indexOf('?');
  return q < 0 ? { pathname: target, query: new URLSearchParams() } : { pathname: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

function clientIp(req: IncomingMessage): string | null {
  const a = req.socket.remoteAddress;
  if (!a) return null;
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The admin API request handler (exposed for tests and for embedding in another server). */
export function createAdminHandler(
  deps: Pick<AdminListenerDeps, 'logger' | 'configService' | 'accessService' | 'caService' | 'audit' | 'store' | 'snapshots' | 'auth' | 'version' | 'metrics' | 'inventory'>,
  opts: { isDraining?: () => boolean } = {},
): AdminHandler {
  const { logger, auth } = deps;
  const isDraining = opts.isDraining ?? (() => false);
  let doc: OpenApiDocument | undefined;
  const openapi = (): OpenApiDocument => (doc ??= buildOpenApiDocument(routes, { version: deps.version }));
  const routes: AdminRoute[] = [...adminRoutes({ store: deps.store, snapshots: deps.snapshots, openapi, metrics: deps.metrics }), ...accessRoutes({ audit: deps.audit }), ...pkiRoutes(), ...inventoryRoutes({ inventory: deps.inventory }), ...llmUsageRoutes(), ...acmeRoutes()];
  const router = new AdminRouter(routes);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    let path = '-';
    let principal: AdminPrincipal | undefined;
    res.once('close', () => {
      logger.info(
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...(principal ? { principal: principal.name } : {}),
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'admin request',
      );
    });
    const common: Record<string, string> = { 'x-request-id': requestId };
    if (isDraining()) common.connection = 'close';
    try {
      const target = parseTarget(req.url);
      path = target.pathname;
      const found = router.match(req.method ?? '', target.pathname);
      if (found.kind === 'not-found') throw gatewayError('NOT_FOUND', 'No such admin endpoint');
      if (found.kind === 'method-not-allowed') {
        common.allow = found.allow.join(', ');
        throw gatewayError('METHOD_NOT_ALLOWED', `Method ${req.method ?? ''} is not allowed here; allowed: ${common.allow}`);
      }
      const { route } = found;
      if (route.permission) principal = await auth.authenticate(headerValue(req.headers.authorization));
      const params: Record<string, string> = {};
      for (const [name, raw] of Object.entries(found.params)) params[name] = parseParam(PATH_PARAMS[name]!, raw, name) as string;
      if (route.permission && principal) auth.authorize(principal, route.permission(params));
      const query: Record<string, unknown> = {};
      for (const q of route.query ?? []) query[q.name] = parseParam(q.schema, target.query.get(q.name) ?? undefined, q.name);
      const body = route.body ? await readJsonBody(req) : undefined;
      const sourceIp = clientIp(req);
      const context: AuditContext = {
        actor: principal ? { id: principal.id, name: principal.name, role: principal.role, tenant: principal.tenant } : { id: 'anonymous', name: 'anonymous', role: null, tenant: null },
        sourceIp,
      };
      // A tenant-scoped principal only ever holds a store view limited to its tenant.
      const store = principal?.tenant ? tenantBoundStore(deps.store, principal.tenant) : deps.store;
      const result = await route.handle({
        params,
        query,
        headers: req.headers,
        body,
        principal,
        store,
        sourceIp,
        config: deps.configService.as(context, store),
        access: deps.accessService.as(context, store),
        pki: deps.caService.as(context, store),
      });
      const headers = { ...common, ...result.headers };
      if (result.text) sendText(res, result.status, result.text.contentType, result.text.body, headers);
      else if (result.body === undefined) sendEmpty(res, result.status, headers);
      else sendJson(res, result.status, result.body, headers);
    } catch (err) {
      const ge = toGatewayError(err);
      if (ge.code === Errors.INTERNAL.code) logger.error({ err, requestId, path }, 'admin request failed');
      else if (ge.code === Errors.STORAGE.code) logger.warn({ err: { message: ge.message, code: ge.code }, requestId, path }, 'admin request: storage unavailable');
      if (ge.status === 401) common['www-authenticate'] = 'Bearer';
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, ge instanceof GatewayError ? ge : toGatewayError(ge), common);
    }
  }

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'admin handler crashed');
      if (!res.headersSent) sendError(res, gatewayError('INTERNAL'));
      else res.destroy();
    });
  }) as AdminHandler;
  Object.defineProperty(handler, 'routes', { value: routes });
  Object.defineProperty(handler, 'openapi', { value: openapi });
  return handler;
}

/** The admin API as a {@link Listener}: HTTPS (strict TLS policy), graceful stop. */
export function createAdminListener(deps: AdminListenerDeps): Listener {
  let draining = false;
  const handler = createAdminHandler(deps, { isDraining: () => draining });
  return createHttpsListener({
    name: 'admin',
    host: deps.host,
    port: deps.port,
    certPem: deps.certPem,
    keyPem: deps.keyPem,
    limits: { ...DEFAULT_ADMIN_LIMITS, ...deps.limits },
    handler,
    logger: deps.logger,
    onDrainStart: () => {
      draining = true;
    },
  });
}
