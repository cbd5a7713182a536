/**
 * Certificate expiry monitoring for the lifetime of one gateway: checks the inventory once at start
 * and then every `checkIntervalMs`, and alerts when a certificate crosses a threshold (days before
 * its notAfter). An alert is a warn log line, a `security.certificate_expiring` audit entry and,
 * when a webhook is set, a signed JSON POST (core/signed-webhook.ts):
 *
 *   {"event":"certificate.expiring","certificate":{…inventory entry},"threshold":14}
 *
 * One alert per (certificate fingerprint, threshold), cluster-wide and across restarts: before
 * alerting, a node claims `expiry-alert:<fingerprint>:<days>` in the shared store's settings (first
 * writer wins), and only the winner alerts. Only the most urgent threshold crossed alerts: a
 * certificate first seen 5 days before expiry alerts for 7, not also for 30 and 14. When every webhook
 * attempt fails, the claim is marked failed and the next check (on any node) alerts again; two nodes
 * may then both alert, which is preferred to losing the alert.
 *
 * The monitor also caches the inventory for the metrics gauge: a scrape reuses it until a check
 * refreshes it, `invalidate()` is called (config changed), or it is older than the check interval.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditTrail } from '../../audit/audit-trail.js';
import type { WebhookSender, WebhookTarget } from '../../core/signed-webhook.js';
import type { Store } from '../../storage/store.js';
import { buildInventory, type InventoryEntry, type InventoryInput } from './certificate-inventory.js';

const DAY = 86_400_000;
const FAILED = 'failed ';

export interface ExpiryAlert {
  readonly event: 'certificate.expiring';
  readonly certificate: InventoryEntry;
  /** The threshold crossed, in days. */
  readonly threshold: number;
}

export interface RenewalFailureAlert {
  readonly event: 'certificate.renewal_failed';
  readonly certificate: InventoryEntry;
  readonly problem: string;
}

/** Seconds until notAfter of one certificate (negative once expired), for the metrics gauge. */
export interface CertificateExpiry {
  readonly tenant: string | null;
  readonly kind: InventoryEntry['kind'];
  readonly name: string;
  readonly seconds: number;
}

export interface ExpiryMonitorOptions {
  /** Reads what the whole inventory is built from (store and listener certificates). */
  readonly load: () => Promise<InventoryInput>;
  /** Where sent alerts are remembered; shared by every node of a cluster. */
  readonly claims: Pick<Store, 'putSettingIfAbsent' | 'putSetting'>;
  /** Days before expiry; any order. */
  readonly thresholdsDays: readonly number[];
  readonly checkIntervalMs: number;
  readonly webhook?: WebhookTarget | undefined;
  /** Delivers webhooks; required when `webhook` is set. */
  readonly send?: WebhookSender | undefined;
  readonly logger: Logger;
  readonly audit?: Pick<AuditTrail, 'security'> | undefined;
  readonly now?: () => number;
}

/**
 * The most urgent threshold (fewest days) crossed by a certificate expiring at `notAfter` (ms) at
 * `now` (ms): the smallest `d` with `notAfter - now <= d` days. Undefined when none is crossed.
 */
export function crossedThreshold(notAfter: number, thresholdsDays: readonly number[], now: number): number | undefined {
  let crossed: number | undefined;
  for (const d of thresholdsDays) if (notAfter - now <= d * DAY && (crossed === undefined || d < crossed)) crossed = d;
  return crossed;
}

/** The settings key remembering that the alert for `fingerprint` at `days` was sent. */
export function alertKey(fingerprint: string, days: number): string {
  return `expiry-alert:${fingerprint}:${days}`;
}

export class ExpiryMonitor {
  readonly #opts: ExpiryMonitorOptions;
  /** Distinguishes this node's claims from other nodes'. */
  readonly #node = randomUUID();
  /** Alert keys known to be claimed (by any node), so later checks skip the store. */
  readonly #claimed = new Set<string>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ExpiryAlert[]> | undefined;
  #queued: Promise<ExpiryAlert[]> | undefined;
  #cache: { entries: readonly InventoryEntry[]; at: number } | undefined;
  #dirty = true;
  #refreshing: Promise<readonly InventoryEntry[]> | undefined;

  constructor(opts: ExpiryMonitorOptions) {
    if (opts.webhook && !opts.send) throw new Error('ExpiryMonitor: a webhook needs a sender');
    this.#opts = opts;
  }

  /** Checks now (in the background) and then every interval. The timer does not keep the process alive. */
  start(): void {
    if (this.#timer || this.#abort.signal.aborted) return;
    this.#timer = setInterval(() => void this.check(), this.#opts.checkIntervalMs);
    this.#timer.unref();
    void this.check();
  }

  /** Stops the timer, abandons webhook deliveries in flight and waits for a running check. Idempotent. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    await this.#queued;
    await this.#running;
  }

  /** Marks the cached inventory stale (the configuration changed). */
  invalidate(): void {
    this.#dirty = true;
  }

  /**
   * Checks every certificate and sends the alerts due. Resolves with the alerts this node sent, once
   * a check that started after the call is done (so it sees every change committed before). Never
   * rejects: a failed check is logged and retried at the next interval.
   */
  check(): Promise<ExpiryAlert[]> {
    if (this.#abort.signal.aborted) return Promise.resolve([]);
    if (!this.#running) return this.#startCheck();
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      if (this.#abort.signal.aborted) return [];
      return this.#running ?? this.#startCheck();
    });
    return this.#queued;
  }

  /** The inventory: cached, refreshed when stale. On a failed refresh, the last one (or none). */
  async entries(): Promise<readonly InventoryEntry[]> {
    const cache = this.#cache;
    if (cache && !this.#dirty && this.#now() - cache.at < this.#opts.checkIntervalMs) return cache.entries;
    try {
      return await this.#refresh();
    } catch (err) {
      this.#opts.logger.warn({ err }, 'reading the certificate inventory failed; using the previous one');
      return this.#cache?.entries ?? [];
    }
  }

  /** Seconds to expiry of every certificate of the (cached) inventory, now. */
  async expirySeconds(): Promise<CertificateExpiry[]> {
    const entries = await this.entries();
    const now = this.#now();
    return entries.map((e) => ({ tenant: e.tenant, kind: e.kind, name: e.name, seconds: Math.round((Date.parse(e.notAfter) - now) / 1000) }));
  }

  /**
   * Alerts that renewing `certificate` failed (error log, audit entry, webhook), every time it is
   * called. Resolves `true` when the webhook took it (or there is none); never rejects.
   */
  async notifyRenewalFailure(certificate: InventoryEntry, problem: string): Promise<boolean> {
    const alert: RenewalFailureAlert = { event: 'certificate.renewal_failed', certificate, problem };
    this.#opts.logger.error({ ...this.#facts(certificate), problem }, 'certificate renewal failed');
    this.#opts.audit?.security(`certificate-renewal:${certificate.fingerprint}:${problem}`, {
      action: 'security.certificate_renewal_failed',
      tenant: certificate.tenant,
      sourceIp: null,
      object: { kind: 'certificate', name: certificate.name },
      details: { ...this.#facts(certificate), problem },
    });
    return this.#deliver(alert);
  }

  #startCheck(): Promise<ExpiryAlert[]> {
    const run = this.#checkOnce()
      .catch((err: unknown) => {
        this.#opts.logger.warn({ err }, 'certificate expiry check failed; retrying at the next interval');
        return [];
      })
      .finally(() => {
        if (this.#running === run) this.#running = undefined;
      });
    this.#running = run;
    return run;
  }

  async #checkOnce(): Promise<ExpiryAlert[]> {
    // Its own read, never a scrape's refresh already in flight: the check must see every earlier change.
    const entries = await this.#build();
    const now = this.#now();
    const sent: ExpiryAlert[] = [];
    const seen = new Set<string>();
    for (const certificate of entries) {
      if (this.#abort.signal.aborted) break;
      const threshold = crossedThreshold(Date.parse(certificate.notAfter), this.#opts.thresholdsDays, now);
      if (threshold === undefined) continue;
      const key = alertKey(certificate.fingerprint, threshold);
      // The same certificate listed twice (two tenants trusting one CA) alerts once.
      if (seen.has(key) || this.#claimed.has(key)) continue;
      seen.add(key);
      if (!(await this.#claim(key, now))) continue;
      const alert: ExpiryAlert = { event: 'certificate.expiring', certificate, threshold };
      this.#log(alert);
      if (await this.#deliver(alert)) sent.push(alert);
      else {
        this.#claimed.delete(key);
        await this.#opts.claims.putSetting(key, `${FAILED}${new Date(now).toISOString()}`);
      }
    }
    return sent;
  }

  /** True when this node now holds the alert `key` (claimed first, or retaking a failed delivery). */
  async #claim(key: string, now: number): Promise<boolean> {
    const mine = `${new Date(now).toISOString()} ${this.#node}`;
    const stored = await this.#opts.claims.putSettingIfAbsent(key, mine);
    this.#claimed.add(key);
    if (stored === mine) return true;
    if (!stored.startsWith(FAILED)) return false;
    await this.#opts.claims.putSetting(key, mine);
    return true;
  }

  /** Reads and builds the inventory, and caches it. */
  async #build(): Promise<readonly InventoryEntry[]> {
    this.#dirty = false;
    try {
      const input = await this.#opts.load();
      const at = this.#now();
      const entries = buildInventory(input, new Date(at));
      this.#cache = { entries, at };
      return entries;
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
  }

  /** {@link #build}, one at a time for concurrent scrapes. */
  #refresh(): Promise<readonly InventoryEntry[]> {
    this.#refreshing ??= this.#build().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  #log(alert: ExpiryAlert): void {
    const c = alert.certificate;
    const expired = Date.parse(c.notAfter) <= this.#now();
    this.#opts.logger.warn({ ...this.#facts(c), threshold: alert.threshold }, expired ? 'certificate has expired' : `certificate expires within ${alert.threshold} day${alert.threshold === 1 ? '' : 's'}`);
    this.#opts.audit?.security(alertKey(c.fingerprint, alert.threshold), {
      action: 'security.certificate_expiring',
      tenant: c.tenant,
      sourceIp: null,
      object: { kind: 'certificate', name: c.name },
      details: { ...this.#facts(c), threshold: alert.threshold },
    });
  }

  #facts(c: InventoryEntry): Record<string, unknown> {
    return { tenant: c.tenant, kind: c.kind, source: c.source, name: c.name, subject: c.subject, fingerprint: c.fingerprint, notAfter: c.notAfter, daysLeft: c.daysLeft };
  }

  /** POSTs the alert when a webhook is set; true when delivered or there is no webhook. */
  async #deliver(alert: ExpiryAlert | RenewalFailureAlert): Promise<boolean> {
    const { webhook, send } = this.#opts;
    if (!webhook || !send) return true;
    const delivered = await send(webhook, JSON.stringify(alert), {
      signal: this.#abort.signal,
      logContext: { webhook: 'certificate-expiry', event: alert.event, fingerprint: alert.certificate.fingerprint },
    });
    if (!delivered && !this.#abort.signal.aborted) this.#opts.logger.error({ event: alert.event, fingerprint: alert.certificate.fingerprint }, 'certificate alert webhook could not be delivered');
    return delivered;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }
}
