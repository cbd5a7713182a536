/**
 * The order in which a policy's targets are tried. The strategy picks who goes first; everyone else
 * follows as fallbacks, so every strategy falls back the same way.
 */

import type { PolicyTargetEntry, ResolvedPolicy } from '../catalog/llm-catalog.js';
import type { DeploymentHealth } from './deployment-health.js';

/** Picks an index with probability proportional to weight. `random` is in [0, 1). */
export function weightedPick(targets: readonly PolicyTargetEntry[], random: number): number {
  let total = 0;
  for (const t of targets) total += t.weight;
  let r = random * total;
  for (let i = 0; i < targets.length; i++) {
    r -= targets[i]!.weight;
    if (r < 0) return i;
  }
  return targets.length - 1;
}

export function attemptOrder(policy: ResolvedPolicy, health: DeploymentHealth, random: () => number = Math.random): PolicyTargetEntry[] {
  const targets = policy.targets;
  if (targets.length <= 1) return [...targets];
  switch (policy.spec.strategy) {
    case 'fallback':
      return [...targets];
    case 'weighted': {
      // Weighted order without replacement: each next target is drawn by weight from the rest.
      const rest = [...targets];
      const out: PolicyTargetEntry[] = [];
      while (rest.length > 0) out.push(rest.splice(weightedPick(rest, random()), 1)[0]!);
      return out;
    }
    case 'least-latency':
      // Untried deployments first (they need a sample), then by average latency; ties keep config order.
      return [...targets].sort((a, b) => (health.latency(a.deployment.id) ?? -1) - (health.latency(b.deployment.id) ?? -1));
    case 'least-busy':
      return [...targets].sort((a, b) => health.inFlight(a.deployment.id) - health.inFlight(b.deployment.id));
  }
}
