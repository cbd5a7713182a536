import { CaRefSchema } from '../pki/ca-ref.js';
import { z } from 'zod';
import { parseCertificateBundle } from '../pki/pem.js';
import { DurationSchema, NameSchema } from './common.js';
import { HostPatternSchema } from './route.js';
import { AcmeDomainSchema } from './acme.js';

export const CLIENT_AUTH_MODES = ['off', 'optional', 'required'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

/** Where a CRL of another issuer comes from: an http(s) URL or a file on the gateway's machine. */
export const CrlSourceSchema = z.union([
  z.object({ url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }) }).strict(),
  z.object({ file: z.string().min(1).max(4096).describe('Path of a PEM or DER CRL file') }).strict(),
]);

/**
 * Revocation of certificates from `trustedCas` (built-in CAs need nothing: their CRLs are always
 * loaded). OpenSSL checks every certificate of a client chain, so list a CRL for each CA a chain
 * goes through (the root's too, for a chain through an intermediate).
 */
export const RevocationSchema = z
  .object({
    crls: z.array(CrlSourceSchema).min(1).max(16),
    refresh: DurationSchema.default(3_600_000).describe('How often each CRL is fetched again (default 1h); also before its nextUpdate'),
    onUnavailable: z
      .enum(['refuse', 'allow'])
      .default('refuse')
      .describe('When a CRL cannot be loaded, fails its signature check, or is past its nextUpdate: refuse every client certificate (default), or accept them without revocation checks'),
  })
  .strict();

/**
 * Client-certificate (mutual TLS) policy. `required`: a handshake without a certificate that verifies
 * against `trustedCas` is refused before any HTTP. `optional`: a certificate is verified when sent,
 * and routes decide (401/403) with the `client-cert` plugin. `off`: certificates are ignored.
 */
export const ClientAuthSchema = z
  .object({
    mode: z.enum(CLIENT_AUTH_MODES).default('off'),
    trustedCas: z.string().max(1_000_000).optional().describe('PEM bundle of CA certificates client certificates must chain to'),
    authorities: z
      .array(CaRefSchema)
      .max(16)
      .default([])
      .describe("Built-in certificate authorities whose certificates are accepted: this tenant's by name, or \"<tenant>/<name>\" for one another tenant shares with it. Their CRLs are enforced, so a revoked certificate is refused"),
    depth: z.number().int().min(1).max(10).default(3).describe('Longest accepted chain below the trusted CA (leaf = 1)'),
    revocation: RevocationSchema.optional().describe('CRLs of the issuers in trustedCas, refreshed periodically; fails closed by default'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.mode === 'off') return;
    if (!v.trustedCas && v.authorities.length === 0) ctx.addIssue({ code: 'custom', path: ['trustedCas'], message: `(or authorities) is required when mode is "${v.mode}"` });
    else if (v.trustedCas && !parseCertificateBundle(v.trustedCas)) ctx.addIssue({ code: 'custom', path: ['trustedCas'], message: 'is not a PEM certificate bundle' });
    if (v.revocation && !v.trustedCas) ctx.addIssue({ code: 'custom', path: ['revocation'], message: 'is for the CAs in trustedCas (built-in authorities publish their own CRLs)' });
  });

/**
 * A tenant's domain on the TLS listener: the host names (SNI) it answers for, the certificate it
 * presents and its client-certificate policy. A host belongs to at most one domain of one tenant.
 */
export const DomainSpecSchema = z
  .object({
    name: NameSchema,
    hosts: z.array(HostPatternSchema).min(1).max(100).describe('Exact names or "*.example.com" wildcards (one label)'),
    certificate: NameSchema.optional().describe('Name of a certificate in the same tenant. A domain has `certificate` or `acme`'),
    acme: AcmeDomainSchema.optional().describe('Obtain and renew the certificate automatically from an ACME CA (Let\'s Encrypt by default)'),
    clientAuth: ClientAuthSchema.default({ mode: 'off', depth: 3, authorities: [] }),
  })
  .strict();

export type ClientAuth = z.output<typeof ClientAuthSchema>;
export type CrlSource = z.output<typeof CrlSourceSchema>;
export type Revocation = z.output<typeof RevocationSchema>;
export type DomainSpec = z.output<typeof DomainSpecSchema>;
