/**
 * Admin endpoint of a domain's ACME state: the certificate the gateway obtained (serial, validity,
 * hosts) and the renewal state every node shares (consecutive failures, the CA's last problem, the
 * next attempt).
 */

import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { gatewayError } from '../core/errors.js';
import type { AdminRoute, NamedSchema } from './admin-routes.js';
import { API_PREFIX, onTenant } from './admin-routes.js';
import { renewalTime } from '../acme/acme-manager.js';

const AcmeStateSchema: NamedSchema = {
  name: 'AcmeState',
  schema: z
    .object({
      domain: z.string(),
      automatic: z.boolean().describe('Whether the domain has an `acme` block (false: its certificate is uploaded, and the rest is empty)'),
      certificate: z
        .object({ serial: z.string(), hosts: z.array(z.string()), notBefore: z.string(), notAfter: z.string(), issuedAt: z.string(), renewAt: z.string().describe('When a third of the lifetime remains') })
        .nullable()
        .describe('The certificate in use; null until one was obtained'),
      failures: z.number().int().describe('Failed attempts since the last success'),
      lastError: z.string().nullable().describe("The CA's problem (type: detail) from the last failed attempt"),
      lastAttemptAt: z.string().nullable(),
      nextAttemptAt: z.string().nullable().describe('Earliest retry after a failure'),
    })
    .strict(),
};

export function acmeRoutes(): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}/domains/{name}/acme`,
      operationId: 'getDomainAcmeState',
      summary: "A domain's automatic certificate: the one in use and its renewal state",
      tag: 'Domains',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'ACME state', body: AcmeStateSchema },
      errors: [401, 403, 404, 503],
      async handle(req) {
        const scope = await req.store.tenant(req.params.tenant!);
        const domain = await scope.get('domain', req.params.name!);
        if (!domain) throw gatewayError('NOT_FOUND', `Domain "${req.params.name!}" not found`);
        const automatic = (domain.spec as { acme?: unknown }).acme !== undefined;
        const [cert, renewal] = await Promise.all([req.store.acme.getCertificate(scope.tenant, domain.name), req.store.acme.getRenewal(scope.tenant, domain.name)]);
        const certificate = cert && {
          serial: new X509Certificate(cert.certPem).serialNumber,
          hosts: cert.hosts,
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
          issuedAt: cert.issuedAt,
          renewAt: new Date(renewalTime(Date.parse(cert.notBefore), Date.parse(cert.notAfter))).toISOString(),
        };
        return {
          status: 200,
          body: { domain: domain.name, automatic, certificate: certificate ?? null, failures: renewal?.failures ?? 0, lastError: renewal?.lastError ?? null, lastAttemptAt: renewal?.lastAttemptAt ?? null, nextAttemptAt: renewal?.nextAttemptAt ?? null },
        };
      },
    },
  ];
}
