/**
 * The TLS half of a config snapshot: which certificate and client-auth policy each server name gets.
 * Built at config time; the handshake only reads it (two map lookups), never storage. Lookup order:
 * exact name, then wildcard (`*.example.com`, one label), then the listener's default, which is
 * either served or refused as configured.
 */

import { createHash, X509Certificate } from 'node:crypto';
import { constants as cryptoConstants } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { ClientAuthMode } from '../model/domain.js';
import { splitPemCertificates } from '../pki/pem.js';
import type { ClientAuthPolicy } from './client-auth.js';

/**
 * TLS options that turn session resumption off on a listener: no session tickets, and (Node keeps no
 * internal server session cache) no session IDs either. Resumption skips certificate verification and,
 * on TLS 1.2, the SNI callback, so a resumed session could land on another domain's policy; every
 * connection therefore does a full handshake, and client certificates are verified every time.
 */
export const NO_RESUMPTION_OPTIONS = Object.freeze({ secureOptions: cryptoConstants.SSL_OP_NO_TICKET });

/** What one server name resolves to. */
export interface TlsDomain {
  /** Owning tenant; undefined for the listener's default. */
  readonly tenant: string | undefined;
  readonly name: string;
  readonly context: SecureContext;
  readonly clientAuth: ClientAuthPolicy;
}

/** A domain's client-certificate policy with its trust resolved: CA certificates and CRLs as PEM. */
export interface TlsClientAuthInput {
  readonly mode: ClientAuthMode;
  readonly depth: number;
  /** PEM bundle of trusted CAs (inline ones and built-in ones). */
  readonly trustedCas?: string | undefined;
  /**
   * PEM CRLs. When present, OpenSSL checks revocation of every certificate of the chain, so there
   * must be one for each CA a client chain goes through (built-in CAs provide theirs).
   */
  readonly crls?: readonly string[] | undefined;
  /** Why client certificates cannot be checked (e.g. revocation information unavailable): every one is then refused. */
  readonly unavailable?: string | undefined;
}

/** Everything needed to build a domain's context. Secrets are in clear here: never log this. */
export interface TlsDomainInput {
  readonly tenant: string | undefined;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly clientAuth: TlsClientAuthInput;
}

const OFF: ClientAuthPolicy = Object.freeze({ mode: 'off', depth: 1, anchors: [], anchorFingerprints: new Set<string>(), unavailable: undefined });

/** The policy of a domain. With client certificates on but no CA to trust, every certificate is refused (fail closed). */
export function clientAuthPolicy(clientAuth: TlsClientAuthInput): ClientAuthPolicy {
  if (clientAuth.mode === 'off') return OFF;
  const anchors = clientAuth.trustedCas ? splitPemCertificates(clientAuth.trustedCas).map((p) => new X509Certificate(p)) : [];
  const unavailable = clientAuth.unavailable ?? (anchors.length === 0 ? 'no trusted certificate authority' : undefined);
  return Object.freeze({ mode: clientAuth.mode, depth: clientAuth.depth, anchors, anchorFingerprints: new Set(anchors.map((a) => a.fingerprint256)), unavailable });
}

/**
 * Secure contexts reused across snapshots when their inputs are equal (creating one parses keys and
 * certificates: worth doing once). One cache per listener; `sweep` drops what the last build did not use.
 */
export class SecureContextCache {
  private contexts = new Map<string, SecureContext>();
  private used = new Set<string>();

  get(input: TlsDomainInput, policy: SecureContextOptions): SecureContext {
    const mtls = input.clientAuth.mode !== 'off';
    const key = createHash('sha256')
      .update(JSON.stringify([input.certPem, input.keyPem, mtls ? input.clientAuth.trustedCas : '', mtls ? (input.clientAuth.crls ?? []) : [], policy]))
      .digest('base64');
    this.used.add(key);
    let ctx = this.contexts.get(key);
    if (!ctx) {
      ctx = createSecureContext({
        ...policy,
        cert: input.certPem,
        key: input.keyPem,
        // No session tickets (see NO_RESUMPTION_OPTIONS).
        secureOptions: (policy.secureOptions ?? 0) | cryptoConstants.SSL_OP_NO_TICKET,
        ...(mtls ? { ca: input.clientAuth.trustedCas } : {}),
        ...(mtls && input.clientAuth.crls && input.clientAuth.crls.length > 0 ? { crl: [...input.clientAuth.crls] } : {}),
      });
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Forgets contexts not requested since the previous sweep. */
  sweep(): void {
    for (const key of this.contexts.keys()) if (!this.used.has(key)) this.contexts.delete(key);
    this.used = new Set();
  }
}

export class TlsSnapshot {
  private readonly exact = new Map<string, TlsDomain>();
  private readonly wildcard = new Map<string, TlsDomain>();
  /** True when any domain (or the default) asks for client certificates. */
  readonly requestCert: boolean;

  /**
   * `fallback` answers unknown or absent server names; undefined refuses them. Host conflicts are
   * the planner's job: a later duplicate here simply loses.
   */
  constructor(
    domains: ReadonlyArray<{ hosts: readonly string[]; domain: TlsDomain }>,
    readonly fallback: TlsDomain | undefined,
  ) {
    let requestCert = fallback !== undefined && fallback.clientAuth.mode !== 'off';
    for (const { hosts, domain } of domains) {
      if (domain.clientAuth.mode !== 'off') requestCert = true;
      for (const host of hosts) {
        if (host.startsWith('*.')) {
          if (!this.wildcard.has(host.slice(2))) this.wildcard.set(host.slice(2), domain);
        } else if (!this.exact.has(host)) this.exact.set(host, domain);
      }
    }
    this.requestCert = requestCert;
  }

  /** The domain for a server name (case-insensitive), else the fallback. */
  resolve(servername: string | undefined | false): TlsDomain | undefined {
    if (!servername) return this.fallback;
    const name = servername.toLowerCase();
    const exact = this.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return (dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined) ?? this.fallback;
  }

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }
}

/** Builds a TLS snapshot; contexts come from (and refresh) `cache`. */
export function buildTlsSnapshot(inputs: readonly TlsDomainInput[], fallback: TlsDomainInput | undefined, cache: SecureContextCache, policy: SecureContextOptions): TlsSnapshot {
  const make = (input: TlsDomainInput): TlsDomain => ({
    tenant: input.tenant,
    name: input.name,
    context: cache.get(input, policy),
    clientAuth: clientAuthPolicy(input.clientAuth),
  });
  const snapshot = new TlsSnapshot(
    inputs.map((i) => ({ hosts: i.hosts, domain: make(i) })),
    fallback ? make(fallback) : undefined,
  );
  cache.sweep();
  return snapshot;
}

/** Settings of the TLS half of a snapshot, fixed per gateway. */
export interface TlsBuildOptions {
  readonly cache: SecureContextCache;
  /** Listener TLS policy (protocols, ciphers, curves) applied to every domain context. */
  readonly policy: SecureContextOptions;
  /** The listener's default certificate and client-auth policy; undefined refuses unknown names. */
  readonly fallback: TlsDomainInput | undefined;
}
