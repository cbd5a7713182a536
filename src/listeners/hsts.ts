/**
 * HTTP Strict Transport Security (RFC 6797): tells browsers to reach this host over HTTPS only, for
 * `maxAge` seconds. HSTS is a property of a host name, not of a port, so one policy (`https.hsts`)
 * applies to every TLS listener (data plane and admin); the plain-HTTP redirect listener never sends
 * it (RFC 6797 §7.2: it is ignored over HTTP).
 */

export interface HstsPolicy {
  readonly enabled: boolean;
  /** Seconds; 0 tells browsers to forget the host's HSTS state. */
  readonly maxAge: number;
  readonly includeSubDomains: boolean;
  /** Asks to be put on browsers' preload lists (which requires includeSubDomains and a year or more). */
  readonly preload: boolean;
}

export const DEFAULT_HSTS: HstsPolicy = Object.freeze({ enabled: true, maxAge: 31_536_000, includeSubDomains: false, preload: false });

/** The minimum max-age the browsers' preload list accepts. */
export const HSTS_PRELOAD_MIN_MAX_AGE = 31_536_000;

/** Problems with a policy (empty when acceptable): a `preload` request the preload list would refuse. */
export function checkHsts(p: HstsPolicy): Array<{ field: 'preload'; message: string }> {
  if (!p.enabled || !p.preload) return [];
  const problems: Array<{ field: 'preload'; message: string }> = [];
  if (!p.includeSubDomains) problems.push({ field: 'preload', message: 'requires includeSubDomains: true' });
  if (p.maxAge < HSTS_PRELOAD_MIN_MAX_AGE) problems.push({ field: 'preload', message: `requires maxAge of at least ${HSTS_PRELOAD_MIN_MAX_AGE} (one year)` });
  return problems;
}

/** The `Strict-Transport-Security` value for a policy, or undefined when disabled. */
export function hstsHeaderValue(p: HstsPolicy | undefined): string | undefined {
  if (!p || !p.enabled) return undefined;
  let v = `max-age=${p.maxAge}`;
  if (p.includeSubDomains) v += '; includeSubDomains';
  if (p.preload) v += '; preload';
  return v;
}
