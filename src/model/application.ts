import { z } from 'zod';
import { CertMatchRuleSchema } from '../tls/cert-match.js';
import { NameSchema } from './common.js';

/**
 * An application (a consumer): what calls services, identified by its credentials (API keys, OAuth2
 * clients, kept apart from the spec) and by the identities declared here, client certificates and
 * tokens of trusted JWT issuers.
 */
export const ApplicationSpecSchema = z
  .object({
    name: NameSchema,
    description: z.string().max(1000).optional(),
    mtls: z
      .array(CertMatchRuleSchema)
      .max(32)
      .default([])
      .describe('Client certificates that identify this application (mutual TLS): any matching rule does. Each rule must pin a fingerprint, a SAN or an issuer.'),
    jwt: z
      .array(
        z
          .object({
            issuer: NameSchema.describe('Name of a jwt-issuer in the same tenant'),
            subject: z.string().min(1).max(1024).describe("Value of the issuer's mapping claim (`claim`, default `sub`) that means this application"),
          })
          .strict(),
      )
      .max(32)
      .default([])
      .describe('JWT identities: tokens of these issuers whose mapping claim has this value are this application'),
  })
  .strict();

export type ApplicationSpec = z.output<typeof ApplicationSpecSchema>;
