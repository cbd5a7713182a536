import type { ProviderAdapter } from './provider.js';

/**
 * The provider adapters a gateway knows, by type. One per gateway (adapters may hold caches, such as
 * Vertex's access tokens); never a module-level singleton.
 */
export class ProviderRegistry {
  private readonly adapters = new Map<string, ProviderAdapter>();

  constructor(adapters: Iterable<ProviderAdapter> = []) {
    for (const a of adapters) this.register(a);
  }

  /** Throws when the type is taken: adapters are checked at start-up, not per request. */
  register(adapter: ProviderAdapter): void {
    if (!/^[a-z][a-z0-9-]*$/.test(adapter.type)) throw new Error(`invalid provider type "${adapter.type}"`);
    if (this.adapters.has(adapter.type)) throw new Error(`provider type "${adapter.type}" is registered twice`);
    this.adapters.set(adapter.type, adapter);
  }

  get(type: string): ProviderAdapter | undefined {
    return this.adapters.get(type);
  }

  names(): string[] {
    return [...this.adapters.keys()].sort();
  }
}
