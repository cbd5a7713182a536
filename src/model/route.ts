import { z } from 'zod';
import { NameSchema, PluginConfigMapSchema } from './common.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const PathSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^\/[^\s?#]*$/, 'must start with "/" and contain no spaces, "?" or "#"');

/**
 * A path match. `prefix` matches on segment boundaries: "/api" matches "/api" and "/api/x", not "/apix".
 * A string is shorthand for a prefix match.
 */
export const PathMatchSchema = z.union([
  PathSchema.transform((path) => ({ path, match: 'prefix' as const })),
  z.object({ path: PathSchema, match: z.enum(['prefix', 'exact']).default('prefix') }).strict(),
]);

/**
 * A host pattern: an exact name ("api.example.com") or a leading wildcard ("*.example.com", which matches
 * exactly one more label). Matching is case-insensitive and ignores the port.
 */
export const HostPatternSchema = z
  .string()
  .max(253)
  .regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a host name, optionally starting with "*."')
  .transform((h) => h.toLowerCase());

/** A route: which requests (host, path, method) go to which service, with which plugins. */
export const RouteSpecSchema = z
  .object({
    name: NameSchema,
    service: NameSchema.describe('Name of the service in the same tenant'),
    hosts: z.array(HostPatternSchema).max(100).default([]).describe('Host patterns; empty matches any host'),
    paths: z.array(PathMatchSchema).min(1).max(100),
    methods: z.array(z.enum(HTTP_METHODS)).max(HTTP_METHODS.length).default([]).describe('Allowed methods; empty allows all'),
    stripPath: z.boolean().default(false).describe('Remove the matched prefix before forwarding'),
    plugins: PluginConfigMapSchema.default({}),
  })
  .strict();

export type PathMatch = z.output<typeof PathMatchSchema>;
export type RouteSpec = z.output<typeof RouteSpecSchema>;
export type RouteSpecInput = z.input<typeof RouteSpecSchema>;
