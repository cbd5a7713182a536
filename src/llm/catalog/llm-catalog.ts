/**
 * The LLM part of a config snapshot: every tenant's providers (secrets opened, pools acquired) and
 * routing policies, resolved so that a request's `model` maps to an ordered set of deployments with
 * one map lookup. Built with the snapshot, released with it.
 */

import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { openSecrets } from '../../config/secret-sealing.js';
import type { SecretOpener } from '../../snapshot/snapshot.js';
import type { PoolRegistry, PoolSettings } from '../../upstreams/pool-registry.js';
import { DEFAULT_UPSTREAM_TLS, type UpstreamTlsSettings } from '../../upstreams/upstream-tls.js';
import { LlmPolicySpecSchema, type LlmPolicySpec } from '../model/llm-policy-spec.js';
import type { LlmProviderSpec, ModelPricing } from '../model/llm-provider-spec.js';
import type { PlannedLlm, PlannedLlmProvider } from '../plan-llm.js';
import type { ProviderAdapter } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';

export interface ProviderKey {
  readonly name: string;
  readonly value: string;
  /** `tenant/provider#name`: the key's id in the health tracker. */
  readonly id: string;
}

/** A provider object ready for use. */
export interface ProviderEntry {
  readonly tenant: string;
  readonly name: string;
  readonly type: string;
  readonly adapter: ProviderAdapter;
  readonly baseUrl: string;
  readonly keys: readonly ProviderKey[];
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly options: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly keyCooldown: number;
  readonly spec: LlmProviderSpec;
}

/** A provider's model: what one attempt goes to. */
export interface Deployment {
  /** `tenant/provider/model`: the deployment's id for circuit breakers and statistics. */
  readonly id: string;
  readonly provider: ProviderEntry;
  /** The model as clients name it after the provider ("gpt-4o-mini"). */
  readonly model: string;
  /** What the provider calls it. */
  readonly upstreamModel: string;
  readonly contextWindow: number | undefined;
  readonly maxOutput: number | undefined;
  /** Catalogue price, when set (else the built-in table applies). */
  readonly pricing: ModelPricing | undefined;
  readonly embeddings: boolean;
}

export interface PolicyTargetEntry {
  readonly deployment: Deployment;
  readonly weight: number;
}

export interface ResolvedPolicy {
  /** The alias, or "provider/model" for a direct request. */
  readonly name: string;
  readonly spec: LlmPolicySpec;
  readonly targets: readonly PolicyTargetEntry[];
}

interface TenantLlm {
  readonly providers: Map<string, ProviderEntry>;
  readonly deployments: Map<string, Deployment>;
  readonly policies: Map<string, ResolvedPolicy>;
  /** Direct policies of pass-through models, made on first use (bounded). */
  readonly direct: Map<string, ResolvedPolicy>;
}

/** Most pass-through direct policies remembered per tenant (model ids come from requests). */
const MAX_DIRECT = 1000;

export interface CatalogDeps {
  readonly adapters: ProviderRegistry;
  readonly pools: PoolRegistry;
  readonly secrets: SecretOpener;
  readonly logger: Logger;
}

function poolSettings(p: PlannedLlmProvider, spec: LlmProviderSpec, logger: Logger): PoolSettings {
  const url = new URL(p.baseUrl);
  let tls: UpstreamTlsSettings | undefined;
  if (url.protocol === 'https:') {
    const t = spec.tls;
    if (t && !t.verify) logger.warn({ tenant: p.tenant, provider: spec.name }, 'LLM provider TLS hostname verification is off (tls.verify: false)');
    tls = t ? { ca: t.ca, servername: t.servername, verify: t.verify, cert: t.clientCert, key: t.clientKey, spkiPins: t.spkiPins, sessionReuse: t.sessionReuse } : DEFAULT_UPSTREAM_TLS;
  }
  return {
    origin: url.origin,
    connections: spec.connections,
    connectTimeout: spec.timeouts.connect,
    idleTimeout: 60_000,
    headersTimeout: spec.timeouts.headers,
    bodyTimeout: spec.timeouts.body,
    tls,
  };
}

function deploymentOf(provider: ProviderEntry, model: string): Deployment {
  const m = provider.spec.models.find((x) => x.name === model);
  return {
    id: `${provider.tenant}/${provider.name}/${model}`,
    provider,
    model,
    upstreamModel: m?.upstreamModel ?? model,
    contextWindow: m?.contextWindow,
    maxOutput: m?.maxOutput,
    pricing: m?.pricing,
    embeddings: m?.embeddings ?? false,
  };
}

const DIRECT_DEFAULTS = LlmPolicySpecSchema.parse({ name: 'direct', targets: [{ provider: 'p', model: 'm' }] });

export class LlmCatalog {
  private readonly tenants = new Map<string, TenantLlm>();
  private readonly acquired: PoolSettings[] = [];

  constructor(
    plan: PlannedLlm,
    private readonly deps: CatalogDeps,
  ) {
    try {
      for (const p of plan.providers) this.addProvider(p);
      for (const pol of plan.policies) {
        const t = this.tenant(pol.tenant);
        const targets: PolicyTargetEntry[] = [];
        for (const target of pol.spec.targets) {
          const d = t.deployments.get(`${target.provider}/${target.model}`) ?? this.passThrough(t, target.provider, target.model);
          if (d) targets.push({ deployment: d, weight: target.weight });
        }
        t.policies.set(pol.spec.name, { name: pol.spec.name, spec: pol.spec, targets });
      }
    } catch (err) {
      this.release();
      throw err;
    }
  }

  private tenant(name: string): TenantLlm {
    let t = this.tenants.get(name);
    if (!t) {
      t = { providers: new Map(), deployments: new Map(), policies: new Map(), direct: new Map() };
      this.tenants.set(name, t);
    }
    return t;
  }

  private addProvider(p: PlannedLlmProvider): void {
    const spec = openSecrets(this.deps.secrets, 'llm-provider', p.tenant, p.spec as unknown as Record<string, unknown>) as unknown as LlmProviderSpec;
    const adapter = this.deps.adapters.get(spec.type)!;
    const settings = poolSettings(p, spec, this.deps.logger);
    const dispatcher = this.deps.pools.acquire(settings);
    this.acquired.push(settings);
    const entry: ProviderEntry = {
      tenant: p.tenant,
      name: spec.name,
      type: spec.type,
      adapter,
      baseUrl: p.baseUrl,
      keys: Object.entries(spec.keys).map(([name, value]) => ({ name, value, id: `${p.tenant}/${spec.name}#${name}` })),
      headers: Object.entries(spec.headers).map(([n, v]) => [n.toLowerCase(), v] as const),
      options: spec.options,
      dispatcher,
      headersTimeout: spec.timeouts.headers,
      bodyTimeout: spec.timeouts.body,
      keyCooldown: spec.keyCooldown,
      spec,
    };
    const t = this.tenant(p.tenant);
    t.providers.set(spec.name, entry);
    for (const m of spec.models) t.deployments.set(`${spec.name}/${m.name}`, deploymentOf(entry, m.name));
  }

  /** A deployment of a provider without a catalogue (any model id passes), or undefined. */
  private passThrough(t: TenantLlm, provider: string, model: string): Deployment | undefined {
    const p = t.providers.get(provider);
    if (!p || p.spec.models.length > 0) return undefined;
    return deploymentOf(p, model);
  }

  /**
   * The policy a request's `model` names in a tenant: an llm-policy by name, or "provider/model" as
   * a single-target policy with default settings. Undefined when neither exists.
   */
  resolve(tenant: string, model: string): ResolvedPolicy | undefined {
    const t = this.tenants.get(tenant);
    if (!t) return undefined;
    const policy = t.policies.get(model);
    if (policy) return policy;
    const cached = t.direct.get(model);
    if (cached) return cached;
    const slash = model.indexOf('/');
    if (slash <= 0) return undefined;
    const provider = model.slice(0, slash);
    const name = model.slice(slash + 1);
    const d = t.deployments.get(model) ?? this.passThrough(t, provider, name);
    if (!d) return undefined;
    const resolved: ResolvedPolicy = { name: model, spec: DIRECT_DEFAULTS, targets: [{ deployment: d, weight: 1 }] };
    if (t.direct.size < MAX_DIRECT) t.direct.set(model, resolved);
    return resolved;
  }

  /** Every model id a tenant offers: policy names, then catalogue models as "provider/model". */
  modelIds(tenant: string): Array<{ id: string; ownedBy: string; embeddings: boolean }> {
    const t = this.tenants.get(tenant);
    if (!t) return [];
    const out: Array<{ id: string; ownedBy: string; embeddings: boolean }> = [];
    for (const p of t.policies.values()) out.push({ id: p.name, ownedBy: 'portcullis', embeddings: p.targets.every((x) => x.deployment.embeddings) });
    for (const [id, d] of t.deployments) out.push({ id, ownedBy: d.provider.name, embeddings: d.embeddings });
    return out;
  }

  /** Releases the provider pools. Idempotent. */
  release(): void {
    for (const s of this.acquired.splice(0)) this.deps.pools.release(s);
  }
}
