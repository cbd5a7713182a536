/**
 * Smooth weighted round-robin (the nginx algorithm): over any window of sum(weights) picks, each
 * endpoint is chosen in proportion to its weight, interleaved rather than in bursts.
 * Not safe across threads; Node's single event loop makes `pick` atomic.
 */
export class WeightedRoundRobin<T> {
  private readonly items: readonly T[];
  private readonly weights: readonly number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(entries: ReadonlyArray<{ item: T; weight: number }>) {
    if (entries.length === 0) throw new Error('balancer needs at least one endpoint');
    this.items = entries.map((e) => e.item);
    this.weights = entries.map((e) => e.weight);
    this.current = entries.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  pick(): T {
    if (this.items.length === 1) return this.items[0]!;
    let best = 0;
    for (let i = 0; i < this.items.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.items[best]!;
  }
}
