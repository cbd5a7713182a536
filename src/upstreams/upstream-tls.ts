/**
 * TLS to `https://` targets: the settings a pool connects with (`upstream.tls`, secrets opened) and
 * the undici connector built from them.
 *
 * The connector fixes the server name per pool. undici would otherwise derive SNI (and the name the
 * certificate is verified against) from each request's Host header, which with `preserveHost` is the
 * client's. Hostname verification and SPKI pins run in `checkServerIdentity`; Node calls it only on a
 * full handshake whose chain verified, and hands out a session for resumption only after it passed,
 * so a resumed session always comes from a connection that passed the same checks (a pool's settings
 * never change: other settings get another pool).
 */

import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity as defaultCheckServerIdentity, type PeerCertificate } from 'node:tls';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { certificateSpkiPin } from '../tls/upstream/upstream-tls-checks.js';

/** How a pool speaks TLS to its origin. Holds the client key in clear: never log it. */
export interface UpstreamTlsSettings {
  /** PEM bundle replacing the system roots; undefined: Node's default roots. */
  readonly ca: string | undefined;
  /** SNI and the name to verify; undefined: the origin's host, or none for an IP literal. */
  readonly servername: string | undefined;
  /** Hostname verification (the chain is always verified). */
  readonly verify: boolean;
  /** PEM client certificate chain and its private key, for mutual TLS. */
  readonly cert: string | undefined;
  readonly key: string | undefined;
  /** Accepted SPKI pins of the leaf; undefined: no pinning. */
  readonly spkiPins: readonly string[] | undefined;
  readonly sessionReuse: boolean;
}

/** Settings of an https target without `upstream.tls`: system roots, full verification, session reuse. */
export const DEFAULT_UPSTREAM_TLS: UpstreamTlsSettings = Object.freeze({
  ca: undefined,
  servername: undefined,
  verify: true,
  cert: undefined,
  key: undefined,
  spkiPins: undefined,
  sessionReuse: true,
});

const keyCache = new WeakMap<UpstreamTlsSettings, string>();

/**
 * A stable identifier of the settings, for pool keys: a SHA-256 over all fields, so equal settings
 * share a pool and no key material appears in clear in the key.
 */
export function tlsSettingsKey(tls: UpstreamTlsSettings): string {
  let key = keyCache.get(tls);
  if (key === undefined) {
    const canonical = JSON.stringify([tls.ca ?? null, tls.servername ?? null, tls.verify, tls.cert ?? null, tls.key ?? null, tls.spkiPins ? [...tls.spkiPins].sort() : null, tls.sessionReuse]);
    key = createHash('sha256').update(canonical).digest('base64url');
    keyCache.set(tls, key);
  }
  return key;
}

/** Error codes the connector raises itself (mapped to reasons in upstream-errors.ts). */
export const UPSTREAM_TLS_CODES = Object.freeze({
  PIN_MISMATCH: 'PC_UPSTREAM_TLS_PIN_MISMATCH',
  CLIENT_CERT_REQUIRED: 'PC_UPSTREAM_TLS_CLIENT_CERT_REQUIRED',
});

class UpstreamTlsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamTlsError';
  }
}

/** SPKI pin of a peer certificate. (`cert.pubkey` is the bare key for EC, not the SPKI, so go through the DER.) */
function peerSpkiPin(cert: PeerCertificate): string {
  return certificateSpkiPin(new X509Certificate(cert.raw));
}

/** The `checkServerIdentity` for these settings: hostname (unless `verify: false`), then pins. */
function serverIdentityCheck(tls: UpstreamTlsSettings): ((host: string, cert: PeerCertificate) => Error | undefined) | undefined {
  const pins = tls.spkiPins ? new Set(tls.spkiPins) : undefined;
  if (tls.verify && !pins) return undefined;
  return (host, cert) => {
    if (tls.verify) {
      const err = defaultCheckServerIdentity(host, cert);
      if (err) return err;
    }
    if (!pins) return undefined;
    const pin = peerSpkiPin(cert);
    // The pin is the hash of a public key: fine to show, and what an operator needs to compare.
    return pins.has(pin) ? undefined : new UpstreamTlsError(UPSTREAM_TLS_CODES.PIN_MISMATCH, `upstream certificate's public key (pin ${pin}) matches none of upstream.tls.spkiPins`);
  };
}

/**
 * The undici connector for an https origin. `connectTimeout` bounds TCP plus the TLS handshake.
 * Errors keep Node's codes, except a TLS 1.2 handshake-failure alert when no client certificate is
 * configured, which is reported as "client certificate required" (what it nearly always means).
 */
export function upstreamTlsConnector(tls: UpstreamTlsSettings, connectTimeout: number): buildConnector.connector {
  // Only defined options: an explicit undefined would replace Node's defaults (checkServerIdentity, roots).
  const options: buildConnector.BuildOptions = { timeout: connectTimeout, rejectUnauthorized: true, maxCachedSessions: tls.sessionReuse ? 1 : 0 };
  const check = serverIdentityCheck(tls);
  if (check) options.checkServerIdentity = check;
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.servername !== undefined) options.servername = tls.servername;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  const base = buildConnector(options);
  // undici holds cached sessions through WeakRefs, so a garbage collection between two connections
  // can drop one; holding the latest here keeps it. (Node emits 'session' only once every check passed.)
  const held: { session?: Buffer } = {};
  const hold = (session: Buffer): void => {
    held.session = session;
  };
  return (connectOptions, callback) =>
    // undici passes a server name derived from the request's Host header: ignore it, the pool's is fixed.
    base({ ...connectOptions, servername: undefined }, (err, socket) => {
      if (err && tls.cert === undefined && (err as { code?: string }).code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
        callback(new UpstreamTlsError(UPSTREAM_TLS_CODES.CLIENT_CERT_REQUIRED, 'upstream sent a handshake failure alert and no client certificate is configured', { cause: err }), null);
      } else if (err || !socket) callback(err ?? new Error('no socket'), null);
      else {
        if (tls.sessionReuse) socket.on('session', hold);
        callback(null, socket.on('error', endOnTlsError));
      }
    });
}

/**
 * Node reports an alert received after the handshake (TLS 1.3: "certificate required" arrives after
 * the client finished) as an 'error' but leaves the socket open; the EOF that follows would make
 * undici fail the request with a bare "other side closed". Ending the socket on such an error makes
 * the alert the request's error.
 */
function endOnTlsError(this: Socket, err: Error & { code?: string }): void {
  if (err.code?.startsWith('ERR_SSL') && !this.destroyed) this.destroy();
}
