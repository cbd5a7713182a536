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
  /** Seconds to expiry of every certificate of the inventory (negative once expired); cheap (cached). */
  readonly certificates?: (() => Promise<ReadonlyArray<{ tenant: string | null; kind: string; name: string; seconds: number }>>) | undefined;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Client-certificate handshakes refused before HTTP, by listener and reason. */
  readonly tlsRejections: Counter<'listener' | 'reason'>;
  /** Refused authentications on the data plane, by method tried and internal reason. */
  readonly authFailures: Counter<'method' | 'reason'>;
  /** ACME orders this node placed, by result. */
  readonly acmeOrders: Counter<'result'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.tlsRejections = new Counter({
      name: 'portcullis_tls_client_rejections_total',
      help: 'TLS connections refused by the client-certificate policy (or an unknown server name), by reason',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.acmeOrders = new Counter({
      name: 'portcullis_acme_orders_total',
      help: 'ACME certificate orders placed by this node, by result (issued, failed)',
      labelNames: ['result'],
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
    const certificates = sources.certificates;
    if (certificates) {
      new Gauge({
        name: 'portcullis_certificate_expiry_seconds',
        help: 'Seconds until a certificate expires (negative once expired), for every certificate served, trusted or issued; tenant is empty for the gateway\'s own',
        labelNames: ['tenant', 'kind', 'name'],
        registers,
        async collect() {
          const rows = await certificates();
          this.reset();
          for (const r of rows) this.set({ tenant: r.tenant ?? '', kind: r.kind, name: r.name }, r.seconds);
        },
      });
    }
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
