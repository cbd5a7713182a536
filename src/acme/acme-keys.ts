/** AAD of an ACME certificate's sealed key: binds the ciphertext to its tenant and domain. */
export function acmeKeyAad(tenant: string, domain: string): string {
  return `acme:${tenant}:${domain}:key`;
}

/** AAD of a tenant's sealed ACME account key for a directory. */
export function acmeAccountAad(tenant: string, directory: string): string {
  return `acme-account:${tenant}:${directory}`;
}
