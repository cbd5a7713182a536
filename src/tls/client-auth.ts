/**
 * Client-certificate verification, run on every TLS connection right after the handshake and before
 * any HTTP byte is read. Node's `rejectUnauthorized` is off server-wide (mTLS is decided per domain),
 * so this is where a connection that fails its domain's policy is refused.
 *
 * Full handshakes rely on OpenSSL's chain verification against the domain's trusted CAs (the context
 * SNI picked); a chain through intermediates is walked here for the depth limit. Resumed sessions skip OpenSSL's verification, so they are
 * verified again here against the *current* policy: a session resumed after its CA was removed, or
 * under another domain's name, fails like a new handshake would.
 */

import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientAuth } from '../model/domain.js';
import { describeCertificate, peerChain, type ClientCertificate } from './client-certificate.js';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/** A domain's client-auth policy, prepared once per snapshot. */
export interface ClientAuthPolicy {
  readonly mode: ClientAuth['mode'];
  readonly depth: number;
  /** Trust anchors (and any intermediates shipped with them). */
  readonly anchors: readonly X509Certificate[];
  /** Fingerprints of `anchors`, for fast membership. */
  readonly anchorFingerprints: ReadonlySet<string>;
  /**
   * Set when the domain cannot check client certificates (its revocation information is unavailable,
   * or none of its CAs can be trusted any more): every certificate is refused, for this reason.
   */
  readonly unavailable?: string | undefined;
}

export type ClientAuthResult = { readonly ok: true; readonly cert: ClientCertificate | undefined } | { readonly ok: false; readonly reason: string };

const OK_NONE: ClientAuthResult = Object.freeze({ ok: true, cert: undefined });

function fail(reason: string): ClientAuthResult {
  return { ok: false, reason };
}

/**
 * Verifies a chain in JS: validity, signatures up to an anchor, depth, and the clientAuth EKU.
 * Returns the verified issuers (nearest first, ending at the anchor) or the reason it failed.
 */
export function verifyChain(leaf: X509Certificate, presented: readonly X509Certificate[], policy: ClientAuthPolicy, now: Date): X509Certificate[] | string {
  const t = now.getTime();
  const pool = [...presented, ...policy.anchors];
  const path: X509Certificate[] = [];
  let cur = leaf;
  for (let depth = 1; depth <= policy.depth; depth++) {
    if (Date.parse(cur.validFrom) > t) return depth === 1 ? 'certificate is not yet valid' : 'a certificate in the chain is not yet valid';
    if (Date.parse(cur.validTo) < t) return depth === 1 ? 'certificate has expired' : 'a certificate in the chain has expired';
    if (depth === 1 && cur.keyUsage && cur.keyUsage.length > 0 && !cur.keyUsage.includes(CLIENT_AUTH_EKU)) return 'certificate is not for client authentication';
    const issuer = pool.find((c) => c !== cur && cur.checkIssued(c) && cur.verify(c.publicKey));
    if (!issuer) return 'certificate is not issued by a trusted CA';
    path.push(issuer);
    if (policy.anchorFingerprints.has(issuer.fingerprint256)) {
      if (Date.parse(issuer.validTo) < t) return 'the trusted CA has expired';
      return path;
    }
    cur = issuer;
  }
  return `chain is longer than the allowed depth ${policy.depth}`;
}

/**
 * Whether a certificate admitted under an earlier policy of its domain is accepted by `policy`, the
 * domain's policy now (trust may have changed since the handshake: a CA removed or no longer shared,
 * revocation information gone). Its chain as verified then (the issuers up to the old anchor) is
 * verified again against the new anchors, so a chain through an intermediate the domain dropped
 * still stands when the domain keeps its root.
 */
export function stillTrusted(cert: ClientCertificate, policy: ClientAuthPolicy, now: Date = new Date()): boolean {
  if (policy.mode === 'off') return true;
  if (policy.unavailable !== undefined) return false;
  return typeof verifyChain(new X509Certificate(cert.pem), cert.chain.map((pem) => new X509Certificate(pem)), policy, now) !== 'string';
}

/**
 * Applies `policy` to a connection. Never throws. The reason of a failure is for logs only (it is
 * never sent to the client: Node sends no TLS alert, the connection is simply closed).
 */
export function checkClientCertificate(socket: TLSSocket, policy: ClientAuthPolicy, now: Date): ClientAuthResult {
  if (policy.mode === 'off') return OK_NONE;
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return policy.mode === 'required' ? fail('no client certificate') : OK_NONE;
  if (policy.unavailable !== undefined) return fail(policy.unavailable);
  const resumed = socket.isSessionReused();
  if (!resumed) {
    if (!socket.authorized) return fail(`certificate did not verify: ${String(socket.authorizationError ?? 'unknown error')}`);
    // OpenSSL verified the chain (signatures, validity, purpose) against this domain's CAs. The common
    // case, a leaf issued straight by a trusted CA, needs no second verification and no chain walk.
    const issuer = policy.anchors.find((a) => leaf.checkIssued(a));
    if (issuer) return { ok: true, cert: describeCertificate(leaf, [issuer]) };
  }
  const presented = peerChain(socket);
  // Full handshakes: OpenSSL verified the chain; this adds depth (and, on resumption, everything).
  const verified = verifyChain(leaf, presented, policy, now);
  if (typeof verified === 'string') return fail(resumed ? `resumed session: ${verified}` : verified);
  return { ok: true, cert: describeCertificate(leaf, verified) };
}
