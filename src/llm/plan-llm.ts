/**
 * Planning of the LLM objects of a config dump: llm-providers (known type, required options, a base
 * URL, keys where the type needs them) and llm-policies (targets naming providers and catalogue
 * models of their tenant), and each LLM service's model patterns. Pure, like the rest of planning.
 */

import type { ErrorDetail } from '../core/errors.js';
import type { ServiceSpec } from '../model/service.js';
import { parseSpec } from '../snapshot/parse-spec.js';
import type { ConfigDump } from '../storage/store.js';
import { LlmPolicySpecSchema, type LlmPolicySpec } from './model/llm-policy-spec.js';
import { LlmProviderSpecSchema, type LlmProviderSpec } from './model/llm-provider-spec.js';
import type { ProviderRegistry } from './providers/provider-registry.js';

export interface PlannedLlmProvider {
  readonly tenant: string;
  /** Keys and TLS client key still sealed. */
  readonly spec: LlmProviderSpec;
  /** The base URL to use: the spec's, or the type's default. */
  readonly baseUrl: string;
}

export interface PlannedLlmPolicy {
  readonly tenant: string;
  readonly spec: LlmPolicySpec;
}

export interface PlannedLlm {
  readonly providers: readonly PlannedLlmProvider[];
  readonly policies: readonly PlannedLlmPolicy[];
}

const key = (tenant: string, name: string): string => `${tenant}/${name}`;

export function planLlm(dump: ConfigDump, types: ProviderRegistry, services: ReadonlyArray<{ tenant: string; spec: ServiceSpec }>, details: ErrorDetail[]): PlannedLlm {
  const providers = new Map<string, PlannedLlmProvider>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'llm-provider') continue;
    const spec = parseSpec(LlmProviderSpecSchema, rec, details);
    if (!spec) continue;
    const where = `llm-providers.${rec.tenant}/${rec.name}`;
    const adapter = types.get(spec.type);
    if (!adapter) {
      details.push({ path: `${where}.type`, message: `unknown provider type "${spec.type}"; known types: ${types.names().join(', ')}` });
      continue;
    }
    for (const opt of adapter.requiredOptions ?? []) {
      if (!spec.options[opt]) details.push({ path: `${where}.options.${opt}`, message: `is required for type "${spec.type}"` });
    }
    const baseUrl = spec.baseUrl ?? adapter.defaultBaseUrl(spec.options);
    if (!baseUrl) {
      details.push({ path: `${where}.baseUrl`, message: `is required for type "${spec.type}" (it has no public endpoint)` });
      continue;
    }
    if ((adapter.keyRequired ?? true) && Object.keys(spec.keys).length === 0) {
      details.push({ path: `${where}.keys`, message: `needs at least one key for type "${spec.type}"` });
    }
    if (spec.tls && !baseUrl.startsWith('https:')) details.push({ path: `${where}.tls`, message: 'applies to an https:// base URL' });
    providers.set(key(rec.tenant, rec.name), { tenant: rec.tenant, spec, baseUrl });
  }
  const policies: PlannedLlmPolicy[] = [];
  const policyNames = new Set<string>();
  for (const rec of dump.objects) {
    if (rec.kind !== 'llm-policy') continue;
    const spec = parseSpec(LlmPolicySpecSchema, rec, details);
    if (!spec) continue;
    const where = `llm-policies.${rec.tenant}/${rec.name}`;
    spec.targets.forEach((t, i) => {
      const p = providers.get(key(rec.tenant, t.provider));
      if (!p) {
        if (!dump.objects.some((o) => o.kind === 'llm-provider' && o.tenant === rec.tenant && o.name === t.provider)) {
          details.push({ path: `${where}.targets.${i}.provider`, message: `llm-provider "${t.provider}" does not exist in tenant "${rec.tenant}"` });
        }
        return;
      }
      if (p.spec.models.length > 0 && !p.spec.models.some((m) => m.name === t.model)) {
        details.push({ path: `${where}.targets.${i}.model`, message: `llm-provider "${t.provider}" has no model "${t.model}" in its catalogue` });
      }
    });
    policies.push({ tenant: rec.tenant, spec });
    policyNames.add(key(rec.tenant, rec.name));
  }
  for (const svc of services) {
    const llm = svc.spec.llm;
    if (!llm) continue;
    llm.models.forEach((pattern, i) => {
      if (pattern === '*') return;
      const slash = pattern.indexOf('/');
      const ok = slash === -1 ? policyNames.has(key(svc.tenant, pattern)) : providers.has(key(svc.tenant, pattern.slice(0, slash)));
      if (!ok) {
        const what = slash === -1 ? `llm-policy "${pattern}"` : `llm-provider "${pattern.slice(0, slash)}"`;
        details.push({ path: `services.${svc.tenant}/${svc.spec.name}.llm.models.${i}`, message: `${what} does not exist in tenant "${svc.tenant}"` });
      }
    });
  }
  return { providers: [...providers.values()], policies };
}
