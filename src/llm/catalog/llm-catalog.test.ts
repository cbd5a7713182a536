/**
 * The LLM catalogue of a snapshot, built from planned providers and policies with the built-in
 * adapters and a real pool registry: model resolution (policy, catalogue model, pass-through),
 * tenant isolation, the model list, and pools acquired and released in balance.
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Pool } from 'undici';
import type { SecretOpener } from '../../snapshot/snapshot.js';
import { PoolRegistry } from '../../upstreams/pool-registry.js';
import { LlmPolicySpecSchema } from '../model/llm-policy-spec.js';
import { LlmProviderSpecSchema } from '../model/llm-provider-spec.js';
import type { PlannedLlm, PlannedLlmPolicy, PlannedLlmProvider } from '../plan-llm.js';
import { builtinProviderRegistry } from '../providers/builtin-providers.js';
import { LlmCatalog, type ResolvedPolicy } from './llm-catalog.js';

function provider(tenant: string, baseUrl: string, spec: Record<string, unknown>): PlannedLlmProvider {
  return { tenant, baseUrl, spec: LlmProviderSpecSchema.parse(spec) };
}

function policy(tenant: string, spec: Record<string, unknown>): PlannedLlmPolicy {
  return { tenant, spec: LlmPolicySpecSchema.parse(spec) };
}

const PRICING = { input: 1, output: 2 };

/** Tenant acme: openai with a catalogue, a local vLLM without one, two policies; tenant globex: openai. */
const PLAN: PlannedLlm = {
  providers: [
    provider('acme', 'https://api.openai.com/v1', {
      name: 'openai',
      type: 'openai',
      keys: { primary: 'sk-acme-1', secondary: 'sk-acme-2' },
      headers: { 'OpenAI-Organization': 'org-acme' },
      models: [
        { name: 'gpt-4o-mini', contextWindow: 128_000, maxOutput: 16_384 },
        { name: 'gpt-4o-pinned', upstreamModel: 'gpt-4o-2024-08-06', pricing: PRICING },
        { name: 'text-embedding-3-small', embeddings: true },
      ],
    }),
    provider('acme', 'http://127.0.0.1:8000/v1', { name: 'local', type: 'vllm' }),
    provider('globex', 'https://api.openai.com/v1', { name: 'openai', type: 'openai', keys: { main: 'sk-globex' }, models: [{ name: 'gpt-4o-mini' }] }),
  ],
  policies: [
    policy('acme', {
      name: 'fast',
      strategy: 'weighted',
      targets: [
        { provider: 'openai', model: 'gpt-4o-mini', weight: 3 },
        { provider: 'local', model: 'llama-3.1-8b-instruct', weight: 1 },
        { provider: 'openai', model: 'not-in-catalogue' },
      ],
    }),
    policy('acme', { name: 'embed', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] }),
  ],
};

function build(plan: PlannedLlm = PLAN, pools = new PoolRegistry(), secrets: SecretOpener = { open: (v) => v }) {
  const catalog = new LlmCatalog(plan, { adapters: builtinProviderRegistry(), pools, secrets, logger: pino({ level: 'silent' }) });
  return { catalog, pools };
}

const targetsOf = (p: ResolvedPolicy | undefined) => p?.targets.map((t) => ({ id: t.deployment.id, upstream: t.deployment.upstreamModel, weight: t.weight }));

describe('LlmCatalog', () => {
  /** One catalogue for the tests that only read it. */
  const { catalog } = build();
  after(() => catalog.release());

  it('resolves a policy by name, its targets in order with their weights, skipping one the catalogue lacks', () => {
    const fast = catalog.resolve('acme', 'fast');
    assert.equal(fast?.name, 'fast');
    assert.equal(fast?.spec.strategy, 'weighted');
    assert.deepEqual(targetsOf(fast), [
      { id: 'acme/openai/gpt-4o-mini', upstream: 'gpt-4o-mini', weight: 3 },
      { id: 'acme/local/llama-3.1-8b-instruct', upstream: 'llama-3.1-8b-instruct', weight: 1 },
    ]);
  });

  it('resolves provider/model from a catalogue, sending the upstream model', () => {
    const direct = catalog.resolve('acme', 'openai/gpt-4o-pinned');
    assert.equal(direct?.name, 'openai/gpt-4o-pinned');
    assert.equal(direct?.spec.name, 'direct');
    assert.deepEqual(targetsOf(direct), [{ id: 'acme/openai/gpt-4o-pinned', upstream: 'gpt-4o-2024-08-06', weight: 1 }]);
    const d = direct!.targets[0]!.deployment;
    assert.equal(d.model, 'gpt-4o-pinned');
    assert.deepEqual(d.pricing, PRICING);
    const mini = catalog.resolve('acme', 'openai/gpt-4o-mini')!.targets[0]!.deployment;
    assert.equal(mini.contextWindow, 128_000);
    assert.equal(mini.maxOutput, 16_384);
    assert.equal(mini.pricing, undefined);
    assert.equal(mini.embeddings, false);
  });

  it('resolves provider/anything for a provider without a catalogue', () => {
    const direct = catalog.resolve('acme', 'local/Qwen/Qwen2.5-7B-Instruct');
    assert.deepEqual(targetsOf(direct), [{ id: 'acme/local/Qwen/Qwen2.5-7B-Instruct', upstream: 'Qwen/Qwen2.5-7B-Instruct', weight: 1 }]);
    assert.equal(catalog.resolve('acme', 'local/Qwen/Qwen2.5-7B-Instruct'), direct);
  });

  it('does not pass an unlisted model through a provider with a catalogue', () => {
    assert.equal(catalog.resolve('acme', 'openai/gpt-3.5-turbo'), undefined);
  });

  it('returns undefined for an unknown tenant, provider, policy or malformed id', () => {
    for (const [tenant, model] of [
      ['initech', 'fast'],
      ['initech', 'openai/gpt-4o-mini'],
      ['acme', 'anthropic/claude-3-5-haiku'],
      ['acme', 'slow'],
      ['acme', 'gpt-4o-mini'],
      ['acme', '/gpt-4o-mini'],
    ] as const) {
      assert.equal(catalog.resolve(tenant, model), undefined, `${tenant} ${model}`);
    }
  });

  it('keeps tenants apart', () => {
    assert.equal(catalog.resolve('globex', 'fast'), undefined);
    const acme = catalog.resolve('acme', 'openai/gpt-4o-mini')!.targets[0]!.deployment.provider;
    const globex = catalog.resolve('globex', 'openai/gpt-4o-mini')!.targets[0]!.deployment.provider;
    assert.deepEqual(acme.keys.map((k) => k.value), ['sk-acme-1', 'sk-acme-2']);
    assert.deepEqual(globex.keys.map((k) => k.value), ['sk-globex']);
  });

  it('builds provider entries with opened keys, lower-case headers, the adapter and a pool', () => {
    const aads: string[] = [];
    const { catalog: opened } = build(PLAN, new PoolRegistry(), { open: (v, aad) => (aads.push(aad), `opened:${v}`) });
    const p = opened.resolve('acme', 'openai/gpt-4o-mini')!.targets[0]!.deployment.provider;
    assert.deepEqual(p.keys, [
      { name: 'primary', value: 'opened:sk-acme-1', id: 'acme/openai#primary' },
      { name: 'secondary', value: 'opened:sk-acme-2', id: 'acme/openai#secondary' },
    ]);
    assert.deepEqual(p.headers, [['openai-organization', 'org-acme']]);
    assert.equal(p.type, 'openai');
    assert.equal(p.adapter.type, 'openai');
    assert.equal(p.baseUrl, 'https://api.openai.com/v1');
    assert.ok(p.dispatcher instanceof Pool);
    assert.equal(aads.length, 3);
    opened.release();
  });

  it('lists policies, then catalogue models, with their embeddings flag', () => {
    assert.deepEqual(catalog.modelIds('acme'), [
      { id: 'fast', ownedBy: 'portcullis', embeddings: false },
      { id: 'embed', ownedBy: 'portcullis', embeddings: true },
      { id: 'openai/gpt-4o-mini', ownedBy: 'openai', embeddings: false },
      { id: 'openai/gpt-4o-pinned', ownedBy: 'openai', embeddings: false },
      { id: 'openai/text-embedding-3-small', ownedBy: 'openai', embeddings: true },
    ]);
    assert.deepEqual(catalog.modelIds('initech'), []);
  });

  it('releases its pools, once, and shares them with another catalogue', () => {
    const pools = new PoolRegistry();
    const { catalog: first } = build(PLAN, pools);
    assert.equal(pools.size, 2);
    const { catalog: second } = build(PLAN, pools);
    assert.equal(pools.size, 2);
    first.release();
    first.release();
    assert.equal(pools.size, 2);
    second.release();
    assert.equal(pools.size, 0);
  });

  it('releases the pools it acquired when building fails', () => {
    const pools = new PoolRegistry();
    const broken: PlannedLlm = { providers: [...PLAN.providers, { ...PLAN.providers[1]!, baseUrl: 'not a url' }], policies: [] };
    assert.throws(() => build(broken, pools));
    assert.equal(pools.size, 0);
  });
});
