import { z } from 'zod';
import { gatewayError } from '../../core/errors.js';
import type { Plugin } from '../../pipeline/plugin.js';
import { CertMatchRuleSchema, compileCertMatch } from '../../tls/cert-match.js';

export const ClientCertConfigSchema = z
  .object({
    rules: z.array(CertMatchRuleSchema).max(100).default([]).describe('The certificate must match one of these rules; empty accepts any verified certificate'),
  })
  .strict();

export type ClientCertConfig = z.output<typeof ClientCertConfigSchema>;

/**
 * Requires a verified client certificate on a route, optionally matching rules (SAN URI such as a
 * SPIFFE ID, SAN DNS/email, subject, fingerprint, issuer). Joins `authenticate`: no certificate →
 * 401, a certificate that matches no rule → 403. The domain must ask for certificates (clientAuth
 * mode optional or required); with mode off no certificate is ever available.
 */
export const clientCertPlugin: Plugin<ClientCertConfig> = {
  name: 'client-cert',
  description: 'Require a client certificate matching rules (mutual TLS)',
  configSchema: ClientCertConfigSchema,
  priority: 100,
  create(config) {
    const matches = compileCertMatch(config.rules);
    return {
      authenticate(ctx) {
        const cert = ctx.clientCert;
        if (!cert) {
          ctx.res.setHeader('www-authenticate', 'Mutual');
          throw gatewayError('UNAUTHENTICATED', 'A client certificate is required');
        }
        if (!matches(cert)) throw gatewayError('FORBIDDEN', 'The client certificate is not allowed here');
      },
    };
  },
};
