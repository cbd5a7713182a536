/**
 * Routing behaviour of the executor with scripted adapters (no network): strategy order, fallback on
 * the failures a policy names, retries with backoff and Retry-After, key rotation on 401/429,
 * circuit breakers opening and probing half-open, timeouts per attempt and in total, and
 * cancellation by the client.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import type { Deployment, ProviderEntry, ResolvedPolicy } from '../catalog/llm-catalog.js';
import { LlmPolicySpecSchema } from '../model/llm-policy-spec.js';
import type { LlmProviderSpec } from '../model/llm-provider-spec.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from '../providers/provider.js';
import { DeploymentHealth } from './deployment-health.js';
import { ClientLink } from './client-link.js';
import { execute } from './executor.js';

type Step = 'ok' | ProviderError | { hangMs: number };

function deployment(name: string, keys = ['k1']): Deployment {
  const provider = {
    tenant: 't',
    name,
    type: 'scripted',
    adapter: {} as ProviderAdapter,
    baseUrl: 'http://unused',
    keys: keys.map((k) => ({ name: k, value: `secret-${k}`, id: `t/${name}#${k}` })),
    headers: [],
    options: {},
    dispatcher: {} as Dispatcher,
    headersTimeout: 1000,
    bodyTimeout: 1000,
    keyCooldown: 60_000,
    spec: {} as LlmProviderSpec,
  } satisfies ProviderEntry;
  return { id: `t/${name}/m`, provider, model: 'm', upstreamModel: 'm', contextWindow: undefined, maxOutput: undefined, pricing: undefined, embeddings: false };
}

function policy(spec: Record<string, unknown>, ...ds: Deployment[]): ResolvedPolicy {
  const parsed = LlmPolicySpecSchema.parse({ name: 'p', targets: ds.map((d) => ({ provider: d.provider.name, model: 'm' })), ...spec });
  return { name: 'p', spec: parsed, targets: ds.map((d) => ({ deployment: d, weight: 1 })) };
}

/** A runner answering from per-deployment scripts, recording each attempt as `provider#key`. */
function scripted(scripts: Record<string, Step[]>) {
  const log: string[] = [];
  const run = async (target: ProviderTarget, io: AttemptIo): Promise<string> => {
    log.push(`${target.provider}#${target.keyName}`);
    const step = scripts[target.provider]!.shift() ?? 'ok';
    if (step === 'ok') return `answer from ${target.provider}`;
    if (step instanceof ProviderError) throw step;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, step.hangMs);
      io.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(io.signal.reason as Error);
      });
    });
    return 'late';
  };
  return { log, run };
}

const status = (s: number, retryAfterMs?: number) => new ProviderError('status', s, 'api_error', `status ${s}`, { retryAfterMs });
const opts = (p: ResolvedPolicy, health = new DeploymentHealth(), client = new ClientLink()) => ({ policy: p, health, client, random: () => 0.5 });

describe('LLM executor', () => {
  it('falls back in order on 429, 5xx, timeout and connection failures', async () => {
    const a = deployment('a');
    const b = deployment('b');
    for (const failure of [status(429), status(503), new ProviderError('timeout', 504, 'timeout_error', 't'), new ProviderError('connection', 502, 'api_error', 'c')]) {
      const { log, run } = scripted({ a: [failure], b: [] });
      const r = await execute(opts(policy({ retries: { attempts: 0 } }, a, b)), run);
      assert.equal(r.value, 'answer from b');
      assert.equal(r.attempts, 2);
      assert.deepEqual(log, ['a#k1', 'b#k1']);
    }
  });

  it('returns a failure the policy does not name at once (a 400 is the request, not the provider)', async () => {
    const { log, run } = scripted({ a: [status(400)], b: [] });
    await assert.rejects(execute(opts(policy({}, deployment('a'), deployment('b'))), run), (e: unknown) => e instanceof ProviderError && e.status === 400);
    assert.deepEqual(log, ['a#k1']);
  });

  it('retries with backoff, honouring Retry-After, before falling back', async () => {
    const { log, run } = scripted({ a: [status(503, 120), status(503)], b: [] });
    const started = performance.now();
    const r = await execute(opts(policy({ retries: { attempts: 1, baseDelay: 10, maxDelay: 1000 } }, deployment('a'), deployment('b'))), run);
    const elapsed = performance.now() - started;
    assert.deepEqual(log, ['a#k1', 'a#k1', 'b#k1']);
    assert.equal(r.value, 'answer from b');
    assert.ok(elapsed >= 115, `waited for Retry-After (${elapsed} ms)`);
  });

  it('does not wait for a Retry-After longer than maxDelay: it falls back', async () => {
    const { log, run } = scripted({ a: [status(503, 60_000)], b: [] });
    const started = performance.now();
    await execute(opts(policy({ retries: { attempts: 3, maxDelay: 1000 } }, deployment('a'), deployment('b'))), run);
    assert.deepEqual(log, ['a#k1', 'b#k1']);
    assert.ok(performance.now() - started < 500);
  });

  it("rests a key answered 401 or 429 and uses the provider's next key", async () => {
    const health = new DeploymentHealth();
    const a = deployment('a', ['k1', 'k2']);
    const { log, run } = scripted({ a: [status(401), 'ok', 'ok'] });
    let n = 0;
    const pick = () => [0, 0.9, 0, 0][n++]!;
    const r = await execute({ ...opts(policy({}, a), health), random: pick }, run);
    assert.equal(r.key?.name, 'k2');
    assert.deepEqual(log, ['a#k1', 'a#k2']);
    assert.ok(health.keyResting('t/a#k1'));
    await execute({ ...opts(policy({}, a), health), random: () => 0 }, run);
    assert.equal(log.at(-1), 'a#k2', 'the resting key is left out');
  });

  it('answers 429 with Retry-After when every key rests', async () => {
    const health = new DeploymentHealth();
    const a = deployment('a');
    health.restKey('t/a#k1', 5000);
    const { run } = scripted({ a: [] });
    await assert.rejects(execute(opts(policy({}, a), health), run), (e: unknown) => e instanceof ProviderError && e.status === 429 && (e.retryAfterMs ?? 0) > 4000);
  });

  it('opens the circuit after repeated failures, refuses while open, probes half-open once, closes on success', async () => {
    let now = 1_000_000;
    const health = new DeploymentHealth(() => now);
    const a = deployment('a');
    const b = deployment('b');
    const p = policy({ retries: { attempts: 0 }, circuitBreaker: { failures: 2, cooldown: 30_000 } }, a, b);
    const { log, run } = scripted({ a: [status(500), status(500), status(500)], b: [] });
    await execute(opts(p, health), run);
    await execute(opts(p, health), run);
    assert.equal(health.state(a.id), 'open');
    await execute(opts(p, health), run);
    assert.deepEqual(log, ['a#k1', 'b#k1', 'a#k1', 'b#k1', 'b#k1'], 'an open circuit is skipped');
    now += 30_001;
    await execute(opts(p, health), run);
    assert.deepEqual(log.slice(5), ['a#k1', 'b#k1'], 'one probe after the cool-down; it failed');
    assert.equal(health.state(a.id), 'open', 'a failed probe opens the circuit again');
    now += 30_001;
    await execute(opts(p, health), run);
    assert.equal(log.at(-1), 'a#k1');
    assert.equal(health.state(a.id), 'closed', 'a successful probe closes it');
  });

  it('times out an attempt and falls back; the total timeout ends everything', async () => {
    const { log, run } = scripted({ a: [{ hangMs: 5000 }], b: [] });
    const r = await execute(opts(policy({ timeouts: { attempt: 50, total: 5000 }, retries: { attempts: 0 } }, deployment('a'), deployment('b'))), run);
    assert.equal(r.value, 'answer from b');
    assert.deepEqual(log, ['a#k1', 'b#k1']);

    const slow = scripted({ a: [{ hangMs: 5000 }], b: [{ hangMs: 5000 }] });
    const started = performance.now();
    await assert.rejects(
      execute(opts(policy({ timeouts: { attempt: 2000, total: 100 }, retries: { attempts: 0 } }, deployment('a'), deployment('b'))), slow.run),
      (e: unknown) => e instanceof ProviderError && e.status === 504 && /total timeout/.test(e.message),
    );
    assert.ok(performance.now() - started < 1000);
  });

  it('stops when the client goes away, without trying further targets', async () => {
    const client = new ClientLink();
    const { log, run } = scripted({ a: [{ hangMs: 5000 }], b: [] });
    setTimeout(() => client.leave(new ProviderError('connection', 499, 'api_error', 'client closed')), 30);
    await assert.rejects(execute(opts(policy({}, deployment('a'), deployment('b')), new DeploymentHealth(), client), run), (e: unknown) => e instanceof ProviderError && e.status === 499);
    assert.deepEqual(log, ['a#k1']);
  });

  it('orders targets by strategy: weighted draws by weight, least-busy and least-latency prefer the idle and the fast', async () => {
    const health = new DeploymentHealth();
    const a = deployment('a');
    const b = deployment('b');
    const weighted = policy({ strategy: 'weighted' }, a, b);
    const counts = { a: 0, b: 0 };
    const w: ResolvedPolicy = { ...weighted, targets: [{ deployment: a, weight: 1 }, { deployment: b, weight: 3 }] };
    for (let i = 0; i < 400; i++) {
      const r = await execute({ policy: w, health, client: new ClientLink() }, async (t) => t.provider);
      counts[r.value as 'a' | 'b']++;
    }
    assert.ok(counts.b > counts.a * 2, `weights respected: ${JSON.stringify(counts)}`);

    health.started(a.id);
    const busy = await execute(opts(policy({ strategy: 'least-busy' }, a, b), health), async (t) => t.provider);
    assert.equal(busy.value, 'b');
    health.finished(a.id, 10);
    health.started(b.id);
    health.finished(b.id, 500);
    const fast = await execute(opts(policy({ strategy: 'least-latency' }, b, a), health), async (t) => t.provider);
    assert.equal(fast.value, 'a');
  });
});
