import { z } from 'zod';
import { DurationSchema, NameSchema, PluginConfigMapSchema } from './common.js';

/** Marks a string field as a secret: encrypted at rest, redacted on read. */
export const REDACTED = '<redacted>';

const HeaderNameSchema = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name');
const HeaderValueSchema = z.string().max(8192).regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');

export const UpstreamTargetSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine((u) => {
        const p = new URL(u);
        return p.search === '' && p.hash === '' && p.username === '' && p.password === '';
      }, 'must not contain query, fragment or credentials')
      .describe('Origin of the target, optionally with a base path, e.g. http://10.0.0.5:8080/api'),
    weight: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const UpstreamTimeoutsSchema = z
  .object({
    connect: DurationSchema.default(5000).describe('TCP (and TLS) connect timeout'),
    headers: DurationSchema.default(60_000).describe('Time from sending the request to receiving response headers'),
    body: DurationSchema.default(300_000).describe('Longest gap between two response body chunks'),
    idle: DurationSchema.default(60_000).describe('How long an idle keep-alive connection is kept'),
  })
  .strict();

export const UpstreamSpecSchema = z
  .object({
    targets: z.array(UpstreamTargetSchema).min(1).max(256),
    timeouts: UpstreamTimeoutsSchema.default(() => UpstreamTimeoutsSchema.parse({})),
    connections: z.number().int().min(1).max(10_000).default(256).describe('Connection pool size per target'),
    preserveHost: z.boolean().default(false).describe('Send the client Host header upstream instead of the target host'),
    headers: z.record(HeaderNameSchema, HeaderValueSchema).default({}).describe('Headers added to every upstream request'),
    secretHeaders: z
      .record(HeaderNameSchema, HeaderValueSchema)
      .default({})
      .describe(`Headers added to every upstream request whose values are credentials: encrypted at rest, shown as "${REDACTED}". Sending "${REDACTED}" back keeps the stored value.`),
  })
  .strict();

/** A service: a named upstream that routes send traffic to. */
export const ServiceSpecSchema = z
  .object({
    name: NameSchema,
    upstream: UpstreamSpecSchema,
    plugins: PluginConfigMapSchema.default({}),
  })
  .strict();

export type UpstreamTarget = z.output<typeof UpstreamTargetSchema>;
export type UpstreamSpec = z.output<typeof UpstreamSpecSchema>;
export type ServiceSpec = z.output<typeof ServiceSpecSchema>;
export type ServiceSpecInput = z.input<typeof ServiceSpecSchema>;
