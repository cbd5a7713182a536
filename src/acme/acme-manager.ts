/**
 * Keeps every ACME domain's certificate obtained and fresh, certmagic-style:
 *
 * - A certificate is due when none exists, when the domain's hosts changed, or once a third of its
 *   lifetime remains (plus a little jitter, so nodes and certificates do not renew in lockstep).
 * - One node works on a certificate at a time: it takes a lease in the shared database, then reads
 *   storage again (another node may have just renewed it) before ordering.
 * - A failure is recorded in the shared store with the CA's problem document and retried after an
 *   exponential backoff with jitter; alerts go out on every failure; the gateway keeps serving the
 *   old certificate.
 * - A new certificate is a config write: every node reloads and swaps it in, no restart.
 *
 * Time comes from an injectable clock, so renewal can be tested without waiting.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import acme from 'acme-client';
import type { Logger } from 'pino';
import { openSecrets, type SecretSealer } from '../config/secret-sealing.js';
import type { DomainSpec } from '../model/domain.js';
import type { AcmeDomain } from '../model/acme.js';
import type { SnapshotPlan } from '../snapshot/plan.js';
import type { AcmeCertificateRecord, AcmeStore } from '../storage/acme-records.js';
import { AcmeChallenges } from './acme-challenges.js';
import { obtainCertificate, type ObtainedCertificate } from './acme-issuer.js';
import { acmeKeyAad } from './acme-keys.js';
import { TlsAlpnResponder } from './tls-alpn-responder.js';

export interface AcmeManagerOptions {
  readonly store: AcmeStore;
  readonly secrets: SecretSealer;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often due certificates are looked for, ms (default 60 s). */
  readonly checkInterval?: number;
  /** First retry delay after a failure, ms (default 5 min); doubles per failure. */
  readonly retryBase?: number;
  /** Longest retry delay, ms (default 6 h). */
  readonly retryMax?: number;
  /** How long a node may work on one certificate before others may take over, ms (default 10 min). */
  readonly leaseTtl?: number;
  /** A certificate was stored (reload the snapshot). */
  readonly onIssued?: (tenant: string, domain: string, cert: ObtainedCertificate) => void;
  /** An attempt failed (alerts). */
  readonly onFailure?: (tenant: string, domain: string, hosts: readonly string[], problem: string, current: AcmeCertificateRecord | undefined) => void;
  /** Orders a certificate (default: acme-client against the domain's CA). Tests may replace it. */
  readonly obtain?: (tenant: string, hosts: readonly string[], cfg: AcmeDomain) => Promise<ObtainedCertificate>;
}

interface ManagedDomain {
  readonly tenant: string;
  readonly domain: string;
  readonly hosts: readonly string[];
  readonly cfg: AcmeDomain;
  readonly current: AcmeCertificateRecord | undefined;
}

/** When a certificate should be renewed: once a third of its lifetime remains. */
export function renewalTime(notBefore: number, notAfter: number): number {
  return notAfter - (notAfter - notBefore) / 3;
}

export class AcmeManager {
  readonly challenges: AcmeChallenges;
  /** Answers tls-alpn-01 validations; the gateway attaches it to its TLS listener. */
  readonly tlsAlpn: TlsAlpnResponder;
  private polling = false;
  private domains = new Map<string, ManagedDomain>();
  private readonly running = new Map<string, Promise<void>>();
  /** Per-domain jitter, fixed per process so a domain's due time does not move between checks. */
  private readonly jitter = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly holder = `node-${randomUUID()}`;
  private readonly now: () => number;
  /** HTTPS agents trusting a directory's own CA (`directoryCa`), by that PEM bundle. */
  private readonly agents = new Map<string, HttpsAgent>();
  /** The agent of the order running in the current async context, for acme-client's requests. */
  private readonly orderAgent = new AsyncLocalStorage<HttpsAgent | undefined>();
  private interceptor: number | undefined;
  private stopped = false;

  constructor(private readonly opts: AcmeManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.challenges = new AcmeChallenges(opts.store, opts.logger, this.now);
    this.tlsAlpn = new TlsAlpnResponder(this.challenges, opts.logger);
  }

  start(): void {
    const every = this.opts.checkInterval ?? 60_000;
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
    // acme-client talks through one process-wide axios instance. An order for a directory with its
    // own trusted CA (a private ACME server) runs with that CA's agent in its async context, so its
    // requests, and only its, trust that CA: one tenant's directoryCa never applies to another's order.
    this.interceptor = acme.axios.interceptors.request.use((config) => {
      const agent = this.orderAgent.getStore();
      if (agent) config.httpsAgent = agent;
      return config;
    });
  }

  /** Takes the ACME domains of a newly loaded configuration, and looks for due certificates. */
  update(plan: Pick<SnapshotPlan, 'domains'>): void {
    const next = new Map<string, ManagedDomain>();
    for (const d of plan.domains) {
      if (!d.spec.acme) continue;
      // The plan keeps secrets sealed: open the EAB MAC key for the order.
      const cfg = (openSecrets(this.opts.secrets, 'domain', d.tenant, d.spec as unknown as Record<string, unknown>) as unknown as DomainSpec).acme!;
      next.set(`${d.tenant}/${d.spec.name}`, { tenant: d.tenant, domain: d.spec.name, hosts: d.spec.hosts, cfg, current: d.acme });
    }
    this.domains = next;
    const inUse = new Set([...next.values()].map((d) => d.cfg.directoryCa));
    for (const [ca, agent] of this.agents) {
      if (inUse.has(ca)) continue;
      agent.destroy();
      this.agents.delete(ca);
    }
    this.check();
  }

  /** When a managed domain is next due (epoch ms), for tests and the inventory. */
  dueAt(d: ManagedDomain): number {
    const c = d.current;
    if (!c) return 0;
    const notBefore = Date.parse(c.notBefore);
    const notAfter = Date.parse(c.notAfter);
    const key = `${d.tenant}/${d.domain}`;
    let j = this.jitter.get(key);
    if (j === undefined) {
      j = Math.random();
      this.jitter.set(key, j);
    }
    // Up to 2% of the lifetime (at most an hour) earlier than the two-thirds mark.
    return renewalTime(notBefore, notAfter) - j * Math.min((notAfter - notBefore) * 0.02, 3_600_000);
  }

  /** Starts an attempt for every due domain that is not already being worked on. */
  check(): void {
    if (this.stopped) return;
    this.pollTlsAlpn();
    const now = this.now();
    for (const [key, d] of this.domains) {
      if (this.running.has(key) || now < this.dueAt(d)) continue;
      const run = this.attempt(d)
        .catch((err: unknown) => this.opts.logger.error({ err, tenant: d.tenant, domain: d.domain }, 'ACME attempt failed unexpectedly'))
        .finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
  }

  /**
   * While some domain validates by tls-alpn-01, asks the shared store whether a validation is
   * pending anywhere (any node may get the CA's connection); otherwise the listener never peeks.
   */
  private pollTlsAlpn(): void {
    const wanted = [...this.domains.values()].some((d) => d.cfg.challenge === 'tls-alpn-01');
    if (!wanted) {
      this.tlsAlpn.setActive(false);
      return;
    }
    if (this.polling) return;
    this.polling = true;
    this.challenges
      .tlsAlpnPending()
      .then(
        (pending) => this.tlsAlpn.setActive(pending || this.running.size > 0),
        (err: unknown) => this.opts.logger.warn({ err }, 'reading pending tls-alpn-01 challenges failed'),
      )
      .finally(() => {
        this.polling = false;
      });
  }

  /** Resolves when every attempt under way has ended (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private async attempt(d: ManagedDomain): Promise<void> {
    const { store, logger } = this.opts;
    const at = new Date(this.now());
    const renewal = await store.getRenewal(d.tenant, d.domain);
    if (renewal?.nextAttemptAt && Date.parse(renewal.nextAttemptAt) > at.getTime()) return;
    const lease = `acme:${d.tenant}/${d.domain}`;
    if (!(await store.acquireLease(lease, this.holder, this.opts.leaseTtl ?? 600_000, at))) return;
    try {
      // Another node may have renewed it while this one's configuration was older.
      const stored = await store.getCertificate(d.tenant, d.domain);
      if (stored && d.hosts.every((h) => stored.hosts.includes(h)) && at.getTime() < this.dueAt({ ...d, current: stored })) return;
      logger.info({ tenant: d.tenant, domain: d.domain, hosts: d.hosts, directory: d.cfg.directory, challenge: d.cfg.challenge, renewal: stored !== undefined }, 'ordering a certificate by ACME');
      const obtain =
        this.opts.obtain ??
        ((tenant, hosts, cfg) => obtainCertificate({ store, secrets: this.opts.secrets, challenges: this.challenges, logger, onTlsAlpnPublished: () => this.tlsAlpn.setActive(true) }, tenant, hosts, cfg));
      let cert: ObtainedCertificate;
      try {
        cert = await this.orderAgent.run(this.agentFor(d.cfg.directoryCa), () => obtain(d.tenant, d.hosts, d.cfg));
      } catch (err) {
        const failures = (renewal?.failures ?? 0) + 1;
        const base = this.opts.retryBase ?? 300_000;
        const delay = Math.min(this.opts.retryMax ?? 21_600_000, base * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
        const problem = (err as Error).message;
        await store.recordFailure(d.tenant, d.domain, problem, at, new Date(at.getTime() + delay));
        logger.error({ tenant: d.tenant, domain: d.domain, problem, failures, retryInMs: Math.round(delay) }, 'ACME order failed; the current certificate stays in use and the order is retried later');
        this.opts.onFailure?.(d.tenant, d.domain, d.hosts, problem, stored);
        return;
      }
      await store.putCertificate(
        {
          tenant: d.tenant,
          domain: d.domain,
          hosts: [...d.hosts],
          certPem: cert.certPem,
          keySealed: this.opts.secrets.seal(cert.keyPem, acmeKeyAad(d.tenant, d.domain)),
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
        },
        at,
      );
      logger.info({ tenant: d.tenant, domain: d.domain, serial: cert.serial, notAfter: cert.notAfter.toISOString() }, 'ACME certificate stored');
      this.opts.onIssued?.(d.tenant, d.domain, cert);
    } finally {
      await store.releaseLease(lease, this.holder).catch(() => undefined);
    }
  }

  private agentFor(directoryCa: string | undefined): HttpsAgent | undefined {
    if (directoryCa === undefined) return undefined;
    let agent = this.agents.get(directoryCa);
    if (!agent) this.agents.set(directoryCa, (agent = new HttpsAgent({ ca: directoryCa, keepAlive: true })));
    return agent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.settle();
    if (this.interceptor !== undefined) acme.axios.interceptors.request.eject(this.interceptor);
    this.tlsAlpn.close();
    for (const a of this.agents.values()) a.destroy();
  }
}
