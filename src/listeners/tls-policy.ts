import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * The strict default TLS policy for every listener: TLS 1.2 and 1.3 only; TLS 1.2 suites limited to
 * ECDHE key exchange with AEAD ciphers (no CBC, no static RSA); the server's cipher order; curves
 * X25519, P-256 and P-384. (Node's own default still offers CBC and static-RSA suites.)
 *
 * Listeners may narrow or reorder this per listener (`https.tls`, `admin.tls` in settings), never
 * widen it: {@link checkTlsPolicy} refuses anything below TLS 1.2, any TLS 1.2 suite that is not
 * ECDHE + AEAD, and curves outside a short list of strong ones. Session tickets stay enabled (Node's
 * default): resumption is decided per secure context, not here.
 */
export const STRICT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** TLS 1.3 suites are configured separately by OpenSSL; these are all AEAD. */
export const TLS13_CIPHERSUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'].join(':');

export const STRICT_CURVES = 'X25519:P-256:P-384';

/** The TLS 1.2 suites a listener may name: ECDHE key exchange, AES-GCM or ChaCha20-Poly1305. */
const ALLOWED_TLS12 = new Set(STRICT_TLS12_CIPHERS.split(':'));
/** The TLS 1.3 suites a listener may name: AES-GCM and ChaCha20-Poly1305, as for TLS 1.2 (no CCM). */
const ALLOWED_TLS13 = new Set(TLS13_CIPHERSUITES.split(':'));
/** Curves (groups) a listener may name, with OpenSSL's aliases mapped to one spelling. */
const CURVE_ALIASES: Readonly<Record<string, string>> = {
  x25519: 'X25519',
  x448: 'X448',
  'p-256': 'P-256',
  prime256v1: 'P-256',
  secp256r1: 'P-256',
  'p-384': 'P-384',
  secp384r1: 'P-384',
  'p-521': 'P-521',
  secp521r1: 'P-521',
};

export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

/** One listener's TLS policy, as written in settings (`https.tls`, `admin.tls`). */
export interface ListenerTlsPolicy {
  /** Lowest protocol version accepted; the highest is always TLS 1.3. */
  readonly minVersion: TlsMinVersion;
  /**
   * Colon-separated cipher suite names, in the server's order of preference. OpenSSL names
   * (`ECDHE-ECDSA-AES128-GCM-SHA256`) are TLS 1.2 suites; `TLS_…` names are TLS 1.3 suites. Omitted
   * TLS 1.3 names keep the default TLS 1.3 suites. Default: {@link STRICT_TLS12_CIPHERS}.
   */
  readonly ciphers?: string | undefined;
  /** Colon-separated key exchange groups in order of preference. Default: {@link STRICT_CURVES}. */
  readonly curves?: string | undefined;
}

export const DEFAULT_TLS_POLICY: ListenerTlsPolicy = Object.freeze({ minVersion: 'TLSv1.2' });

type PolicyOptions = Pick<TlsOptions & SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'ecdhCurve'>;

function splitList(list: string): string[] {
  return list
    .split(':')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Problems with a policy, as messages (empty when it is acceptable). Settings validation calls this, so
 * a bad policy stops the gateway at start with the field named, never at the first handshake.
 */
export function checkTlsPolicy(policy: ListenerTlsPolicy): Array<{ field: 'minVersion' | 'ciphers' | 'curves'; message: string }> {
  const problems: Array<{ field: 'minVersion' | 'ciphers' | 'curves'; message: string }> = [];
  if (!(TLS_MIN_VERSIONS as readonly string[]).includes(policy.minVersion)) {
    problems.push({ field: 'minVersion', message: `must be TLSv1.2 or TLSv1.3 (older protocol versions are never enabled)` });
  }
  if (policy.ciphers !== undefined) {
    const names = splitList(policy.ciphers);
    if (names.length === 0) problems.push({ field: 'ciphers', message: 'must name at least one cipher suite' });
    const bad = names.filter((n) => !ALLOWED_TLS12.has(n.toUpperCase()) && !ALLOWED_TLS13.has(n.toUpperCase()));
    if (bad.length > 0) {
      problems.push({
        field: 'ciphers',
        message: `${bad.join(', ')}: only ECDHE + AEAD suites are allowed (TLS 1.2: ${STRICT_TLS12_CIPHERS.split(':').join(', ')}; TLS 1.3: ${[...ALLOWED_TLS13].join(', ')}); cipher-string keywords such as ALL, HIGH or @SECLEVEL are not accepted`,
      });
    } else if (policy.minVersion === 'TLSv1.2' && names.length > 0 && !names.some((n) => ALLOWED_TLS12.has(n.toUpperCase()))) {
      problems.push({ field: 'ciphers', message: 'names no TLS 1.2 suite while minVersion is TLSv1.2: add one, or set minVersion: TLSv1.3' });
    }
  }
  if (policy.curves !== undefined) {
    const names = splitList(policy.curves);
    if (names.length === 0) problems.push({ field: 'curves', message: 'must name at least one curve' });
    const bad = names.filter((n) => CURVE_ALIASES[n.toLowerCase()] === undefined);
    if (bad.length > 0) problems.push({ field: 'curves', message: `${bad.join(', ')}: allowed curves are X25519, X448, P-256, P-384 and P-521` });
  }
  return problems;
}

/**
 * Node TLS options for a listener's policy: the strict defaults, narrowed by what the policy names.
 * Also usable as `SecureContextOptions` for per-name contexts (SNI), so every context of a listener
 * carries the same policy. Throws on a policy {@link checkTlsPolicy} refuses.
 */
export function listenerTlsOptions(policy: ListenerTlsPolicy = DEFAULT_TLS_POLICY): PolicyOptions {
  const problems = checkTlsPolicy(policy);
  if (problems.length > 0) throw new Error(`invalid TLS policy: ${problems[0]!.field}: ${problems[0]!.message}`);
  let tls12 = STRICT_TLS12_CIPHERS;
  let tls13 = TLS13_CIPHERSUITES;
  if (policy.ciphers !== undefined) {
    const names = splitList(policy.ciphers).map((n) => n.toUpperCase());
    const named13 = names.filter((n) => n.startsWith('TLS_'));
    tls12 = names.filter((n) => !n.startsWith('TLS_')).join(':');
    if (named13.length > 0) tls13 = named13.join(':');
  }
  const curves = policy.curves === undefined ? STRICT_CURVES : splitList(policy.curves).map((n) => CURVE_ALIASES[n.toLowerCase()]!).join(':');
  return {
    minVersion: policy.minVersion,
    maxVersion: 'TLSv1.3',
    // Node routes `TLS_…` names to the TLS 1.3 suite list and the rest to the TLS 1.2 cipher list.
    // With TLS 1.3 only, the TLS 1.2 list is irrelevant; keep the strict one rather than an empty string.
    ciphers: `${tls13}:${tls12 || STRICT_TLS12_CIPHERS}`,
    honorCipherOrder: true,
    ecdhCurve: curves,
  };
}

/** The strict default policy's options (same as `listenerTlsOptions()`). */
export function strictTlsOptions(): PolicyOptions {
  return listenerTlsOptions(DEFAULT_TLS_POLICY);
}
