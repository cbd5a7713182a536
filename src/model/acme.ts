import { z } from 'zod';
import { parseCertificateBundle } from '../pki/pem.js';
import { REDACTED } from './service.js';

/** Let's Encrypt's production directory: the default CA. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/**
 * A domain's `acme` block: the gateway obtains and renews the domain's certificate itself from an
 * ACME CA (RFC 8555), proving control of each host by http-01 (on the plain-HTTP listener) or
 * tls-alpn-01 (on the TLS listener). Hosts must be exact names (neither can prove a wildcard).
 */
export const AcmeDomainSchema = z
  .object({
    directory: z.url({ protocol: /^https?$/, error: 'must be an https:// URL' }).default(LETS_ENCRYPT_DIRECTORY).describe("The CA's ACME directory URL; default Let's Encrypt"),
    email: z.email().optional().describe('Contact for the ACME account (expiry notices from the CA)'),
    challenge: z
      .enum(['http-01', 'tls-alpn-01'])
      .default('http-01')
      .describe('http-01: the CA fetches http://<host>/.well-known/acme-challenge/…, so port 80 must reach the HTTP listener; tls-alpn-01: the CA connects to port 443 with ALPN acme-tls/1, so port 443 must reach the TLS listener'),
    keyType: z.enum(['ec-p256', 'rsa-2048']).default('ec-p256').describe("The certificate's key"),
    eab: z
      .object({
        kid: z.string().min(1).max(1000),
        hmacKey: z.string().min(1).max(1000).describe(`Base64url MAC key from the CA. Secret: encrypted at rest, shown as "${REDACTED}"`),
      })
      .strict()
      .optional()
      .describe('External account binding, for CAs that require it (ZeroSSL, Google, private CAs)'),
    directoryCa: z
      .string()
      .max(1_000_000)
      .optional()
      .refine((v) => v === undefined || parseCertificateBundle(v) !== undefined, 'is not a PEM certificate bundle')
      .describe("PEM bundle trusted for the directory's TLS instead of the system roots (a private ACME CA)"),
  })
  .strict();

export type AcmeDomain = z.output<typeof AcmeDomainSchema>;
