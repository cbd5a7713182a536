/** Wire schemas of the access endpoints (credentials, subscriptions, admin tokens, audit), for validation and OpenAPI. */

import { z } from 'zod';
import { DurationSchema, NameSchema } from '../model/common.js';
import { CredentialScopesSchema } from '../model/credential.js';
import { ADMIN_ROLES } from './roles.js';

export const IdParamSchema = z.uuid().describe('Record id (UUID)');

const Instant = z.string().describe('ISO-8601');
const NullableInstant = z.string().nullable().describe('ISO-8601, or null');

export const CredentialSchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    application: z.string(),
    type: z.enum(['api-key', 'oauth-client']),
    prefix: z.string().describe('Public identifier: the first characters of the API key, or the OAuth2 client_id'),
    description: z.string().nullable(),
    scopes: CredentialScopesSchema,
    boundCertificate: z.string().nullable().describe('SHA-256 fingerprint of the bound client certificate'),
    expiresAt: NullableInstant,
    revokedAt: NullableInstant,
    createdAt: Instant,
    lastUsedAt: NullableInstant.describe('Last successful use (recorded within about 10 seconds)'),
  })
  .strict();

export const IssuedCredentialSchema = z
  .object({
    credential: CredentialSchema,
    secret: z.string().describe('The API key, or the OAuth2 client_secret. Shown only in this response.'),
    clientId: z.string().optional().describe('OAuth2 client_id (oauth-client credentials)'),
    previous: CredentialSchema.optional().describe('After a rotation: the old credential, with its new expiry'),
  })
  .strict();

export const SubscriptionSchema = z
  .object({
    id: z.string(),
    tenant: z.string().describe("The application's tenant"),
    application: z.string(),
    serviceTenant: z.string(),
    service: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'revoked']),
    comment: z.string().nullable(),
    requestedBy: z.string().nullable(),
    decidedBy: z.string().nullable(),
    requestedAt: Instant,
    decidedAt: NullableInstant,
    updatedAt: Instant,
  })
  .strict();

export const SubscriptionStatusQuerySchema = z.enum(['pending', 'approved', 'rejected', 'revoked']).optional().describe('Only subscriptions with this status');
export const ApplicationQuerySchema = NameSchema.optional().describe('Only this application');

export const AdminTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tenant: z.string().nullable().describe('The one tenant the token can reach; null for platform administrators'),
    role: z.enum(ADMIN_ROLES),
    createdAt: Instant,
    expiresAt: NullableInstant,
    revokedAt: NullableInstant,
  })
  .strict();

export const AdminTokenInputSchema = z
  .object({
    name: z.string().min(1).max(100),
    role: z.enum(ADMIN_ROLES),
    tenant: NameSchema.optional().describe('Required for every role but platform-admin (which must not have one)'),
    expiresIn: DurationSchema.optional().describe('Lifetime; default 90 days'),
  })
  .strict();

export const IssuedAdminTokenSchema = z.object({ token: z.string().describe('Shown only in this response'), record: AdminTokenSchema }).strict();

export const AuditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: Instant,
    tenant: z.string().nullable(),
    actor: z.object({ id: z.string(), name: z.string(), role: z.string().nullable(), tenant: z.string().nullable() }).strict(),
    action: z.string(),
    object: z.object({ kind: z.string(), name: z.string() }).strict().nullable(),
    diff: z.object({ before: z.unknown(), after: z.unknown() }).strict().nullable(),
    sourceIp: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .strict();

export const AuditPageSchema = z.object({ items: z.array(AuditEntrySchema), next: z.string().optional() }).strict();

export const AuditReportSchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: z.string() }).strict().nullable(),
    problem: z.object({ seq: z.number().int(), kind: z.enum(['edited', 'deleted', 'inserted']), message: z.string() }).strict().nullable(),
  })
  .strict();

export const AfterQuerySchema = z.coerce.number().int().min(0).optional().describe('Entries after this seq');
export const AuditLimitQuerySchema = z.coerce.number().int().min(1).max(1000).default(100).describe('Page size, 1-1000');
export const AuditTenantQuerySchema = NameSchema.optional().describe("Only this tenant's entries (tenant-scoped tokens always get only their own)");

export const WhoAmISchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(ADMIN_ROLES), tenant: z.string().nullable(), permissions: z.array(z.string()) })
  .strict();
