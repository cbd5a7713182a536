import { Pool } from 'undici';
import { tlsSettingsKey, upstreamTlsConnector, type UpstreamTlsSettings } from './upstream-tls.js';

/** Connection settings that identify a pool: equal settings share one pool across snapshots. */
export interface PoolSettings {
  origin: string;
  connections: number;
  connectTimeout: number;
  idleTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** TLS settings of an https origin (secrets in clear: never log them); undefined for http. */
  tls?: UpstreamTlsSettings | undefined;
}

interface Entry {
  pool: Pool;
  refs: number;
}

/**
 * Keep-alive pools shared across config snapshots, reference counted. A snapshot acquires the pools
 * it needs when built and releases them when retired; a pool nobody holds is closed gracefully
 * (in-flight requests finish first). One registry per gateway.
 */
export class PoolRegistry {
  private readonly pools = new Map<string, Entry>();

  static key(s: PoolSettings): string {
    const tls = s.tls ? `tls:${tlsSettingsKey(s.tls)}` : 'plain';
    return `${s.origin}|${s.connections}|${s.connectTimeout}|${s.idleTimeout}|${s.headersTimeout}|${s.bodyTimeout}|${tls}`;
  }

  acquire(settings: PoolSettings): Pool {
    const key = PoolRegistry.key(settings);
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = new Pool(settings.origin, {
        connections: settings.connections,
        pipelining: 1,
        keepAliveTimeout: settings.idleTimeout,
        keepAliveMaxTimeout: Math.max(settings.idleTimeout, 1000),
        headersTimeout: settings.headersTimeout,
        bodyTimeout: settings.bodyTimeout,
        connect: settings.tls ? upstreamTlsConnector(settings.tls, settings.connectTimeout) : { timeout: settings.connectTimeout },
      });
      entry = { pool, refs: 0 };
      this.pools.set(key, entry);
    }
    entry.refs++;
    return entry.pool;
  }

  /** Releases one reference; closes the pool gracefully when it was the last. */
  release(settings: PoolSettings): void {
    const key = PoolRegistry.key(settings);
    const entry = this.pools.get(key);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.pools.delete(key);
    entry.pool.close().catch(() => entry.pool.destroy().catch(() => undefined));
  }

  get size(): number {
    return this.pools.size;
  }

  /** Closes every pool: gracefully within `graceMs`, then by force. */
  async closeAll(graceMs: number): Promise<void> {
    const pools = [...this.pools.values()].map((e) => e.pool);
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const force = new Promise<void>((resolve) => {
          timer = setTimeout(() => void pool.destroy().catch(() => undefined).then(resolve), graceMs);
          timer.unref();
        });
        await Promise.race([pool.close().catch(() => undefined), force]);
        clearTimeout(timer);
      }),
    );
  }
}
