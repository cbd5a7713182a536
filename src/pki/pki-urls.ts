/** Where the gateway publishes a CA's revocation information (written into the certificates it issues). */
export interface PkiUrls {
  /** The issuing CA's CRL (DER; `.pem` for PEM). */
  readonly crl: string;
  /** The root's CRL (it lists revoked intermediates). */
  readonly rootCrl: string;
  /** The OCSP responder (RFC 6960, POST or GET). */
  readonly ocsp: string;
}

/** The path prefix of a CA's endpoints on the data plane (and the plain-HTTP listener). */
export function pkiPath(tenant: string, ca: string): string {
  return `/_portcullis/pki/${encodeURIComponent(tenant)}/${encodeURIComponent(ca)}`;
}

export function pkiUrls(baseUrl: string, tenant: string, ca: string): PkiUrls {
  const base = `${baseUrl.replace(/\/+$/, '')}${pkiPath(tenant, ca)}`;
  return { crl: `${base}/crl`, rootCrl: `${base}/root.crl`, ocsp: `${base}/ocsp` };
}
