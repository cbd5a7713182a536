/**
 * The declarative configuration document (`portcullis apply -f gateway.yaml`, `portcullis export`):
 * one tenant's services, each with its routes nested under it (a nested route's `service` is the
 * service it sits under).
 *
 * ```yaml
 * tenant: default
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
import { RouteSpecSchema, type RouteSpec } from '../model/route.js';
import { ServiceSpecSchema, type ServiceSpec } from '../model/service.js';

/** A route inside a document: a route spec without `service` (implied by the enclosing service). */
export const DocumentRouteSchema = RouteSpecSchema.omit({ service: true });

/** A service inside a document, with its routes. */
export const DocumentServiceSchema = ServiceSpecSchema.extend({
  routes: z.array(DocumentRouteSchema).max(10_000).default([]).describe("The service's routes; their `service` is this service"),
});

function checkUniqueNames(doc: { services: Array<{ name: string; routes: Array<{ name: string }> }> }, ctx: z.RefinementCtx): void {
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
    services: z.array(DocumentServiceSchema).max(10_000).default([]),
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

/** Flattens a validated document into service and route specs (routes get their `service`). */
export function documentObjects(doc: ConfigDocument): { services: PlacedSpec<ServiceSpec>[]; routes: PlacedSpec<RouteSpec>[] } {
  const services: PlacedSpec<ServiceSpec>[] = [];
  const routes: PlacedSpec<RouteSpec>[] = [];
  doc.services.forEach((svc, i) => {
    const { routes: nested, ...spec } = svc;
    services.push({ spec, path: ['services', i] });
    nested.forEach((route, j) => {
      routes.push({ spec: { ...route, service: svc.name }, path: ['services', i, 'routes', j] });
    });
  });
  return { services, routes };
}

/**
 * Builds a document from specs (as returned by reads: canonical, secrets redacted). Services and
 * routes are ordered by name; a route is nested under its service and loses its `service` field.
 * Routes whose service is not among `services` are left out (they cannot exist in a valid config).
 */
export function buildDocument(tenant: string, services: readonly ServiceSpec[], routes: readonly RouteSpec[]): ConfigDocument {
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const grouped = new Map<string, DocumentRoute[]>();
  for (const route of [...routes].sort(byName)) {
    const { service, ...rest } = route;
    const list = grouped.get(service) ?? [];
    list.push(rest);
    grouped.set(service, list);
  }
  return {
    tenant,
    services: [...services].sort(byName).map((svc) => ({ ...svc, routes: grouped.get(svc.name) ?? [] })),
  };
}
