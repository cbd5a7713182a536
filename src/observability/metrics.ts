/**
 * The gateway's Prometheus metrics: one registry per gateway (never prom-client's global one), served
 * as text on the admin listener at `GET /metrics`. Counters are updated where events happen; gauges
 * read the current state when scraped.
 */

import { Counter, Gauge, Registry } from 'prom-client';

export interface MetricsSources {
  /** The config revision being served (-1 before the first load). */
  readonly revision: () => number;
  /** Routes in the current snapshot. */
  readonly routes: () => number;
  /** Server names (exact and wildcard) in the current TLS snapshot. */
  readonly tlsNames: () => number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Client-certificate handshakes refused before HTTP, by listener and reason. */
  readonly tlsRejections: Counter<'listener' | 'reason'>;
  /** Refused authentications on the data plane, by method tried and internal reason. */
  readonly authFailures: Counter<'method' | 'reason'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.tlsRejections = new Counter({
      name: 'portcullis_tls_client_rejections_total',
      help: 'TLS connections refused by the client-certificate policy (or an unknown server name), by reason',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'portcullis_auth_failures_total',
      help: 'Refused authentications (401/429) on the data plane, by method tried and reason',
      labelNames: ['method', 'reason'],
      registers,
    });
    new Gauge({ name: 'portcullis_config_revision', help: 'Config revision served by the data plane', registers, collect() { this.set(sources.revision()); } });
    new Gauge({ name: 'portcullis_routes', help: 'Routes in the current config snapshot', registers, collect() { this.set(sources.routes()); } });
    new Gauge({ name: 'portcullis_tls_server_names', help: 'Server names (exact and wildcard) with a tenant certificate', registers, collect() { this.set(sources.tlsNames()); } });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
