import type { Logger } from 'pino';
import type { Store } from '../storage/store.js';
import type { PluginRegistry } from '../pipeline/plugin.js';
import { planSnapshot } from './plan.js';
import { materializeSnapshot, type MaterializeDeps, type Snapshot } from './snapshot.js';
import { buildPkiState, CrlCache } from '../pki/pki-state.js';
import type { CrlSources, DomainCrls } from '../tls/crl-sources.js';
import { objectKey, type SnapshotPlan } from './plan.js';

export interface SnapshotManagerOptions {
  readonly store: Store;
  readonly plugins: PluginRegistry;
  readonly logger: Logger;
  /** How often to check the shared revision for changes made by other nodes, ms. */
  readonly pollIntervalMs: number;
  readonly deps: Omit<MaterializeDeps, 'plugins' | 'logger'>;
  /** Told of every new snapshot after it is in force (to release caches the old one alone used). */
  readonly onSwap?: ((next: Snapshot) => void) | undefined;
  /** Rebuilds the snapshot once it is this old even without a change (CRLs are re-signed before they go stale). */
  readonly maxAgeMs?: number | undefined;
  /** CRLs of other issuers, for domains with `clientAuth.revocation`. */
  readonly crls?: CrlSources | undefined;
}

/**
 * Owns the current snapshot. It rebuilds when the store's revision moves (polled, so changes made on
 * any node arrive within one interval) or when told a local write happened, and swaps atomically: a
 * failed build keeps the previous snapshot serving. Reloads never overlap; requests for a reload
 * while one runs are coalesced into one more, which starts after it (the running one may have read
 * the store before the caller's write), and resolve when that one is done.
 */
export class SnapshotManager {
  private snapshot: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private lastError: Error | undefined;
  private builtAt = 0;
  /** CRLs of built-in CAs signed by earlier builds (re-signed only when revocations change, or daily). */
  private readonly crlCache = new CrlCache();
  /** The next reload rebuilds even when the revision did not move. */
  private forceNext = false;
  private stopped = false;

  constructor(private readonly opts: SnapshotManagerOptions) {}

  /** The snapshot requests should use. Undefined only before the first successful load. */
  get current(): Snapshot | undefined {
    return this.snapshot;
  }

  /** The revision being served, or -1 before the first load. */
  get revision(): number {
    return this.snapshot?.revision ?? -1;
  }

  /** Error of the last failed reload, cleared by the next success. */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** Loads the first snapshot (throws when it cannot be built) and starts polling. */
  async start(): Promise<void> {
    await this.reloadNow(true);
    this.timer = setInterval(() => void this.checkRevision(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  /**
   * Rebuilds (after a local write). Resolves once a reload that started after this call is done, so
   * the snapshot in force then reflects every write committed before the call.
   */
  reload(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) return this.startReload();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.stopped ? undefined : (this.running ?? this.startReload());
    });
    return this.queued;
  }

  private startReload(): Promise<void> {
    const run: Promise<void> = this.reloadNow(false).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async checkRevision(): Promise<void> {
    if (this.running || this.stopped) return;
    try {
      const rev = await this.opts.store.revision();
      const stale = this.opts.maxAgeMs !== undefined && Date.now() - this.builtAt >= this.opts.maxAgeMs;
      if (stale) this.forceNext = true;
      if (rev !== this.revision || stale) await this.reload();
    } catch (err) {
      this.opts.logger.warn({ err }, 'config revision check failed; serving the current snapshot');
    }
  }

  /** `first`: the initial load (always builds; a failure is rethrown). */
  private async reloadNow(first: boolean): Promise<void> {
    const force = first || this.forceNext;
    this.forceNext = false;
    try {
      const dump = await this.opts.store.loadAll();
      if (!force && dump.revision === this.revision) return;
      const plan = planSnapshot(dump, this.opts.plugins, this.opts.deps.llm?.adapters);
      for (const u of plan.unresolvedAuthorities) {
        this.opts.logger.warn({ tenant: u.tenant, path: u.detail.path }, `${u.detail.message}: the domain refuses certificates of that CA`);
      }
      const pki = dump.pki.cas.length > 0 ? await buildPkiState(dump.pki, this.opts.deps.secrets, new Date(), this.crlCache) : undefined;
      const domainCrls = await this.domainCrls(plan);
      const next = materializeSnapshot(plan, { ...this.opts.deps, plugins: this.opts.plugins, logger: this.opts.logger }, { pki, domainCrls });
      this.builtAt = Date.now();
      const previous = this.snapshot;
      this.snapshot = next;
      this.lastError = undefined;
      previous?.retire();
      try {
        this.opts.onSwap?.(next);
      } catch (err) {
        this.opts.logger.warn({ err }, 'snapshot swap hook failed');
      }
      this.opts.logger.info({ revision: next.revision, routes: next.router.size }, 'config snapshot loaded');
    } catch (err) {
      this.lastError = err as Error;
      if (first) throw err;
      this.opts.logger.error({ err }, 'config reload failed; serving the previous snapshot');
    }
  }

  /** Rebuilds even though the revision did not move (outside inputs changed, such as a CRL). */
  rebuild(): Promise<void> {
    this.forceNext = true;
    return this.reload();
  }

  /** The CRLs of every domain with `clientAuth.revocation`, loading sources seen for the first time. */
  private async domainCrls(plan: SnapshotPlan): Promise<Map<string, DomainCrls> | undefined> {
    const crls = this.opts.crls;
    const domains = plan.domains.filter((d) => d.spec.clientAuth.revocation && d.spec.clientAuth.mode !== 'off');
    if (!crls || domains.length === 0) return undefined;
    await crls.ensure(domains.map((d) => d.spec.clientAuth.revocation!));
    const out = new Map<string, DomainCrls>();
    for (const d of domains) out.set(objectKey(d.tenant, d.spec.name), await crls.forDomain(d.spec.clientAuth.revocation!, d.spec.clientAuth.trustedCas ?? ''));
    return out;
  }

  /** Stops polling and retires the current snapshot. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.snapshot?.retire();
  }
}
