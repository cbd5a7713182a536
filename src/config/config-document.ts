/**
 * The declarative configuration document (`portcullis apply -f gateway.yaml`, `portcullis export`):
 * one tenant's certificates, domains and services, each service with its routes nested under it (a
 * nested route's `service` is the service it sits under).
 *
 * ```yaml
 * tenant: default
 * certificates: [{ name: api, cert: "-----BEGIN CERTIFICATE-----…", key: "-----BEGIN PRIVATE KEY-----…" }]
 * domains: [{ name: api, hosts: [api.example.com], certificate: api }]
 * services:
 *   - name: httpbin
 *     upstream: { targets: [{ url: http://127.0.0.1:3000 }] }
 *     routes:
 *       - name: httpbin
 *         paths: [/anything]
 *         methods: [GET, POST]
 * ```
 *
 * Applying a document is a full sync of the tenant: objects absent from the document are deleted.
 */

import { z } from 'zod';
import { NameSchema } from '../model/common.js';
import { CertificateSpecSchema, type CertificateSpec } from '../model/certificate.js';
import { DomainSpecSchema, type DomainSpec } from '../model/domain.js';
import { RouteSpecSchema, type RouteSpec } from '../model/route.js';
import type { ConfigKind } from '../storage/store.js';
import { ServiceSpecSchema, type ServiceSpec } from '../model/service.js';
import { ApplicationSpecSchema, type ApplicationSpec } from '../model/application.js';
import { JwtIssuerSpecSchema, type JwtIssuerSpec } from '../auth/jwt/jwt-issuer-spec.js';
import { LlmPolicySpecSchema, type LlmPolicySpec } from '../llm/model/llm-policy-spec.js';
import { LlmProviderSpecSchema, type LlmProviderSpec } from '../llm/model/llm-provider-spec.js';

/** A route inside a document: a route spec without `service` (implied by the enclosing service). */
export const DocumentRouteSchema = RouteSpecSchema.omit({ service: true });

/** A service inside a document, with its routes. */
export const DocumentServiceSchema = ServiceSpecSchema.extend({
  routes: z.array(DocumentRouteSchema).max(10_000).default([]).describe("The service's routes; their `service` is this service"),
});

function checkUniqueNames(
  doc: {
    certificates: Array<{ name: string }>;
    domains: Array<{ name: string }>;
    services: Array<{ name: string; routes: Array<{ name: string }> }>;
    applications: Array<{ name: string }>;
    jwtIssuers: Array<{ name: string }>;
    llmProviders: Array<{ name: string }>;
    llmPolicies: Array<{ name: string }>;
  },
  ctx: z.RefinementCtx,
): void {
  for (const list of ['certificates', 'domains', 'applications', 'jwtIssuers', 'llmProviders', 'llmPolicies'] as const) {
    const seen = new Map<string, number>();
    doc[list].forEach((o, i) => {
      const at = seen.get(o.name);
      if (at !== undefined) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `duplicate name "${o.name}" (also ${list}.${at})` });
      else seen.set(o.name, i);
    });
  }
  const services = new Map<string, number>();
  const routes = new Map<string, string>();
  doc.services.forEach((svc, i) => {
    const seen = services.get(svc.name);
    if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${svc.name}" (also services.${seen})` });
    else services.set(svc.name, i);
    svc.routes.forEach((route, j) => {
      const at = routes.get(route.name);
      if (at !== undefined) ctx.addIssue({ code: 'custom', path: ['services', i, 'routes', j, 'name'], message: `duplicate route name "${route.name}" (also ${at}); route names are unique per tenant` });
      else routes.set(route.name, `services.${i}.routes.${j}`);
    });
  });
}

/** The whole document. Service names and route names must each be unique. */
export const ConfigDocumentSchema = z
  .object({
    tenant: NameSchema.optional().describe('Tenant the document describes; default "default" (or the tenant it is sent to)'),
    certificates: z.array(CertificateSpecSchema).max(10_000).default([]).describe('Server certificates (keys are secrets)'),
    domains: z.array(DomainSpecSchema).max(10_000).default([]).describe('Host names served over TLS, their certificate and client-certificate policy'),
    services: z.array(DocumentServiceSchema).max(10_000).default([]),
    jwtIssuers: z.array(JwtIssuerSpecSchema).max(1000).default([]).describe('Trusted JWT issuers (identity providers)'),
    applications: z.array(ApplicationSpecSchema).max(100_000).default([]).describe('Applications (consumers) and their certificate and JWT identities; credentials are managed through the admin API'),
    llmProviders: z.array(LlmProviderSpecSchema).max(1000).default([]).describe('LLM providers: type, base URL, keys (secrets), model catalogue with limits and prices'),
    llmPolicies: z.array(LlmPolicySpecSchema).max(1000).default([]).describe('LLM routing policies; a policy name is a model alias'),
  })
  .strict()
  .superRefine(checkUniqueNames);

export type ConfigDocument = z.output<typeof ConfigDocumentSchema>;
export type ConfigDocumentInput = z.input<typeof ConfigDocumentSchema>;
export type DocumentService = z.output<typeof DocumentServiceSchema>;
export type DocumentRoute = z.output<typeof DocumentRouteSchema>;

/** A spec taken out of a document, with its position there (for error paths). */
export interface PlacedSpec<S> {
  readonly spec: S;
  readonly path: readonly (string | number)[];
}

/** Flattens a validated document into specs per kind (routes get their `service`), with positions. */
export function documentObjects(doc: ConfigDocument): Record<ConfigKind, PlacedSpec<unknown>[]> {
  const services: PlacedSpec<ServiceSpec>[] = [];
  const routes: PlacedSpec<RouteSpec>[] = [];
  doc.services.forEach((svc, i) => {
    const { routes: nested, ...spec } = svc;
    services.push({ spec, path: ['services', i] });
    nested.forEach((route, j) => {
      routes.push({ spec: { ...route, service: svc.name }, path: ['services', i, 'routes', j] });
    });
  });
  return {
    certificate: doc.certificates.map((spec, i) => ({ spec, path: ['certificates', i] })),
    domain: doc.domains.map((spec, i) => ({ spec, path: ['domains', i] })),
    service: services,
    route: routes,
    application: doc.applications.map((spec, i) => ({ spec, path: ['applications', i] })),
    'jwt-issuer': doc.jwtIssuers.map((spec, i) => ({ spec, path: ['jwtIssuers', i] })),
    'llm-provider': doc.llmProviders.map((spec, i) => ({ spec, path: ['llmProviders', i] })),
    'llm-policy': doc.llmPolicies.map((spec, i) => ({ spec, path: ['llmPolicies', i] })),
  };
}

/** Specs of every kind, as returned by reads (canonical, secrets redacted). */
export interface DocumentSpecs {
  certificate: CertificateSpec[];
  domain: DomainSpec[];
  service: ServiceSpec[];
  route: RouteSpec[];
  application: ApplicationSpec[];
  'jwt-issuer': JwtIssuerSpec[];
  'llm-provider': LlmProviderSpec[];
  'llm-policy': LlmPolicySpec[];
}

/**
 * Builds a document from specs. Objects are ordered by name; a route is nested under its service and
 * loses its `service` field. Routes whose service is absent are left out (they cannot exist in a
 * valid config).
 */
export function buildDocument(tenant: string, specs: DocumentSpecs): ConfigDocument {
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const grouped = new Map<string, DocumentRoute[]>();
  for (const route of [...specs.route].sort(byName)) {
    const { service, ...rest } = route;
    const list = grouped.get(service) ?? [];
    list.push(rest);
    grouped.set(service, list);
  }
  return {
    tenant,
    certificates: [...specs.certificate].sort(byName),
    domains: [...specs.domain].sort(byName),
    services: [...specs.service].sort(byName).map((svc) => ({ ...svc, routes: grouped.get(svc.name) ?? [] })),
    jwtIssuers: [...specs['jwt-issuer']].sort(byName),
    applications: [...specs.application].sort(byName),
    llmProviders: [...specs['llm-provider']].sort(byName),
    llmPolicies: [...specs['llm-policy']].sort(byName),
  };
}
