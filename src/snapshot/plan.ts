/**
 * Planning: turns a consistent config dump into a validated, resource-free plan. Everything that can
 * be wrong with configuration is found here (schema, dangling references, unknown plugins, plugin
 * config, conflicting routes), which is why the config service runs it on the candidate state before
 * committing any write: a plan that fails is never applied.
 */

import type { z } from 'zod';
import { gatewayError, type ErrorDetail } from '../core/errors.js';
import type { PluginRegistry } from '../pipeline/plugin.js';
import { CertificateSpecSchema, type CertificateSpec } from '../model/certificate.js';
import { DomainSpecSchema, type DomainSpec } from '../model/domain.js';
import { RouteSpecSchema, type RouteSpec } from '../model/route.js';
import { X509Certificate } from 'node:crypto';
import { ServiceSpecSchema, serviceKindProblem, type ServiceSpec } from '../model/service.js';
import { RouteConflictError } from '../router/router.js';
import { TrieRouter } from '../router/trie-router.js';
import type { AcmeCertificateRecord, ConfigDump, ConfigRecord } from '../storage/store.js';
import { planIdentities, type PlannedIdentities } from './plan-identities.js';
import { parseSpec } from './parse-spec.js';
import { caVisibleTo, parseCaRef } from '../pki/ca-ref.js';
import { planLlm, type PlannedLlm } from '../llm/plan-llm.js';
import type { ProviderRegistry } from '../llm/providers/provider-registry.js';
import { builtinProviderRegistry } from '../llm/providers/builtin-providers.js';

export interface PlannedPlugin {
  readonly name: string;
  readonly config: unknown;
}

export interface PlannedService {
  readonly tenant: string;
  readonly spec: ServiceSpec;
}

export interface PlannedRoute {
  readonly tenant: string;
  readonly spec: RouteSpec;
  readonly service: PlannedService;
  /** Service plugins overlaid with route plugins (the route's config wins per plugin). */
  readonly plugins: readonly PlannedPlugin[];
}

export interface PlannedCertificate {
  readonly tenant: string;
  /** The key is still sealed. */
  readonly spec: CertificateSpec;
}

export interface PlannedDomain {
  readonly tenant: string;
  readonly spec: DomainSpec;
  /** The domain's certificate object; undefined for an ACME domain. */
  readonly certificate: PlannedCertificate | undefined;
  /** An ACME domain's obtained certificate (key sealed), when it covers the domain's hosts; until then the domain is not served. */
  readonly acme: AcmeCertificateRecord | undefined;
}

export interface SnapshotPlan {
  readonly revision: number;
  readonly certificates: readonly PlannedCertificate[];
  readonly domains: readonly PlannedDomain[];
  readonly services: readonly PlannedService[];
  readonly routes: readonly PlannedRoute[];
  readonly identities: PlannedIdentities;
  /** Every tenant's name. */
  readonly tenants: readonly string[];
  /** Built-in CAs (keys sealed) and revoked certificates, as loaded. */
  readonly pki: ConfigDump['pki'];
  /** LLM providers and routing policies. */
  readonly llm: PlannedLlm;
  /**
   * Domains' references to other tenants' CAs that are absent or not shared with the domain's
   * tenant (an owner may stop sharing at any time). The snapshot loads without that trust (fail
   * closed); a write by the referring tenant is refused until it drops the reference.
   */
  readonly unresolvedAuthorities: readonly UnresolvedAuthority[];
}

export interface UnresolvedAuthority {
  /** The tenant whose domain holds the reference. */
  readonly tenant: string;
  readonly detail: ErrorDetail;
}

/** `tenant/name`, the global key of a tenant-owned object. */
export function objectKey(tenant: string, name: string): string {
  return `${tenant}/${name}`;
}

function issuesToDetails(prefix: string, error: z.ZodError): ErrorDetail[] {
  return error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message }));
}

function planPlugins(registry: PluginRegistry, where: string, configs: Record<string, unknown>, details: ErrorDetail[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, raw] of Object.entries(configs)) {
    const plugin = registry.get(name);
    if (!plugin) {
      details.push({ path: `${where}.plugins.${name}`, message: `unknown plugin "${name}"; known plugins: ${registry.names().join(', ') || 'none'}` });
      continue;
    }
    const r = plugin.configSchema.safeParse(raw ?? {});
    if (!r.success) details.push(...issuesToDetails(`${where}.plugins.${name}`, r.error));
    else out.set(name, r.data);
  }
  return out;
}

function byAge(a: ConfigRecord, b: ConfigRecord): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Validates a dump and returns its plan. Throws a VALIDATION GatewayError listing every problem found
 * (field paths in `details`), or CONFLICT for overlapping routes. Pure: no I/O, no resources.
 */
export function planSnapshot(input: ConfigDump, registry: PluginRegistry, providers: ProviderRegistry = builtinProviderRegistry()): SnapshotPlan {
  // Oldest first: when two objects clash (a host, a route match), the newer one is reported, so an
  // error goes to whoever made the clash and never names an object of another tenant's making.
  const dump = { ...input, objects: [...input.objects].sort(byAge) };
  const details: ErrorDetail[] = [];
  const services = new Map<string, PlannedService & { plugins: Map<string, unknown> }>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'service') continue;
    const spec = parseSpec(ServiceSpecSchema, rec, details);
    if (!spec) continue;
    const kindProblem = serviceKindProblem(spec);
    if (kindProblem) {
      details.push({ path: `services.${rec.tenant}/${rec.name}.upstream`, message: kindProblem });
      continue;
    }
    const plugins = planPlugins(registry, `services.${rec.tenant}/${rec.name}`, spec.plugins, details);
    services.set(objectKey(rec.tenant, rec.name), { tenant: rec.tenant, spec, plugins });
  }
  const routes: PlannedRoute[] = [];
  for (const rec of dump.objects) {
    if (rec.kind !== 'route') continue;
    const spec = parseSpec(RouteSpecSchema, rec, details);
    if (!spec) continue;
    const where = `routes.${rec.tenant}/${rec.name}`;
    const service = services.get(objectKey(rec.tenant, spec.service));
    if (!service) {
      details.push({ path: `${where}.service`, message: `service "${spec.service}" does not exist in tenant "${rec.tenant}"` });
      continue;
    }
    const merged = new Map(service.plugins);
    for (const [name, config] of planPlugins(registry, where, spec.plugins, details)) merged.set(name, config);
    routes.push({ tenant: rec.tenant, spec, service, plugins: [...merged].map(([name, config]) => ({ name, config })) });
  }
  const { certificates, domains, unresolved } = planDomains(dump, details);
  const identities = planIdentities(dump, details);
  const llm = planLlm(dump, providers, [...services.values()], details);
  if (details.length > 0) throw gatewayError('VALIDATION', 'Configuration is invalid', details);
  try {
    new TrieRouter(routes.map(routeDefinition));
  } catch (err) {
    if (err instanceof RouteConflictError) {
      // Never name another tenant's route: say only that the match is taken.
      const sameTenant = err.existing.split('/')[0] === err.incoming.split('/')[0];
      const message = sameTenant ? err.message : `route "${err.incoming}" conflicts with a route of another tenant on ${err.where}`;
      throw gatewayError('CONFLICT', message, [{ path: `routes.${err.incoming}`, message }]);
    }
    throw err;
  }
  return { revision: dump.revision, certificates, domains, services: [...services.values()], routes, identities, tenants: dump.tenants.map((t) => t.name), pki: dump.pki, llm, unresolvedAuthorities: unresolved };
}

/** A host pattern as a concrete name, for certificate checks ("*.a.test" → "probe.a.test"). */
function concreteHost(pattern: string): string {
  return pattern.startsWith('*.') ? `wildcard-probe${pattern.slice(1)}` : pattern;
}

/**
 * Certificates and domains: each domain's certificate exists in its tenant and covers its hosts; a
 * host belongs to one domain only (a clash with another tenant's domain does not name it).
 */
function planDomains(dump: ConfigDump, details: ErrorDetail[]): { certificates: PlannedCertificate[]; domains: PlannedDomain[]; unresolved: UnresolvedAuthority[] } {
  const unresolved: UnresolvedAuthority[] = [];
  const certificates = new Map<string, PlannedCertificate>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'certificate') continue;
    const spec = parseSpec(CertificateSpecSchema, rec, details);
    if (spec) certificates.set(objectKey(rec.tenant, rec.name), { tenant: rec.tenant, spec });
  }
  const domains: PlannedDomain[] = [];
  const owners = new Map<string, string>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'domain') continue;
    const spec = parseSpec(DomainSpecSchema, rec, details);
    if (!spec) continue;
    const where = `domains.${rec.tenant}/${rec.name}`;
    if ((spec.certificate === undefined) === (spec.acme === undefined)) {
      details.push({ path: `${where}.certificate`, message: spec.acme ? 'a domain has `certificate` or `acme`, not both' : 'is required (or `acme`, to have the gateway obtain one)' });
      continue;
    }
    const certificate = spec.certificate === undefined ? undefined : certificates.get(objectKey(rec.tenant, spec.certificate));
    if (spec.certificate !== undefined && !certificate) {
      details.push({ path: `${where}.certificate`, message: `certificate "${spec.certificate}" does not exist in tenant "${rec.tenant}"` });
      continue;
    }
    spec.clientAuth.authorities.forEach((a, i) => {
      const ref = parseCaRef(a, rec.tenant);
      const ca = dump.pki.cas.find((c) => c.tenant === ref.tenant && c.name === ref.name);
      const path = `${where}.clientAuth.authorities.${i}`;
      if (ref.tenant === rec.tenant) {
        if (!ca) details.push({ path, message: `certificate authority "${a}" does not exist in tenant "${rec.tenant}"` });
      } else if (!ca || !caVisibleTo(ca.tenant, ca.settings.sharedWith, rec.tenant)) {
        unresolved.push({ tenant: rec.tenant, detail: { path, message: `certificate authority "${a}" does not exist or is not shared with tenant "${rec.tenant}"` } });
      }
    });
    const leaf = certificate && new X509Certificate(certificate.spec.cert);
    spec.hosts.forEach((host, i) => {
      if (leaf && !leaf.checkHost(concreteHost(host), { wildcards: true, partialWildcards: false })) {
        details.push({ path: `${where}.hosts.${i}`, message: `certificate "${spec.certificate}" does not cover "${host}"` });
      }
      if (spec.acme && host.startsWith('*.')) details.push({ path: `${where}.hosts.${i}`, message: 'ACME (http-01, tls-alpn-01) cannot obtain a wildcard certificate: list exact names' });
      const owner = owners.get(host);
      const self = objectKey(rec.tenant, rec.name);
      if (owner === undefined) owners.set(host, self);
      else if (owner.split('/')[0] === rec.tenant) details.push({ path: `${where}.hosts.${i}`, message: `"${host}" already belongs to domain "${owner.split('/')[1]}"` });
      else details.push({ path: `${where}.hosts.${i}`, message: `"${host}" belongs to another tenant` });
    });
    // An ACME domain is served once its certificate exists and covers every current host.
    const obtained = spec.acme ? dump.acme?.find((c) => c.tenant === rec.tenant && c.domain === rec.name) : undefined;
    const acme = obtained && spec.hosts.every((h) => obtained.hosts.includes(h)) ? obtained : undefined;
    domains.push({ tenant: rec.tenant, spec, certificate, acme });
  }
  return { certificates: [...certificates.values()], domains, unresolved };
}

/** The router's view of a planned route. `id` is `tenant/name`, which conflict messages show. */
export function routeDefinition<T = PlannedRoute>(route: PlannedRoute, value?: T) {
  return {
    id: objectKey(route.tenant, route.spec.name),
    hosts: route.spec.hosts,
    paths: route.spec.paths,
    methods: route.spec.methods,
    value: (value ?? route) as T,
  };
}
