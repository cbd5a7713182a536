/**
 * Zod schemas of the admin API's wire formats that are not model specs: query parameters, headers,
 * response envelopes and errors. Requests are validated with these (and the model schemas), and the
 * OpenAPI document is generated from the very same objects.
 */

import { z } from 'zod';
import { ConfigChangeSchema } from '../config/config-diff.js';
import { SPEC_SCHEMAS } from '../config/config-service.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../config/pagination.js';
import { gatewayError } from '../core/errors.js';
import { NameSchema } from '../model/common.js';
import type { ConfigKind } from '../storage/store.js';

export const ErrorDetailSchema = z
  .object({
    path: z.string().describe('Dotted field path (relative to the request body), or a parameter name'),
    message: z.string(),
    line: z.number().int().optional(),
    column: z.number().int().optional(),
  })
  .strict();

export const ErrorResponseSchema = z
  .object({
    error: z
      .object({
        type: z.string().describe('Stable snake_case category'),
        code: z.string().describe('Stable machine code, PC_ERR_…'),
        message: z.string(),
        details: z.array(ErrorDetailSchema).optional(),
      })
      .strict(),
  })
  .strict();

// --- parameters ------------------------------------------------------------------------------

export const TenantParamSchema = NameSchema.describe('Tenant name');
export const NameParamSchema = NameSchema.describe('Object name');

export const LimitQuerySchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .describe(`Page size, 1-${MAX_PAGE_LIMIT}`);
export const CursorQuerySchema = z.string().min(1).max(256).optional().describe('The `next` value of the previous page');
export const DryRunQuerySchema = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true')
  .describe('Validate and report the changes without applying them');
export const IfMatchHeaderSchema = z
  .string()
  .regex(/^(?:W\/)?(?:"\d{1,15}"|\d{1,15}|\*)$/, 'must be a version number such as 3 (or "3"), or *')
  .describe('Expected current version (optimistic concurrency); 409 when it differs');

/** Parses a parameter with its schema; throws VALIDATION naming the parameter. */
export function parseParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const message = r.error.issues[0]?.message ?? 'is invalid';
  throw gatewayError('VALIDATION', `Invalid ${name}: ${message}`, [{ path: name, message }]);
}

/** The version an If-Match header asks for; undefined when absent or `*`. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = parseParam(IfMatchHeaderSchema, header.trim(), 'If-Match');
  const digits = /\d+/.exec(value)?.[0];
  return digits === undefined ? undefined : Number(digits);
}

// --- bodies ----------------------------------------------------------------------------------

export const TenantSchema = z
  .object({
    name: z.string(),
    displayName: z.string().nullable(),
    createdAt: z.string().describe('ISO-8601'),
    updatedAt: z.string().describe('ISO-8601'),
  })
  .strict();

/** A config object as returned by reads (spec canonical, secrets "<redacted>"). */
export function objectSchema(kind: ConfigKind) {
  return z
    .object({
      name: z.string(),
      spec: SPEC_SCHEMAS[kind],
      version: z.number().int().min(1).describe('Starts at 1, +1 on every change; send it as If-Match'),
      createdAt: z.string().describe('ISO-8601'),
      updatedAt: z.string().describe('ISO-8601'),
    })
    .strict();
}

/** The PUT body: the spec, whose `name` may be omitted (it comes from the URL). */
export function replaceBodySchema(kind: ConfigKind) {
  const schema = SPEC_SCHEMAS[kind];
  // Schemas with object-level refinements cannot be made partial: document the full spec (the
  // handler still fills `name` from the URL).
  return schema instanceof z.ZodObject && !schema.def.checks?.length ? (schema as z.ZodObject<{ name: z.ZodString }>).partial({ name: true }) : schema;
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .object({
      items: z.array(item),
      next: z.string().optional().describe('Present when more items may follow: pass it as `cursor`'),
    })
    .strict();
}

export const ApplyResultSchema = z
  .object({
    applied: z.boolean().describe('False for a dry run'),
    changes: z.array(ConfigChangeSchema),
    revision: z.number().int().describe('Config revision after the apply'),
  })
  .strict();

export const HealthSchema = z.object({ status: z.literal('ok') }).strict();
export const ReadySchema = z.object({ status: z.literal('ready'), revision: z.number().int() }).strict();
