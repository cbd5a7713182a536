import { z } from 'zod';
import { parseCertificateBundle } from '../pki/pem.js';
import { NameSchema } from './common.js';
import { HostPatternSchema } from './route.js';

export const CLIENT_AUTH_MODES = ['off', 'optional', 'required'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

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
      .array(NameSchema)
      .max(16)
      .default([])
      .describe("Names of this tenant's built-in certificate authorities whose certificates are accepted; their CRLs are enforced, so a revoked certificate is refused"),
    depth: z.number().int().min(1).max(10).default(3).describe('Longest accepted chain below the trusted CA (leaf = 1)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.mode === 'off') return;
    if (!v.trustedCas && v.authorities.length === 0) ctx.addIssue({ code: 'custom', path: ['trustedCas'], message: `(or authorities) is required when mode is "${v.mode}"` });
    else if (v.trustedCas && !parseCertificateBundle(v.trustedCas)) ctx.addIssue({ code: 'custom', path: ['trustedCas'], message: 'is not a PEM certificate bundle' });
  });

/**
 * A tenant's domain on the TLS listener: the host names (SNI) it answers for, the certificate it
 * presents and its client-certificate policy. A host belongs to at most one domain of one tenant.
 */
export const DomainSpecSchema = z
  .object({
    name: NameSchema,
    hosts: z.array(HostPatternSchema).min(1).max(100).describe('Exact names or "*.example.com" wildcards (one label)'),
    certificate: NameSchema.describe('Name of a certificate in the same tenant'),
    clientAuth: ClientAuthSchema.default({ mode: 'off', depth: 3, authorities: [] }),
  })
  .strict();

export type ClientAuth = z.output<typeof ClientAuthSchema>;
export type DomainSpec = z.output<typeof DomainSpecSchema>;
