/**
 * A config snapshot: the immutable, fully built state the data plane reads. Built from a plan at config
 * time (pools acquired, secrets opened, plugin instances created, hook chains flattened, router built);
 * requests hold a reference to the snapshot they started with, so a swap never disturbs them.
 */

import type { Logger } from 'pino';
import type { CompiledRoute, HookChain, OrderedInstance } from '../pipeline/compiled-route.js';
import { buildHookChain } from '../pipeline/compiled-route.js';
import type { PluginInstance, PluginRegistry } from '../pipeline/plugin.js';
import type { Router } from '../router/router.js';
import { TrieRouter } from '../router/trie-router.js';
import { Cluster, type Endpoint } from '../upstreams/cluster.js';
import { proxyRequest, type ProxySettings } from '../upstreams/http-proxy.js';
import type { PoolRegistry, PoolSettings } from '../upstreams/pool-registry.js';
import { DEFAULT_UPSTREAM_TLS, type UpstreamTlsSettings } from '../upstreams/upstream-tls.js';
import { objectKey, routeDefinition, type PlannedDomain, type PlannedRoute, type PlannedService, type SnapshotPlan } from './plan.js';
import type { RequestContext } from '../pipeline/context.js';
import { LlmCatalog } from '../llm/catalog/llm-catalog.js';
import type { LlmRuntime } from '../llm/runtime/llm-runtime.js';
import { createLlmHandler } from '../llm/api/llm-handler.js';
import type { LlmEnv } from '../llm/api/llm-env.js';
import { acmeKeyAad } from '../acme/acme-keys.js';
import type { ServiceSpec } from '../model/service.js';
import { openSecrets } from '../config/secret-sealing.js';
import { buildTlsSnapshot, type TlsBuildOptions, type TlsDomainInput, type TlsSnapshot } from '../tls/tls-snapshot.js';
import { createAccessGuard } from '../auth/access-guard.js';
import type { AccessRuntime, AccessSnapshot } from '../auth/access-runtime.js';
import { IdentityIndex } from '../auth/identity-index.js';
import { JwtAuthenticator } from '../auth/jwt/jwt-authenticator.js';
import { gatewayError } from '../core/errors.js';
import type { PkiState } from '../pki/pki-state.js';
import type { DomainCrls } from '../tls/crl-sources.js';

/** What a snapshot build prepared asynchronously beforehand (signing, fetching). */
export interface SnapshotExtras {
  readonly pki?: PkiState | undefined;
  /** `tenant/domain` → the CRLs of its `clientAuth.revocation`, or why they are unavailable. */
  readonly domainCrls?: ReadonlyMap<string, DomainCrls> | undefined;
}

export interface RouteEntry extends CompiledRoute {
  /** The service's upstream; undefined for an LLM service. */
  readonly cluster: Cluster | undefined;
}

export interface Snapshot {
  readonly revision: number;
  /** Certificates and client-auth policy per server name; undefined when the gateway has no TLS listener. */
  readonly tls: TlsSnapshot | undefined;
  readonly router: Router<RouteEntry>;
  /** Hooks of global plugins, for requests that match no route (they are also in every route's chain). */
  readonly globalChain: HookChain;
  readonly proxy: ProxySettings;
  /** Who is who (credentials, identities, subscriptions); undefined when the gateway runs without access runtime. */
  readonly access: AccessSnapshot | undefined;
  /** Names of every tenant. */
  readonly tenants: ReadonlySet<string>;
  /** Built-in CAs: certificates, signed CRLs, revoked serials and fingerprints. */
  readonly pki: PkiState | undefined;
  /** Domains whose certificate the gateway obtains by ACME, with the certificate it has (if any). */
  readonly acmeDomains: readonly PlannedDomain[];
  /** Releases pools and closes plugin instances. Requests already running keep working. Idempotent. */
  retire(): void;
}

/** Opens sealed secrets; implemented by the secret box. */
export interface SecretOpener {
  open(sealed: string, aad: string): string;
}

export interface MaterializeDeps {
  readonly plugins: PluginRegistry;
  readonly pools: PoolRegistry;
  readonly secrets: SecretOpener;
  readonly logger: Logger;
  readonly proxy: ProxySettings;
  /** Instances of gateway-wide plugins (access log…), created once per gateway. */
  readonly globalInstances: readonly OrderedInstance[];
  readonly tls?: TlsBuildOptions | undefined;
  /** Authentication machinery; without it, services with an `access` block refuse every call. */
  readonly access?: AccessRuntime | undefined;
  /** The LLM data plane; without it, LLM services answer 503. */
  readonly llm?: LlmRuntime | undefined;
}

/** Priority of the access guard among a route's plugins: before every other authenticate/authorize hook. */
const ACCESS_GUARD_PRIORITY = 50;

/** Stands in for the access guard when the gateway has no access runtime: fails closed. */
const DENY_ALL: PluginInstance = Object.freeze({
  authenticate() {
    throw gatewayError('AUTH_REQUIRED');
  },
});

function poolSettings(url: URL, svc: PlannedService, tls: UpstreamTlsSettings): PoolSettings {
  const u = svc.spec.upstream!;
  return {
    origin: url.origin,
    connections: u.connections,
    connectTimeout: u.timeouts.connect,
    idleTimeout: u.timeouts.idle,
    headersTimeout: u.timeouts.headers,
    bodyTimeout: u.timeouts.body,
    tls: url.protocol === 'https:' ? tls : undefined,
  };
}

/** The service's TLS settings for its https targets (`spec` has its secrets opened). Warns when hostname verification is off. */
function upstreamTls(svc: PlannedService, spec: ServiceSpec, deps: MaterializeDeps): UpstreamTlsSettings {
  const t = spec.upstream!.tls;
  if (!t) return DEFAULT_UPSTREAM_TLS;
  if (!t.verify) {
    deps.logger.warn(
      { tenant: svc.tenant, service: svc.spec.name },
      'upstream TLS hostname verification is off (upstream.tls.verify: false): a certificate from a trusted CA is accepted for this upstream whatever names it carries',
    );
  }
  return {
    ca: t.ca,
    servername: t.servername,
    verify: t.verify,
    cert: t.clientCert,
    key: t.clientKey,
    spkiPins: t.spkiPins,
    sessionReuse: t.sessionReuse,
  };
}

function buildCluster(svc: PlannedService, deps: MaterializeDeps, acquired: PoolSettings[]): Cluster {
  const spec = openSecrets(deps.secrets, 'service', svc.tenant, svc.spec as unknown as Record<string, unknown>) as unknown as ServiceSpec;
  const u = spec.upstream!;
  const headers: Array<readonly [string, string]> = [...Object.entries(u.headers), ...Object.entries(u.secretHeaders)].map(([n, v]) => [n.toLowerCase(), v] as const);
  const tls = upstreamTls(svc, spec, deps);
  const endpoints = u.targets.map((t) => {
    const url = new URL(t.url);
    const settings = poolSettings(url, svc, tls);
    const dispatcher = deps.pools.acquire(settings);
    acquired.push(settings);
    const endpoint: Endpoint = { origin: url.origin, basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''), hostHeader: url.host, dispatcher, settings };
    return { endpoint, weight: t.weight };
  });
  return new Cluster(objectKey(svc.tenant, svc.spec.name), endpoints, {
    preserveHost: u.preserveHost,
    headers,
    headersTimeout: u.timeouts.headers,
    bodyTimeout: u.timeouts.body,
  });
}

/**
 * The planned domains with their certificates' keys opened, their built-in CAs resolved (certificates
 * and CRLs) and the CRLs of other issuers added, or revocation marked unavailable.
 */
function tlsInputs(plan: SnapshotPlan, secrets: SecretOpener, extras: SnapshotExtras, logger: Logger): TlsDomainInput[] {
  const { pki, domainCrls } = extras;
  return plan.domains.flatMap((d) => {
    let certPem: string;
    let keyPem: string;
    if (d.certificate) {
      const cert = openSecrets(secrets, 'certificate', d.certificate.tenant, d.certificate.spec as unknown as Record<string, unknown>);
      certPem = String(cert.cert);
      keyPem = String(cert.key);
    } else if (d.acme) {
      certPem = d.acme.certPem;
      keyPem = secrets.open(d.acme.keySealed, acmeKeyAad(d.tenant, d.spec.name));
    } else {
      logger.info({ tenant: d.tenant, domain: d.spec.name }, 'domain not served yet: its ACME certificate has not been obtained');
      return [];
    }
    const { mode, depth, trustedCas, authorities, revocation } = d.spec.clientAuth;
    const builtIn = pki && authorities.length > 0 ? pki.trustFor(d.tenant, authorities) : undefined;
    const cas = [trustedCas?.trimEnd(), builtIn?.cas.trimEnd()].filter((p): p is string => !!p).join('\n');
    let crls = builtIn?.crls;
    let unavailable: string | undefined;
    if (revocation && mode !== 'off') {
      const r = domainCrls?.get(objectKey(d.tenant, d.spec.name)) ?? { ok: false as const, reason: 'not loaded' };
      if (r.ok) crls = [...(crls ?? []), ...r.pems];
      else if (revocation.onUnavailable === 'refuse') unavailable = `revocation information unavailable (${r.reason})`;
      else {
        crls = undefined;
        logger.warn({ tenant: d.tenant, domain: d.spec.name, reason: r.reason }, 'revocation information unavailable: client certificates of this domain are accepted without revocation checks (onUnavailable: allow)');
      }
    }
    const clientAuth = { mode, depth, trustedCas: cas ? `${cas}\n` : undefined, crls, unavailable };
    return [{ tenant: d.tenant, name: d.spec.name, hosts: d.spec.hosts, certPem, keyPem, clientAuth }];
  });
}

/** The terminal handler of a route to an LLM service. */
function llmHandler(route: PlannedRoute, catalog: LlmCatalog | undefined, deps: MaterializeDeps): (ctx: RequestContext) => Promise<void> {
  const llm = deps.llm;
  const spec = route.service.spec.llm!;
  if (!llm || !catalog) return () => Promise.reject(gatewayError('NOT_READY', 'LLM services are not available in this gateway'));
  const env: LlmEnv = {
    tenant: route.tenant,
    service: route.service.spec.name,
    route: route.spec.name,
    spec,
    catalog,
    health: llm.health,
    ledger: llm.ledger,
    tokens: llm.tokens,
    cache: llm.cacheFor(route.tenant, route.service.spec.name, spec),
    logger: deps.logger,
  };
  return createLlmHandler(env, llm.formats);
}

/** Builds a snapshot from a plan. On failure, everything acquired so far is released before rethrowing. */
export function materializeSnapshot(plan: SnapshotPlan, deps: MaterializeDeps, extras: SnapshotExtras = {}): Snapshot {
  const pki = extras.pki;
  const acquired: PoolSettings[] = [];
  const instances: PluginInstance[] = [];
  let retired = false;
  let catalog: LlmCatalog | undefined;
  const retire = (): void => {
    if (retired) return;
    retired = true;
    catalog?.release();
    for (const s of acquired) deps.pools.release(s);
    for (const i of instances) {
      try {
        void Promise.resolve(i.close?.()).catch((err: unknown) => deps.logger.warn({ err }, 'plugin close failed'));
      } catch (err) {
        deps.logger.warn({ err }, 'plugin close failed');
      }
    }
  };
  try {
    const clusters = new Map<PlannedService, Cluster>();
    for (const svc of plan.services) if (svc.spec.upstream) clusters.set(svc, buildCluster(svc, deps, acquired));
    const llm = deps.llm;
    if (llm && (plan.llm.providers.length > 0 || plan.services.some((s) => s.spec.llm))) {
      catalog = new LlmCatalog(plan.llm, { adapters: llm.adapters, pools: deps.pools, secrets: deps.secrets, logger: deps.logger });
      if (plan.llm.providers.length > 0) llm.tokens.warm();
    }
    const access: AccessSnapshot | undefined = deps.access
      ? { index: new IdentityIndex(plan.identities), jwt: new JwtAuthenticator(plan.identities.jwtIssuers, { jwks: deps.access.jwks, now: deps.access.now }) }
      : undefined;
    const guards = new Map<PlannedService, PluginInstance>();
    for (const svc of plan.services) {
      const rules = svc.spec.access;
      if (!rules) continue;
      guards.set(svc, access && deps.access ? createAccessGuard({ tenant: svc.tenant, name: svc.spec.name, access: rules }, access, deps.access) : DENY_ALL);
    }
    const entries = plan.routes.map((route) => {
      const cluster = clusters.get(route.service);
      const ordered: OrderedInstance[] = [...deps.globalInstances];
      const guard = guards.get(route.service);
      if (guard) ordered.push({ name: 'access', priority: ACCESS_GUARD_PRIORITY, instance: guard });
      for (const p of route.plugins) {
        const plugin = deps.plugins.get(p.name)!;
        const instance = plugin.create(p.config, { logger: deps.logger.child({ plugin: p.name, route: route.spec.name }), tenant: route.tenant });
        instances.push(instance);
        ordered.push({ name: p.name, priority: plugin.priority ?? 1000, instance });
      }
      const proxy = deps.proxy;
      const terminal = cluster ? (ctx: RequestContext) => proxyRequest(ctx, cluster, proxy) : llmHandler(route, catalog, deps);
      const chain = buildHookChain(ordered, terminal);
      const entry: RouteEntry = {
        tenant: route.tenant,
        name: route.spec.name,
        service: route.service.spec.name,
        stripPath: route.spec.stripPath,
        chain,
        cluster,
      };
      return { route, entry };
    });
    const router = new TrieRouter<RouteEntry>(entries.map(({ route, entry }) => routeDefinition(route, entry)));
    const globalChain = buildHookChain(deps.globalInstances, () => Promise.resolve());
    const tls = deps.tls ? buildTlsSnapshot(tlsInputs(plan, deps.secrets, extras, deps.logger), deps.tls.fallback, deps.tls.cache, deps.tls.policy) : undefined;
    const tenants = new Set(plan.tenants);
    const acmeDomains = plan.domains.filter((d) => d.spec.acme !== undefined);
    return { revision: plan.revision, tls, router, globalChain, proxy: deps.proxy, access, tenants, pki, acmeDomains, retire };
  } catch (err) {
    retire();
    throw err;
  }
}
