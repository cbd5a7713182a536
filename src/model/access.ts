import { z } from 'zod';
import { NameSchema } from './common.js';

/** How a caller may prove who it is. */
export const AUTH_METHODS = ['api-key', 'jwt', 'oauth2', 'mtls'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/**
 * Who may call a service. Without an `access` block a service is public: anyone who can reach its
 * routes may call it. With one, every call needs an authenticated application with an approved
 * subscription.
 */
export const ServiceAccessSchema = z
  .object({
    methods: z
      .array(z.enum(AUTH_METHODS))
      .min(1)
      .max(AUTH_METHODS.length)
      .refine((m) => new Set(m).size === m.length, 'must not repeat a method')
      .describe('Accepted authentication methods'),
    require: z
      .enum(['any', 'all'])
      .default('any')
      .describe('`any`: one accepted method suffices. `all`: every listed method must succeed and name the same application (for example mtls + api-key)'),
    approval: z.enum(['auto', 'manual']).default('manual').describe('Whether subscription requests are approved at once or wait for a tenant admin'),
    sharedWith: z.array(NameSchema).max(1000).default([]).describe('Other tenants whose applications may see and subscribe to this service'),
    forwardIdentity: z
      .boolean()
      .default(true)
      .describe('Send the caller upstream as x-portcullis-tenant, -application, -credential and -auth-method (always removed from client requests)'),
    notify: z
      .object({
        url: z.url({ protocol: /^https?$/ }).describe('Webhook notified (POST, JSON) of new subscription requests'),
        secret: z.string().min(16).max(1024).optional().describe('HMAC-SHA-256 key signing the body (header x-portcullis-signature: sha256=<hex>). Secret: encrypted at rest, shown as "<redacted>"'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ServiceAccess = z.output<typeof ServiceAccessSchema>;
