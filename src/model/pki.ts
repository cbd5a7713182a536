import { z } from 'zod';
import { REVOCATION_REASONS, type RevocationReason } from '../pki/crl.js';
import { SharedServerCertificatesSchema, SharedWithSchema } from '../pki/ca-ref.js';
import { NameSchema } from './common.js';

const KeyTypeSchema = z.enum(['ec-p256', 'rsa-2048', 'rsa-3072']).default('ec-p256').describe('Key type of the CA (and of keys it generates): EC P-256 (default), RSA 2048 or 3072');
const TrustDomainSchema = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a DNS-like name (SPIFFE trust domain)')
  .default('portcullis.local')
  .describe('SPIFFE trust domain of client identities: spiffe://<trustDomain>/tenant/<tenant>/app/<application>');
const Lifetime = (dflt: number) => z.number().int().min(1).max(3650).default(dflt);

const CaSettingsShape = {
  name: NameSchema,
  keyType: KeyTypeSchema,
  trustDomain: TrustDomainSchema,
  clientLifetimeDays: Lifetime(90).describe('Default lifetime of client certificates, in days (default 90)'),
  serverLifetimeDays: Lifetime(90).describe('Default lifetime of server certificates, in days (default 90)'),
  description: z.string().max(500).optional(),
  sharedWith: SharedWithSchema.default([]),
  sharedServerCertificates: SharedServerCertificatesSchema.default(false),
};

/** Creating a CA: the gateway generates a root and an issuing intermediate. */
export const CaInputSchema = z
  .object({
    ...CaSettingsShape,
    organization: z.string().max(200).optional().describe('O= of the CA certificates (default: the tenant name)'),
    validityDays: z.number().int().min(30).max(7300).optional().describe('Validity of the root and intermediate, in days (default 3650 and 1825)'),
  })
  .strict();

/** Importing an existing CA: its certificate and private key (PEM), optionally the root above it. */
export const CaImportSchema = z
  .object({
    ...CaSettingsShape,
    certificate: z.string().min(1).max(100_000).describe('PEM certificate of the CA that will sign'),
    key: z.string().min(1).max(20_000).describe('Its PEM private key (unencrypted PKCS#8, SEC1 or PKCS#1). Encrypted at rest, never returned'),
    root: z.string().min(1).max(100_000).optional().describe('PEM root above it, when it is an intermediate'),
  })
  .strict();

const HostSchema = z
  .string()
  .max(253)
  .toLowerCase()
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name');

/** Which other tenants may use a CA (replaces the list; `[]` shares it with nobody). */
export const CaSharingInputSchema = z.object({ sharedWith: SharedWithSchema, sharedServerCertificates: SharedServerCertificatesSchema.default(false) }).strict();

/** Asking a CA for a certificate. */
export const IssueInputSchema = z
  .object({
    usage: z.enum(['client', 'server']).describe('client: identifies an application (mutual TLS); server: for host names'),
    application: NameSchema.optional().describe('client: the application (of this tenant) the certificate identifies'),
    hosts: z.array(HostSchema).min(1).max(100).optional().describe("server: host names, each covered by one of the tenant's domains"),
    csr: z.string().min(1).max(100_000).optional().describe('PEM certificate signing request: the key stays with the requester. Without it, the gateway generates the key and returns it once'),
    lifetimeDays: z.number().int().min(1).max(3650).optional().describe("Validity in days (default: the CA's setting); never beyond the CA's own"),
    pkcs12Password: z.string().min(8).max(200).optional().describe('Password of the PKCS#12 returned with a generated key (default: a random one, returned once)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.usage === 'client' && v.application === undefined) ctx.addIssue({ code: 'custom', path: ['application'], message: 'is required for a client certificate' });
    if (v.usage === 'client' && v.hosts !== undefined) ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'is for server certificates' });
    if (v.usage === 'server' && v.hosts === undefined) ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'is required for a server certificate' });
    if (v.usage === 'server' && v.application !== undefined) ctx.addIssue({ code: 'custom', path: ['application'], message: 'is for client certificates' });
    if (v.csr !== undefined && v.pkcs12Password !== undefined) ctx.addIssue({ code: 'custom', path: ['pkcs12Password'], message: 'is for generated keys; with a CSR the key stays with you' });
  });

/** The RFC 5280 reasons a revocation may give (removeFromCRL is for delta CRLs, never a revocation). */
const REVOKE_REASONS = REVOCATION_REASONS.filter((r) => r !== 'removeFromCRL') as [Exclude<RevocationReason, 'removeFromCRL'>, ...Array<Exclude<RevocationReason, 'removeFromCRL'>>];

const RevokeReasonSchema = z.enum(REVOKE_REASONS).default('unspecified').describe('RFC 5280 reason code');

export const PkiRevokeInputSchema = z.object({ reason: RevokeReasonSchema }).strict();

/** A CA owner revoking by serial any certificate its CA issued (including for tenants it is shared with). */
export const CaRevokeInputSchema = z
  .object({ serial: z.string().regex(/^[0-9A-Fa-f:]{1,100}$/, 'must be a hex serial number (colons allowed)').describe('Serial number, hex'), reason: RevokeReasonSchema })
  .strict();

/** A key and CSR for one of the tenant's own certificates, to take to a public CA. */
export const CertificateRequestInputSchema = z
  .object({
    name: NameSchema.describe('Name of the certificate the returned chain will be installed as'),
    hosts: z.array(HostSchema).min(1).max(100).describe('Host names for the CSR (the first is also the CN)'),
    keyType: z.enum(['ec-p256', 'rsa-2048', 'rsa-3072']).default('ec-p256'),
  })
  .strict();

/** The chain a CA returned for a request: leaf first, then intermediates (the root may be left out). */
export const ChainInstallInputSchema = z.object({ chain: z.string().min(1).max(200_000) }).strict();
