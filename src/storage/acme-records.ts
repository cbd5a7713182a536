/**
 * ACME state (RFC 8555): per-tenant accounts (keys sealed), the certificates obtained for domains
 * with an `acme` block (keys sealed) with their renewal state, pending challenge answers that any
 * node may be asked for, and leases that let one node at a time work on a certificate.
 */

export interface AcmeAccountRecord {
  tenant: string;
  /** Directory URL of the CA. */
  directory: string;
  email: string | null;
  /** The account's private key (PEM), sealed with the master key. */
  keySealed: string;
  /** The account URL the CA assigned (kid), once registered. */
  url: string | null;
  createdAt: string;
}

/** A certificate obtained by ACME for a domain; replaced on renewal. */
export interface AcmeCertificateRecord {
  tenant: string;
  /** The domain (config object) it serves. */
  domain: string;
  /** Names it covers (the domain's hosts when it was ordered). */
  hosts: string[];
  /** PEM chain, leaf first. */
  certPem: string;
  keySealed: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

/** Renewal bookkeeping of a domain, shared by all nodes. */
export interface AcmeRenewalState {
  tenant: string;
  domain: string;
  /** Consecutive failed attempts since the last success. */
  failures: number;
  /** The CA's problem document (or the failure), from the last failed attempt. */
  lastError: string | null;
  lastAttemptAt: string | null;
  /** Earliest time of the next attempt after a failure (backoff). */
  nextAttemptAt: string | null;
}

export interface AcmeStore {
  getAccount(tenant: string, directory: string): Promise<AcmeAccountRecord | undefined>;
  /** Stores an account unless one exists for the tenant and directory; returns the stored one (first writer wins). */
  putAccount(record: Omit<AcmeAccountRecord, 'createdAt'>): Promise<AcmeAccountRecord>;
  /** Sets the account URL once the CA registered it. */
  setAccountUrl(tenant: string, directory: string, url: string): Promise<void>;

  getCertificate(tenant: string, domain: string): Promise<AcmeCertificateRecord | undefined>;
  /**
   * Stores (or replaces) a domain's certificate and clears its failures. Counts as a config write:
   * the revision moves, so every node loads it.
   */
  putCertificate(record: Omit<AcmeCertificateRecord, 'issuedAt'>, now: Date): Promise<void>;
  /** Every stored ACME certificate (keys sealed), for snapshots. */
  listCertificates(): Promise<AcmeCertificateRecord[]>;

  getRenewal(tenant: string, domain: string): Promise<AcmeRenewalState | undefined>;
  /** Records a failed attempt. Not a config write. */
  recordFailure(tenant: string, domain: string, error: string, at: Date, nextAttemptAt: Date): Promise<AcmeRenewalState>;

  /** Publishes a challenge answer until `expiresAt` (key: an http-01 token, or `tls-alpn-01:<host>`). */
  putChallenge(key: string, value: string, expiresAt: Date): Promise<void>;
  /** The answer, unless absent or expired at `now`. */
  getChallenge(key: string, now: Date): Promise<string | undefined>;
  deleteChallenge(key: string): Promise<void>;
  /** How many unexpired challenge answers have keys starting with `prefix`. */
  countChallenges(prefix: string, now: Date): Promise<number>;

  /**
   * Takes the lease `name` for `holder` until `now + ttlMs`, when it is free or expired (or already
   * this holder's). True when taken. Atomic across nodes sharing the database.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Gives the lease back, when `holder` still has it. */
  releaseLease(name: string, holder: string): Promise<void>;
}
