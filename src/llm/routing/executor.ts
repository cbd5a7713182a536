/**
 * Runs one LLM request through a policy: targets in strategy order, each behind its circuit breaker,
 * with a key chosen among the provider's keys that are not resting, retries with exponential
 * backoff and full jitter (a Retry-After within `maxDelay` is honoured instead), fallback to the next
 * target on the failures the policy names, a timeout per attempt and one for the whole run, and
 * cancellation when the client goes away.
 *
 * "An attempt" ends when `run` resolves: for a stream, that is once its first chunk arrived, so a
 * stream failing before any byte reached the client still falls back.
 */

import type { Deployment, ProviderKey, ResolvedPolicy } from '../catalog/llm-catalog.js';
import { AttemptControl } from '../providers/attempt-io.js';
import { ProviderError, type AttemptIo, type ProviderTarget } from '../providers/provider.js';
import { attemptOrder } from './attempt-order.js';
import type { ClientLink } from './client-link.js';
import type { DeploymentHealth } from './deployment-health.js';

export interface ExecuteOptions {
  readonly policy: ResolvedPolicy;
  readonly health: DeploymentHealth;
  /** Tells when the client disconnects; the executor watches it while it runs (and for a stream's winner, after). */
  readonly client: ClientLink;
  /** Why a deployment cannot take this request (limits, capability), or undefined when it can. */
  readonly unsuitable?: ((d: Deployment) => ProviderError | undefined) | undefined;
  readonly random?: () => number;
  /** Called before each attempt (for logs). */
  readonly onAttempt?: ((d: Deployment, key: ProviderKey | undefined, n: number) => void) | undefined;
}

export interface Executed<T> {
  readonly value: T;
  readonly deployment: Deployment;
  readonly key: ProviderKey | undefined;
  /** Attempts made, the successful one included. */
  readonly attempts: number;
  /** Time the successful attempt took (to its first chunk, for streams), ms. */
  readonly latencyMs: number;
}

export type AttemptRunner<T> = (target: ProviderTarget, io: AttemptIo, deployment: Deployment) => Promise<T>;

function pickKey(d: Deployment, health: DeploymentHealth, random: () => number): ProviderKey | undefined | null {
  const keys = d.provider.keys;
  if (keys.length === 0) return undefined;
  const ready = keys.filter((k) => !health.keyResting(k.id));
  if (ready.length === 0) return null;
  return ready[Math.floor(random() * ready.length)]!;
}

function targetOf(d: Deployment, key: ProviderKey | undefined): ProviderTarget {
  const p = d.provider;
  return { tenant: p.tenant, provider: p.name, type: p.type, model: d.upstreamModel, baseUrl: p.baseUrl, apiKey: key?.value, keyName: key?.name, headers: p.headers, options: p.options, dispatcher: p.dispatcher };
}

function fallsBack(e: ProviderError, on: ReadonlyArray<number | string>): boolean {
  if (e.kind === 'timeout') return on.includes('timeout');
  if (e.kind === 'connection' || e.kind === 'protocol') return on.includes('connection');
  return on.includes(e.status);
}

/** Failures that say something about the deployment's health (not about the request or the key). */
function countsAgainstDeployment(e: ProviderError): boolean {
  return e.kind !== 'status' || e.status >= 500;
}

function unavailable(message: string): ProviderError {
  return new ProviderError('connection', 503, 'overloaded_error', message);
}

export async function execute<T>(opts: ExecuteOptions, run: AttemptRunner<T>): Promise<Executed<T>> {
  const { policy, health } = opts;
  const spec = policy.spec;
  const random = opts.random ?? Math.random;
  // One AttemptControl per attempt (its AbortSignal made only if an adapter reads it), aborted by the
  // attempt timer, the total timer or the client; the run itself keeps only the reason it was stopped
  // for (AbortSignal.any and per-request listeners are costly on the hot path).
  let stopped: ProviderError | undefined;
  let current: AttemptControl | undefined;
  const stop = (reason: ProviderError): void => {
    stopped ??= reason;
    current?.abort(reason);
    wake?.();
  };
  let wake: (() => void) | undefined;
  const totalTimer = setTimeout(() => stop(new ProviderError('timeout', 504, 'timeout_error', `No answer within the policy's total timeout (${spec.timeouts.total} ms)`)), spec.timeouts.total);
  const client = opts.client;
  if (client.gone) stop(client.gone);
  else client.onGone = stop;
  let winner: AttemptControl | undefined;
  let attempts = 0;
  let last: ProviderError | undefined;
  let refusedByLimits: ProviderError | undefined;
  try {
    for (const { deployment: d } of attemptOrder(policy, health, random)) {
      const problem = opts.unsuitable?.(d);
      if (problem) {
        refusedByLimits ??= problem;
        continue;
      }
      let retries = 0;
      for (;;) {
        const key = pickKey(d, health, random);
        if (key === null) {
          last ??= new ProviderError('status', 429, 'rate_limit_error', `Every key of provider "${d.provider.name}" is resting after 401/403/429 answers`, {
            retryAfterMs: Math.min(...d.provider.keys.map((k) => health.keyRestMs(k.id))),
          });
          break;
        }
        if (!health.admit(d.id, spec.circuitBreaker)) {
          last ??= unavailable(`Deployment ${d.provider.name}/${d.model} is unavailable (circuit open)`);
          break;
        }
        attempts++;
        opts.onAttempt?.(d, key, attempts);
        if (stopped) throw stopped;
        const io = new AttemptControl(d.provider.headersTimeout, d.provider.bodyTimeout);
        current = io;
        const attemptTimer = setTimeout(() => io.abort(new ProviderError('timeout', 504, 'timeout_error', `Attempt timed out after ${spec.timeouts.attempt} ms`)), spec.timeouts.attempt);
        const started = performance.now();
        health.started(d.id);
        try {
          const value = await run(targetOf(d, key), io, d);
          const latencyMs = performance.now() - started;
          health.finished(d.id, latencyMs);
          health.success(d.id);
          winner = io;
          return { value, deployment: d, key, attempts, latencyMs };
        } catch (err) {
          health.finished(d.id, undefined);
          const e = err instanceof ProviderError ? err : new ProviderError('protocol', 502, 'api_error', 'The provider adapter failed', { cause: err });
          if (stopped) throw stopped;
          last = e;
          if (countsAgainstDeployment(e)) health.failure(d.id, spec.circuitBreaker);
          else health.success(d.id);
          if (key && e.kind === 'status' && (e.status === 401 || e.status === 403 || e.status === 429)) {
            // A 429 says how long (Retry-After); without it, and for a refused key, the provider's cool-down applies.
            health.restKey(key.id, e.status === 429 && e.retryAfterMs !== undefined ? e.retryAfterMs : d.provider.keyCooldown);
            // Another key of the same provider may well work: try it before anything else.
            if (d.provider.keys.some((k) => k !== key && !health.keyResting(k.id))) continue;
          }
          if (!fallsBack(e, spec.fallbackOn)) throw e;
          if (retries >= spec.retries.attempts) break;
          const backoff = random() * Math.min(spec.retries.maxDelay, spec.retries.baseDelay * 2 ** retries);
          const wait = e.retryAfterMs ?? backoff;
          if (wait > spec.retries.maxDelay) break;
          retries++;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, wait);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = undefined;
          if (stopped) throw stopped;
        } finally {
          clearTimeout(attemptTimer);
        }
      }
    }
    throw last ?? refusedByLimits ?? unavailable(`Policy "${policy.name}" has no target that can take this request`);
  } catch (err) {
    throw stopped ?? err;
  } finally {
    clearTimeout(totalTimer);
    client.onGone = undefined;
    // A stream keeps reading after the run returned: the client going away must still cancel it.
    if (winner && !client.gone) {
      const w = winner;
      client.onGone = (reason) => w.abort(reason);
    }
  }
}
