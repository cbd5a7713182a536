import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { PluginRegistry } from '../pipeline/plugin.js';
import { PoolRegistry } from '../upstreams/pool-registry.js';
import type { ConfigDump, Store } from '../storage/store.js';
import { SnapshotManager } from './snapshot-manager.js';

/** A store whose loadAll takes `delayMs` and reports the revision current when it started. */
function slowStore(delayMs: number) {
  const state = { revision: 1, loads: 0 };
  const store = {
    revision: async () => state.revision,
    loadAll: async (): Promise<ConfigDump> => {
      state.loads += 1;
      const revision = state.revision;
      await new Promise((r) => setTimeout(r, delayMs));
      return { revision, tenants: [], objects: [], credentials: [], subscriptions: [], pki: { cas: [], revoked: [] } };
    },
  } as unknown as Store;
  return { store, state };
}

function manager(store: Store) {
  const opts = {
    store,
    plugins: new PluginRegistry([]),
    logger: pino({ level: 'silent' }),
    pollIntervalMs: 60_000,
    deps: { pools: new PoolRegistry(), secrets: { open: (s: string) => s }, globalInstances: [], proxy: { maxBodyBytes: 1024, isTrustedPeer: () => false } },
  };
  return new SnapshotManager(opts);
}

describe('SnapshotManager', () => {
  it('resolves reload() only after a load that started after the call (a write during a reload is never missed)', async () => {
    const { store, state } = slowStore(50);
    const m = manager(store);
    await m.start();
    state.revision = 2;
    const first = m.reload(); // reads revision 2
    await new Promise((r) => setTimeout(r, 10));
    state.revision = 3; // a write committed while that load runs
    const second = m.reload();
    const third = m.reload();
    assert.equal(second, third, 'requests during a reload share the one queued after it');
    await second;
    assert.equal(m.revision, 3);
    await first;
    assert.equal(state.loads, 3, 'start, the running reload, one queued reload');
    await m.stop();
  });

  it('calls onSwap with each new snapshot', async () => {
    const { store, state } = slowStore(1);
    const seen: number[] = [];
    const m = new SnapshotManager({
      store,
      plugins: new PluginRegistry([]),
      logger: pino({ level: 'silent' }),
      pollIntervalMs: 60_000,
      deps: { pools: new PoolRegistry(), secrets: { open: (s: string) => s }, globalInstances: [], proxy: { maxBodyBytes: 1024, isTrustedPeer: () => false } },
      onSwap: (s) => seen.push(s.revision),
    });
    await m.start();
    state.revision = 5;
    await m.reload();
    assert.deepEqual(seen, [1, 5]);
    await m.stop();
  });
});
