/**
 * Admin endpoints of the built-in PKI: certificate authorities (create, import, read, chain) and the
 * certificates they issue (issue from a CSR or with a generated key, list with expiry filters,
 * revoke). Every handler works through the principal's services, bound to its tenant.
 */

import { z } from 'zod';
import { DurationSchema, NameSchema } from '../model/common.js';
import { CaRefSchema } from '../pki/ca-ref.js';
import { CaImportSchema, CaInputSchema, CaRevokeInputSchema, CaSharingInputSchema, CertificateRequestInputSchema, ChainInstallInputSchema, IssueInputSchema, PkiRevokeInputSchema } from '../model/pki.js';
import { Errors, GatewayError } from '../core/errors.js';
import { CertificateSpecSchema } from '../model/certificate.js';
import type { AdminRoute, NamedSchema } from './admin-routes.js';
import { API_PREFIX, onTenant } from './admin-routes.js';

const AUTH = [401, 403] as const;
const READ = [400, ...AUTH, 404, 503] as const;
const WRITE = [400, ...AUTH, 404, 409, 413, 415, 503] as const;

const one = (name: string, schema: z.ZodType): NamedSchema => ({ name, schema });

export const SerialParamSchema = z
  .string()
  .regex(/^[0-9A-Fa-f:]{1,100}$/, 'must be a hex serial number (colons allowed)')
  .describe('Certificate serial number, hex');

/** A CA in a path: its name, or `owner%2Fname` for one another tenant shares. */
export const CaParamSchema = CaRefSchema;

const CaViewSchema = z
  .object({
    name: z.string().describe('How this tenant names the CA: its name, or "<owner>/<name>" when another tenant shares it'),
    tenant: z.string().describe('The tenant that owns the CA'),
    settings: z.object({
      source: z.enum(['generated', 'imported']),
      keyType: z.string(),
      trustDomain: z.string(),
      clientLifetimeDays: z.number(),
      serverLifetimeDays: z.number(),
      description: z.string().optional(),
      sharedWith: z.array(z.string()).optional().describe('Tenants the CA is shared with (shown to its owner only)'),
      sharedServerCertificates: z.boolean().describe('Whether tenants it is shared with may have it issue server certificates'),
    }),
    certificate: z.string().describe('The issuing certificate, PEM'),
    root: z.string().nullable().describe('The root above it, PEM'),
    subject: z.string(),
    notAfter: z.string(),
    fingerprint: z.string(),
    crlUrl: z.string(),
    ocspUrl: z.string(),
    createdAt: z.string(),
  })
  .strict();

const IssuedSchema = z
  .object({
    tenant: z.string(),
    ca: z.string(),
    serial: z.string(),
    usage: z.enum(['client', 'server']),
    subject: z.string(),
    sans: z.array(z.string()),
    application: z.string().nullable(),
    fingerprint: z.string(),
    notBefore: z.string(),
    notAfter: z.string(),
    certPem: z.string(),
    revokedAt: z.string().nullable(),
    revocationReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .strict();

const IssuedResultSchema = z
  .object({
    certificate: IssuedSchema,
    chainPem: z.string().describe('Leaf, issuing CA, root'),
    keyPem: z.string().optional().describe('The generated private key (no CSR). Shown only in this response'),
    pkcs12: z.string().optional().describe('Base64 password-protected PKCS#12 of key, certificate and chain'),
    pkcs12Password: z.string().optional().describe('Its password, when the gateway chose it. Shown only in this response'),
  })
  .strict();

const CertificateRequestSchema = z
  .object({ name: z.string(), hosts: z.array(z.string()), csr: z.string().describe('PEM CSR to give the CA'), createdAt: z.string() })
  .strict();

const ExpiringQuerySchema = DurationSchema.optional().describe('Only certificates expiring within this long, e.g. 30d');

export function pkiRoutes(): AdminRoute[] {
  const T = `${API_PREFIX}/tenants/{tenant}`;
  const caView = one('CertificateAuthority', CaViewSchema);
  const issued = one('IssuedCertificate', IssuedSchema);
  return [
    {
      method: 'GET',
      path: `${T}/cas`,
      operationId: 'listCertificateAuthorities',
      summary: "The tenant's built-in certificate authorities, then those other tenants share with it",
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'CAs by name', body: one('CertificateAuthorityList', z.object({ items: z.array(CaViewSchema) }).strict()) },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.pki.listCas(req.params.tenant!) } };
      },
    },
    {
      method: 'POST',
      path: `${T}/cas`,
      operationId: 'createCertificateAuthority',
      summary: 'Create a CA: a root and an issuing intermediate, keys encrypted at rest',
      tag: 'PKI',
      permission: onTenant('config.write'),
      body: one('CertificateAuthorityInput', CaInputSchema),
      success: { status: 201, description: 'The CA', body: caView },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.pki.createCa(req.params.tenant!, req.body) };
      },
    },
    {
      method: 'POST',
      path: `${T}/cas/import`,
      operationId: 'importCertificateAuthority',
      summary: 'Bring an existing CA (certificate and key)',
      tag: 'PKI',
      permission: onTenant('config.write'),
      body: one('CertificateAuthorityImport', CaImportSchema),
      success: { status: 201, description: 'The CA', body: caView },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.pki.importCa(req.params.tenant!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/cas/{ca}`,
      operationId: 'getCertificateAuthority',
      summary: 'A CA (certificates, never keys): an own one, or one another tenant shares ("owner%2Fname")',
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'The CA', body: caView },
      errors: READ,
      async handle(req) {
        return { status: 200, body: await req.pki.getCa(req.params.tenant!, req.params.ca!) };
      },
    },
    {
      method: 'PUT',
      path: `${T}/cas/{ca}/sharing`,
      operationId: 'shareCertificateAuthority',
      summary: 'Choose the other tenants that may trust an own CA and have it issue for their own applications and hosts (replaces the list)',
      tag: 'PKI',
      permission: onTenant('config.write'),
      body: one('CaSharingInput', CaSharingInputSchema),
      success: { status: 200, description: 'The CA', body: caView },
      errors: WRITE,
      async handle(req) {
        return { status: 200, body: await req.pki.share(req.params.tenant!, req.params.ca!, req.body) };
      },
    },
    {
      method: 'POST',
      path: `${T}/cas/{ca}/revoke`,
      operationId: 'revokeByCertificateAuthority',
      summary: "An own CA's owner revokes any certificate it issued, by serial, including those tenants it is shared with obtained",
      tag: 'PKI',
      permission: onTenant('credentials.write'),
      body: one('CaRevokeInput', CaRevokeInputSchema),
      success: {
        status: 200,
        description: 'The revocation',
        body: one('CaRevocation', z.object({ serial: z.string(), tenant: z.string().describe('The tenant the certificate was issued to'), revokedAt: z.string(), revocationReason: z.string() }).strict()),
      },
      errors: WRITE,
      async handle(req) {
        return { status: 200, body: await req.pki.revokeIssuedByCa(req.params.tenant!, req.params.ca!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/cas/{ca}/chain`,
      operationId: 'getCertificateAuthorityChain',
      summary: 'The CA chain as PEM (issuing, then root): what curl --cacert and clients trust',
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'PEM', contentType: 'application/x-pem-file' },
      errors: READ,
      async handle(req) {
        return { status: 200, text: { contentType: 'application/x-pem-file', body: await req.pki.chain(req.params.tenant!, req.params.ca!) } };
      },
    },
    {
      method: 'POST',
      path: `${T}/cas/{ca}/certificates`,
      operationId: 'issueCertificate',
      summary: 'Issue a client certificate for an application, or a server certificate for owned hosts (from a CSR, or with a generated key returned once)',
      tag: 'PKI',
      permission: onTenant('credentials.write'),
      body: one('IssueInput', IssueInputSchema),
      success: { status: 201, description: 'The certificate and chain (and the generated key and PKCS#12)', body: one('IssuedCertificateResult', IssuedResultSchema) },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.pki.issue(req.params.tenant!, req.params.ca!, req.body), headers: { 'cache-control': 'no-store' } };
      },
    },
    {
      method: 'GET',
      path: `${T}/issued-certificates`,
      operationId: 'listIssuedCertificates',
      summary: "Certificates the tenant's CAs issued, soonest expiry first",
      tag: 'PKI',
      permission: onTenant('config.read'),
      query: [
        { name: 'expiring', schema: ExpiringQuerySchema },
        { name: 'ca', schema: CaRefSchema.optional().describe('Only this CA (an own one by name, a shared one as "owner/name")') },
        { name: 'application', schema: NameSchema.optional().describe('Only this application') },
      ],
      success: { status: 200, description: 'Certificates', body: one('IssuedCertificateList', z.object({ items: z.array(IssuedSchema) }).strict()) },
      errors: READ,
      async handle(req) {
        const items = await req.pki.listIssued(req.params.tenant!, { ca: req.query.ca as string | undefined, application: req.query.application as string | undefined, expiringWithinMs: req.query.expiring as number | undefined });
        return { status: 200, body: { items } };
      },
    },
    {
      method: 'GET',
      path: `${T}/issued-certificates/{serial}`,
      operationId: 'getIssuedCertificate',
      summary: 'A certificate by serial',
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'The certificate', body: issued },
      errors: READ,
      async handle(req) {
        return { status: 200, body: await req.pki.getIssued(req.params.tenant!, req.params.serial!) };
      },
    },
    {
      method: 'POST',
      path: `${T}/issued-certificates/{serial}/revoke`,
      operationId: 'revokeIssuedCertificate',
      summary: 'Revoke by serial with an RFC 5280 reason: new connections with it are refused within a second, open ones on their next request',
      tag: 'PKI',
      permission: onTenant('credentials.write'),
      body: one('PkiRevokeInput', PkiRevokeInputSchema),
      success: { status: 200, description: 'The revoked certificate', body: issued },
      errors: WRITE,
      async handle(req) {
        return { status: 200, body: await req.pki.revoke(req.params.tenant!, req.params.serial!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/certificate-requests`,
      operationId: 'listCertificateRequests',
      summary: 'Keys and CSRs waiting for a chain from a public CA (never the keys)',
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'Requests by name', body: one('CertificateRequestList', z.object({ items: z.array(CertificateRequestSchema) }).strict()) },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.pki.listRequests(req.params.tenant!) } };
      },
    },
    {
      method: 'POST',
      path: `${T}/certificate-requests`,
      operationId: 'createCertificateRequest',
      summary: "Generate a key (kept sealed) and a CSR for the tenant's own hosts, to take to a public CA",
      tag: 'PKI',
      permission: onTenant('config.write'),
      body: one('CertificateRequestInput', CertificateRequestInputSchema),
      success: { status: 201, description: 'The CSR', body: one('CertificateRequest', CertificateRequestSchema) },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.pki.requestCertificate(req.params.tenant!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/certificate-requests/{name}`,
      operationId: 'getCertificateRequest',
      summary: 'A pending request and its CSR',
      tag: 'PKI',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'The request', body: one('CertificateRequest', CertificateRequestSchema) },
      errors: READ,
      async handle(req) {
        return { status: 200, body: await req.pki.getRequest(req.params.tenant!, req.params.name!) };
      },
    },
    {
      method: 'DELETE',
      path: `${T}/certificate-requests/{name}`,
      operationId: 'deleteCertificateRequest',
      summary: 'Abandon a request (its key is destroyed)',
      tag: 'PKI',
      permission: onTenant('config.write'),
      success: { status: 204, description: 'Deleted' },
      errors: READ,
      async handle(req) {
        await req.pki.cancelRequest(req.params.tenant!, req.params.name!);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: `${T}/certificate-requests/{name}/install`,
      operationId: 'installCertificateChain',
      summary: "Install the chain a CA returned as the tenant's certificate of that name: refused with the reasons unless it matches the key, is complete and within validity, and names the requested hosts",
      tag: 'PKI',
      permission: onTenant('config.write'),
      body: one('ChainInstallInput', ChainInstallInputSchema),
      success: { status: 201, description: 'The certificate object (key redacted)', body: one('InstalledCertificate', z.object({ name: z.string(), spec: CertificateSpecSchema, version: z.number(), createdAt: z.string(), updatedAt: z.string() })) },
      errors: WRITE,
      async handle(req) {
        const { tenant, name } = req.params as { tenant: string; name: string };
        const spec = await req.pki.checkReturnedChain(tenant, name, req.body);
        const existing = await req.config.get(tenant, 'certificate', name).catch((err: unknown) => {
          if (err instanceof GatewayError && err.code === Errors.NOT_FOUND.code) return undefined;
          throw err;
        });
        const view = existing ? await req.config.replace(tenant, 'certificate', name, spec) : await req.config.create(tenant, 'certificate', spec);
        await req.pki.finishRequest(tenant, name);
        return { status: 201, body: view };
      },
    },
  ];
}
