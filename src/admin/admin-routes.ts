/**
 * The admin API's endpoints: one table, read by the router (which serves exactly these) and by the
 * OpenAPI generator (which documents exactly these, from the same zod schemas that validate them).
 */

import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { ConfigDocumentSchema } from '../config/config-document.js';
import { SPEC_SCHEMAS, type ConfigService } from '../config/config-service.js';
import { gatewayError } from '../core/errors.js';
import { TenantSpecSchema } from '../model/tenant.js';
import { CONFIG_KINDS, type ConfigKind, type Store } from '../storage/store.js';
import type { AdminPermission, AdminPrincipal } from './admin-auth.js';
import type { AccessService } from '../auth/access-service.js';
import type { CaService } from '../pki/ca-service.js';
import type { Permission } from './roles.js';
import { IdParamSchema } from './access-schemas.js';
import { CaParamSchema, SerialParamSchema } from './pki-routes.js';
import {
  ApplyResultSchema,
  CursorQuerySchema,
  DryRunQuerySchema,
  HealthSchema,
  IfMatchHeaderSchema,
  LimitQuerySchema,
  NameParamSchema,
  objectSchema,
  pageSchema,
  parseIfMatch,
  ReadySchema,
  replaceBodySchema,
  TenantParamSchema,
  TenantSchema,
} from './admin-schemas.js';

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A schema with the component name it is documented under. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

export interface ParamSpec {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** Schemas of path parameters, by name (every `{param}` of a template must be here). */
export const PATH_PARAMS: Readonly<Record<string, z.ZodType>> = { tenant: TenantParamSchema, name: NameParamSchema, id: IdParamSchema, serial: SerialParamSchema, ca: CaParamSchema };

export interface AdminRequest {
  /** Path parameters, validated with {@link PATH_PARAMS}. */
  readonly params: Readonly<Record<string, string>>;
  /** Declared query parameters, parsed with their schemas (defaults applied). */
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, for routes that declare one. */
  readonly body: unknown;
  readonly principal: AdminPrincipal | undefined;
  /** The config service acting for the principal (audited as such, through its tenant-bound store view). */
  readonly config: ConfigService;
  /** Credentials and subscriptions, acting for the principal. */
  readonly access: AccessService;
  /** Built-in certificate authorities, acting for the principal. */
  readonly pki: CaService;
  /** The store as the principal may see it. */
  readonly store: Store;
  /** The client's address, for the audit trail. */
  readonly sourceIp: string | null;
}

export interface AdminResponse {
  readonly status: number;
  /** Omitted for 204. */
  readonly body?: unknown;
  /** A non-JSON body (for example the Prometheus exposition format); replaces `body`. */
  readonly text?: { readonly contentType: string; readonly body: string };
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AdminRoute {
  readonly method: AdminMethod;
  /** Template with `{param}` segments. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** What the request needs; null for public endpoints (no authentication). */
  readonly permission: ((params: Readonly<Record<string, string>>) => AdminPermission) | null;
  readonly query?: readonly ParamSpec[];
  /** Request headers the endpoint reads (documentation; the handler parses them). */
  readonly headers?: readonly ParamSpec[];
  /** JSON request body (validated by the handler's service with this schema). */
  readonly body?: NamedSchema;
  readonly success: { readonly status: number; readonly description: string; readonly body?: NamedSchema; readonly headers?: readonly string[]; readonly contentType?: string };
  /** Error statuses the endpoint may answer with (besides 500). */
  readonly errors: readonly number[];
  handle(req: AdminRequest): Promise<AdminResponse>;
}

export interface AdminRoutesDeps {
  readonly store: Pick<Store, 'ping'>;
  readonly snapshots: { readonly revision: number; readonly current: unknown };
  /** The OpenAPI document (built from the final route table, hence lazily). */
  readonly openapi: () => unknown;
  /** Prometheus exposition; the /metrics endpoint exists only when given. */
  readonly metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
}

export const API_PREFIX = '/admin/v1';

const PAGE_QUERY: readonly ParamSpec[] = [
  { name: 'limit', schema: LimitQuerySchema },
  { name: 'cursor', schema: CursorQuerySchema },
];

const AUTH_ERRORS = [401, 403] as const;
const READ_ERRORS = [400, ...AUTH_ERRORS, 404, 503] as const;
const BODY_ERRORS = [400, ...AUTH_ERRORS, 404, 409, 413, 415, 503] as const;

const KIND_PLURAL: Record<ConfigKind, string> = {
  certificate: 'certificates',
  domain: 'domains',
  service: 'services',
  route: 'routes',
  application: 'applications',
  'jwt-issuer': 'jwt-issuers',
  'llm-provider': 'llm-providers',
  'llm-policy': 'llm-policies',
};
const KIND_TITLE: Record<ConfigKind, string> = {
  certificate: 'Certificate',
  domain: 'Domain',
  service: 'Service',
  route: 'Route',
  application: 'Application',
  'jwt-issuer': 'JwtIssuer',
  'llm-provider': 'LlmProvider',
  'llm-policy': 'LlmPolicy',
};
const DELETE_SUMMARY: Partial<Record<ConfigKind, string>> = {
  service: 'Delete a service (refused while routes use it)',
  application: "Delete an application, with its credentials and subscriptions",
  certificate: 'Delete a certificate (refused while domains use it)',
};

/** A permission on the tenant named by the `{tenant}` path parameter. */
export const onTenant =
  (permission: Permission) =>
  (p: Readonly<Record<string, string>>): AdminPermission => ({ permission, tenant: p.tenant });
/** A permission not tied to one tenant (tenant-scoped principals see only their tenant's part). */
export const anyTenant =
  (permission: Permission) =>
  (): AdminPermission => ({ permission });
const read = onTenant('config.read');
const writeKind = (kind: ConfigKind) => onTenant(kind === 'application' ? 'applications.write' : 'config.write');

function etag(version: number): string {
  return `"${version}"`;
}

function tenantUrl(tenant: string): string {
  return `${API_PREFIX}/tenants/${encodeURIComponent(tenant)}`;
}

function objectRoutes(kind: ConfigKind): AdminRoute[] {
  const write = writeKind(kind);
  const plural = KIND_PLURAL[kind];
  const title = KIND_TITLE[kind];
  const titles = title.endsWith('y') ? `${title.slice(0, -1)}ies` : `${title}s`;
  const collection = `${API_PREFIX}/tenants/{tenant}/${plural}`;
  const item = `${collection}/{name}`;
  const objectBody: NamedSchema = { name: title, schema: objectSchema(kind) };
  const location = (tenant: string, name: string) => `${tenantUrl(tenant)}/${plural}/${encodeURIComponent(name)}`;
  return [
    {
      method: 'GET',
      path: collection,
      operationId: `list${titles}`,
      summary: `List the tenant's ${plural} (by name, paginated)`,
      tag: titles,
      permission: read,
      query: PAGE_QUERY,
      success: { status: 200, description: `A page of ${plural}`, body: { name: `${title}Page`, schema: pageSchema(objectSchema(kind)) } },
      errors: READ_ERRORS,
      async handle(req) {
        const page = await req.config.list(req.params.tenant!, kind, { limit: req.query.limit as number, cursor: req.query.cursor as string | undefined });
        return { status: 200, body: page };
      },
    },
    {
      method: 'POST',
      path: collection,
      operationId: `create${title}`,
      summary: `Create a ${kind}`,
      tag: titles,
      permission: write,
      body: { name: `${title}Input`, schema: SPEC_SCHEMAS[kind] },
      success: { status: 201, description: `The created ${kind}`, body: objectBody, headers: ['Location', 'ETag'] },
      errors: BODY_ERRORS,
      async handle(req) {
        const view = await req.config.create(req.params.tenant!, kind, req.body);
        return { status: 201, body: view, headers: { location: location(req.params.tenant!, view.name), etag: etag(view.version) } };
      },
    },
    {
      method: 'GET',
      path: item,
      operationId: `get${title}`,
      summary: `Get a ${kind}`,
      tag: titles,
      permission: read,
      success: { status: 200, description: `The ${kind}`, body: objectBody, headers: ['ETag'] },
      errors: READ_ERRORS,
      async handle(req) {
        const view = await req.config.get(req.params.tenant!, kind, req.params.name!);
        return { status: 200, body: view, headers: { etag: etag(view.version) } };
      },
    },
    {
      method: 'PUT',
      path: item,
      operationId: `replace${title}`,
      summary: `Replace a ${kind}'s spec ("<redacted>" secret values keep the stored ones)`,
      tag: titles,
      permission: write,
      headers: [{ name: 'If-Match', schema: IfMatchHeaderSchema }],
      body: { name: `${title}ReplaceInput`, schema: replaceBodySchema(kind) },
      success: { status: 200, description: `The ${kind} after the change`, body: objectBody, headers: ['ETag'] },
      errors: BODY_ERRORS,
      async handle(req) {
        const ifMatch = req.headers['if-match'];
        const expectedVersion = parseIfMatch(Array.isArray(ifMatch) ? ifMatch[0] : ifMatch);
        const view = await req.config.replace(req.params.tenant!, kind, req.params.name!, req.body, { expectedVersion });
        return { status: 200, body: view, headers: { etag: etag(view.version) } };
      },
    },
    {
      method: 'DELETE',
      path: item,
      operationId: `delete${title}`,
      summary: DELETE_SUMMARY[kind] ?? `Delete a ${kind}`,
      tag: titles,
      permission: write,
      success: { status: 204, description: 'Deleted' },
      errors: [...READ_ERRORS, 409],
      async handle(req) {
        await req.config.delete(req.params.tenant!, kind, req.params.name!);
        return { status: 204 };
      },
    },
  ];
}

/** Every admin endpoint. */
export function adminRoutes(deps: AdminRoutesDeps): AdminRoute[] {
  const tenantBody: NamedSchema = { name: 'Tenant', schema: TenantSchema };
  return [
    {
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: the admin server answers',
      tag: 'Health',
      permission: null,
      success: { status: 200, description: 'Alive', body: { name: 'Health', schema: HealthSchema } },
      errors: [],
      async handle() {
        return { status: 200, body: { status: 'ok' } };
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      operationId: 'ready',
      summary: 'Readiness: a config snapshot is loaded and storage answers',
      tag: 'Health',
      permission: null,
      success: { status: 200, description: 'Ready', body: { name: 'Ready', schema: ReadySchema } },
      errors: [503],
      async handle() {
        if (deps.snapshots.current === undefined) throw gatewayError('NOT_READY', 'No configuration snapshot is loaded yet');
        try {
          await deps.store.ping();
        } catch {
          throw gatewayError('NOT_READY', 'Storage is not reachable');
        }
        return { status: 200, body: { status: 'ready', revision: deps.snapshots.revision } };
      },
    },
    ...(deps.metrics
      ? [
          {
            method: 'GET' as const,
            path: '/metrics',
            operationId: 'metrics',
            summary: 'Prometheus metrics (text exposition format); needs an admin token',
            tag: 'Health',
            permission: anyTenant('metrics.read'),
            success: { status: 200, description: 'Metrics', contentType: 'text/plain; version=0.0.4' },
            errors: AUTH_ERRORS,
            async handle() {
              return { status: 200, text: await deps.metrics!() };
            },
          } satisfies AdminRoute,
        ]
      : []),
    {
      method: 'GET',
      path: `${API_PREFIX}/openapi.json`,
      operationId: 'openapi',
      summary: 'This API, as an OpenAPI 3.1 document',
      tag: 'Meta',
      permission: null,
      success: { status: 200, description: 'The OpenAPI document' },
      errors: [],
      async handle() {
        return { status: 200, body: deps.openapi() };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants`,
      operationId: 'listTenants',
      summary: 'List tenants (by name, paginated)',
      tag: 'Tenants',
      permission: anyTenant('tenants.read'),
      query: PAGE_QUERY,
      success: { status: 200, description: 'A page of tenants', body: { name: 'TenantPage', schema: pageSchema(TenantSchema) } },
      errors: [400, ...AUTH_ERRORS, 503],
      async handle(req) {
        return { status: 200, body: await req.config.listTenants({ limit: req.query.limit as number, cursor: req.query.cursor as string | undefined }) };
      },
    },
    {
      method: 'POST',
      path: `${API_PREFIX}/tenants`,
      operationId: 'createTenant',
      summary: 'Create a tenant',
      tag: 'Tenants',
      permission: anyTenant('tenants.write'),
      body: { name: 'TenantInput', schema: TenantSpecSchema },
      success: { status: 201, description: 'The created tenant', body: tenantBody, headers: ['Location'] },
      errors: [400, ...AUTH_ERRORS, 409, 413, 415, 503],
      async handle(req) {
        const t = await req.config.createTenant(req.body);
        return { status: 201, body: t, headers: { location: tenantUrl(t.name) } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}`,
      operationId: 'getTenant',
      summary: 'Get a tenant',
      tag: 'Tenants',
      permission: onTenant('tenants.read'),
      success: { status: 200, description: 'The tenant', body: tenantBody },
      errors: READ_ERRORS,
      async handle(req) {
        return { status: 200, body: await req.config.getTenant(req.params.tenant!) };
      },
    },
    {
      method: 'DELETE',
      path: `${API_PREFIX}/tenants/{tenant}`,
      operationId: 'deleteTenant',
      summary: 'Delete a tenant (refused while it owns objects, and for "default")',
      tag: 'Tenants',
      permission: onTenant('tenants.write'),
      success: { status: 204, description: 'Deleted' },
      errors: [...READ_ERRORS, 409],
      async handle(req) {
        await req.config.deleteTenant(req.params.tenant!);
        return { status: 204 };
      },
    },
    ...CONFIG_KINDS.flatMap((kind) => objectRoutes(kind)),
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}/config`,
      operationId: 'exportConfig',
      summary: "The tenant's services and routes as a declarative document (secrets redacted)",
      tag: 'Declarative',
      permission: read,
      success: { status: 200, description: 'The document; applying it back changes nothing', body: { name: 'ConfigDocument', schema: ConfigDocumentSchema } },
      errors: READ_ERRORS,
      async handle(req) {
        return { status: 200, body: await req.config.exportDocument(req.params.tenant!) };
      },
    },
    {
      method: 'POST',
      path: `${API_PREFIX}/tenants/{tenant}/config`,
      operationId: 'applyConfig',
      summary: "Make the tenant's services and routes exactly what the document says (one transaction; creates the tenant if missing)",
      tag: 'Declarative',
      permission: onTenant('config.write'),
      query: [{ name: 'dryRun', schema: DryRunQuerySchema }],
      body: { name: 'ConfigDocumentInput', schema: ConfigDocumentSchema },
      success: { status: 200, description: 'The changes (applied unless dryRun)', body: { name: 'ApplyResult', schema: ApplyResultSchema } },
      errors: [400, ...AUTH_ERRORS, 409, 413, 415, 503],
      async handle(req) {
        return { status: 200, body: await req.config.applyDocument(req.params.tenant!, req.body, { dryRun: req.query.dryRun as boolean }) };
      },
    },
  ];
}
