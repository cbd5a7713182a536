/**
 * One ACME order with acme-client: the tenant's account (created on first use, its key sealed in the
 * store; external account binding when configured), a fresh certificate key, the challenge answers
 * published for every node, and the chain the CA returns. A CA refusal surfaces as an
 * {@link AcmeOrderError} carrying the CA's problem document.
 */

import { X509Certificate } from 'node:crypto';
import acme from 'acme-client';
import type { Logger } from 'pino';
import type { AcmeDomain } from '../model/acme.js';
import type { SecretSealer } from '../config/secret-sealing.js';
import type { AcmeStore } from '../storage/acme-records.js';
import { acmeAccountAad } from './acme-keys.js';
import { tlsAlpnKey, type AcmeChallenges } from './acme-challenges.js';

export interface ObtainedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: string;
}

/** A failed order, with the CA's problem document (RFC 7807) when it sent one. */
export class AcmeOrderError extends Error {
  constructor(
    message: string,
    readonly problem: { type?: string; detail?: string; status?: number } | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AcmeOrderError';
  }
}

export interface IssuerDeps {
  readonly store: AcmeStore;
  readonly secrets: SecretSealer;
  readonly challenges: AcmeChallenges;
  readonly logger: Logger;
  /** A tls-alpn-01 answer was published (the TLS listener starts looking for validations). */
  readonly onTlsAlpnPublished?: (() => void) | undefined;
}

function problemOf(err: unknown): { type?: string; detail?: string; status?: number } | undefined {
  const e = err as { response?: { data?: unknown; status?: number }; type?: string; detail?: string };
  const data = e.response?.data as { type?: string; detail?: string; status?: number } | undefined;
  if (data && typeof data === 'object' && (data.type || data.detail)) return { type: data.type, detail: data.detail, status: data.status ?? e.response?.status };
  return undefined;
}

async function accountKey(deps: IssuerDeps, tenant: string, cfg: AcmeDomain): Promise<{ key: string; url: string | null }> {
  const existing = await deps.store.getAccount(tenant, cfg.directory);
  if (existing) return { key: deps.secrets.open(existing.keySealed, acmeAccountAad(tenant, cfg.directory)), url: existing.url };
  const pem = (await acme.crypto.createPrivateEcdsaKey()).toString();
  const stored = await deps.store.putAccount({ tenant, directory: cfg.directory, email: cfg.email ?? null, keySealed: deps.secrets.seal(pem, acmeAccountAad(tenant, cfg.directory)), url: null });
  // Another node may have registered first: use the stored key either way.
  return { key: deps.secrets.open(stored.keySealed, acmeAccountAad(tenant, cfg.directory)), url: stored.url };
}

/** Obtains a certificate for `hosts`. Throws AcmeOrderError. */
export async function obtainCertificate(deps: IssuerDeps, tenant: string, hosts: readonly string[], cfg: AcmeDomain): Promise<ObtainedCertificate> {
  const account = await accountKey(deps, tenant, cfg);
  const client = new acme.Client({
    directoryUrl: cfg.directory,
    accountKey: account.key,
    ...(account.url ? { accountUrl: account.url } : {}),
    ...(cfg.eab ? { externalAccountBinding: { kid: cfg.eab.kid, hmacKey: cfg.eab.hmacKey } } : {}),
    // Poll pending challenges and orders from 1 s, backing off to 10 s (acme-client's default starts at 5 s).
    backoffMin: 1000,
    backoffMax: 10_000,
  });
  const certKey = cfg.keyType === 'rsa-2048' ? await acme.crypto.createPrivateRsaKey(2048) : await acme.crypto.createPrivateEcdsaKey('P-256');
  const [, csr] = await acme.crypto.createCsr({ commonName: hosts[0], altNames: [...hosts] }, certKey);
  const published: string[] = [];
  let chain: string;
  try {
    // A known account is used as is (an empty account update is refused by RFC 8555 servers).
    if (!account.url) await client.createAccount({ termsOfServiceAgreed: true, ...(cfg.email ? { contact: [`mailto:${cfg.email}`] } : {}) });
    const order = await client.createOrder({ identifiers: hosts.map((value) => ({ type: 'dns', value })) });
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => (c.type as string) === cfg.challenge);
      if (!challenge) throw new AcmeOrderError(`The CA offers no ${cfg.challenge} challenge for ${authz.identifier.value}`, undefined);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      if (cfg.challenge === 'http-01') {
        const token = (challenge as { token: string }).token;
        await deps.challenges.publishHttp01(token, keyAuthorization);
        published.push(token);
      } else {
        const [key, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
        await deps.challenges.publishTlsAlpn01(authz.identifier.value, { certPem: cert.toString(), keyPem: key.toString() });
        deps.onTlsAlpnPublished?.();
        published.push(tlsAlpnKey(authz.identifier.value));
      }
      await client.completeChallenge(challenge);
      try {
        await client.waitForValidStatus(challenge);
      } catch (err) {
        // acme-client keeps only the detail: read the challenge again for the CA's whole problem document.
        const failed = (await client.getAuthorizations(order).catch(() => [])).find((a) => a.identifier.value === authz.identifier.value);
        const problem = (failed?.challenges.find((c) => c.url === challenge.url) as { error?: { type?: string; detail?: string; status?: number } } | undefined)?.error;
        throw new AcmeOrderError(problem ? `${problem.type ?? 'ACME error'}: ${problem.detail ?? ''}`.trim() : (err as Error).message, problem, { cause: err });
      }
    }
    const finalized = await client.finalizeOrder(order, csr);
    chain = await client.getCertificate(finalized);
  } catch (err) {
    if (err instanceof AcmeOrderError) throw err;
    const problem = problemOf(err);
    const message = problem ? `${problem.type ?? 'ACME error'}: ${problem.detail ?? ''}`.trim() : (err as Error).message;
    throw new AcmeOrderError(message, problem, { cause: err });
  } finally {
    for (const key of published) await deps.challenges.withdraw(key).catch(() => undefined);
  }
  try {
    const url = client.getAccountUrl();
    if (url && url !== account.url) await deps.store.setAccountUrl(tenant, cfg.directory, url);
  } catch {
    // No account URL yet: nothing to remember.
  }
  const leaf = new X509Certificate(chain);
  return { certPem: chain, keyPem: certKey.toString(), notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo), serial: leaf.serialNumber };
}
