import type { Dispatcher } from 'undici';
import { WeightedRoundRobin } from './balancer.js';
import type { PoolSettings } from './pool-registry.js';

/** One upstream target: a pool to an origin, plus the base path to prefix. */
export interface Endpoint {
  readonly origin: string;
  /** Path prefix from the target URL, without trailing slash ("" for none). */
  readonly basePath: string;
  /** Host header sent when the service does not preserve the client's. */
  readonly hostHeader: string;
  readonly dispatcher: Dispatcher;
  readonly settings: PoolSettings;
}

export interface ClusterOptions {
  readonly preserveHost: boolean;
  /** Lower-case header name/value pairs added to every request (secrets already opened). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
}

/**
 * A service's upstream: its endpoints and how to pick one (Envoy's cluster). Immutable; built with
 * the snapshot. `pick` is O(endpoints) and allocation-free.
 */
export class Cluster {
  private readonly balancer: WeightedRoundRobin<Endpoint>;

  constructor(
    readonly name: string,
    readonly endpoints: ReadonlyArray<{ endpoint: Endpoint; weight: number }>,
    readonly options: ClusterOptions,
  ) {
    this.balancer = new WeightedRoundRobin(endpoints.map((e) => ({ item: e.endpoint, weight: e.weight })));
  }

  pick(): Endpoint {
    return this.balancer.pick();
  }
}
