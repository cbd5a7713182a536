/**
 * What routing knows about deployments and keys from recent traffic, kept per gateway across config
 * snapshots (keyed by `tenant/provider/model` and `tenant/provider#key`): circuit breakers, key
 * cool-downs after 401/403/429, latency (EWMA) and requests in flight. In memory, per node: each node
 * judges the providers it talks to.
 */

export interface BreakerSettings {
  /** Consecutive failures that open the circuit. */
  readonly failures: number;
  /** How long it stays open before one probe is let through. */
  readonly cooldown: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

interface Breaker {
  failures: number;
  openedAt: number;
  state: BreakerState;
  /** A half-open probe is running: other requests are still refused. */
  probing: boolean;
}

interface Stats {
  /** Exponentially weighted moving average of time to first byte, ms. */
  latency: number;
  samples: number;
  inFlight: number;
}

/** Weight of a new latency sample in the moving average. */
const EWMA_ALPHA = 0.3;
/** Most tracked entries per map; beyond that the oldest are forgotten (ids come from config, but pass-through model ids from requests). */
const MAX_ENTRIES = 50_000;

function bounded<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
    v = make();
    map.set(key, v);
  }
  return v;
}

export class DeploymentHealth {
  private readonly breakers = new Map<string, Breaker>();
  private readonly stats = new Map<string, Stats>();
  private readonly keyRest = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Whether a request may go to the deployment now. An open circuit whose cool-down has passed
   * turns half-open and lets exactly this one request through as a probe.
   */
  admit(id: string, settings: BreakerSettings): boolean {
    const b = this.breakers.get(id);
    if (!b || b.state === 'closed') return true;
    if (b.state === 'open') {
      if (this.now() - b.openedAt < settings.cooldown) return false;
      b.state = 'half-open';
      b.probing = true;
      return true;
    }
    // Half-open: one probe at a time.
    if (b.probing) return false;
    b.probing = true;
    return true;
  }

  /** Records a successful attempt: the circuit closes. */
  success(id: string): void {
    const b = this.breakers.get(id);
    if (b) {
      b.failures = 0;
      b.state = 'closed';
      b.probing = false;
    }
  }

  /** Records a failed attempt; opens the circuit after `failures` in a row, or at once when a probe failed. */
  failure(id: string, settings: BreakerSettings): void {
    const b = bounded(this.breakers, id, () => ({ failures: 0, openedAt: 0, state: 'closed' as BreakerState, probing: false }));
    b.failures++;
    if (b.state === 'half-open' || b.failures >= settings.failures) {
      b.state = 'open';
      b.openedAt = this.now();
      b.probing = false;
    }
  }

  state(id: string): BreakerState {
    return this.breakers.get(id)?.state ?? 'closed';
  }

  /** Leaves a key out until `until` (epoch ms). */
  restKey(keyId: string, forMs: number): void {
    const until = this.now() + forMs;
    if ((this.keyRest.get(keyId) ?? 0) < until) {
      if (this.keyRest.size >= MAX_ENTRIES && !this.keyRest.has(keyId)) this.keyRest.delete(this.keyRest.keys().next().value as string);
      this.keyRest.set(keyId, until);
    }
  }

  /** How long a key still rests, ms (0 when it does not). */
  keyRestMs(keyId: string): number {
    return Math.max(0, (this.keyRest.get(keyId) ?? 0) - this.now());
  }

  keyResting(keyId: string): boolean {
    const until = this.keyRest.get(keyId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.keyRest.delete(keyId);
    return false;
  }

  started(id: string): void {
    bounded(this.stats, id, () => ({ latency: 0, samples: 0, inFlight: 0 })).inFlight++;
  }

  /** Ends an in-flight request; `latencyMs` is its time to first byte when it succeeded. */
  finished(id: string, latencyMs: number | undefined): void {
    const s = this.stats.get(id);
    if (!s) return;
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (latencyMs !== undefined) {
      s.latency = s.samples === 0 ? latencyMs : s.latency + EWMA_ALPHA * (latencyMs - s.latency);
      s.samples++;
    }
  }

  /** Average latency, or undefined before the first sample (untried deployments go first under least-latency). */
  latency(id: string): number | undefined {
    const s = this.stats.get(id);
    return s && s.samples > 0 ? s.latency : undefined;
  }

  inFlight(id: string): number {
    return this.stats.get(id)?.inFlight ?? 0;
  }
}
