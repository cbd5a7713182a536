/**
 * Generates the admin API's OpenAPI 3.1 document from the route table and the zod schemas the
 * endpoints validate with (request bodies and parameters as their *input* JSON Schema, responses as
 * their *output*). Nothing here is written by hand per endpoint, so the document cannot drift from
 * what the server serves.
 */

import { z } from 'zod';
import { ByteSizeSchema, DurationSchema } from '../model/common.js';
import { MAX_BODY_BYTES } from './admin-http.js';
import { PATH_PARAMS, type AdminRoute, type NamedSchema, type ParamSpec } from './admin-routes.js';
import { ErrorResponseSchema } from './admin-schemas.js';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: malformed JSON, or validation failed (`details` name the fields)',
  401: 'Missing or invalid bearer token',
  403: 'The token may not do this',
  404: 'No such tenant or object',
  405: 'Method not allowed on this path (see `Allow`)',
  409: 'Conflict: duplicate name, version mismatch (If-Match), object still in use, or overlapping routes',
  413: `Request body larger than ${MAX_BODY_BYTES} bytes`,
  415: 'Content-Type is not application/json',
  500: 'Internal error',
  503: 'Storage unavailable, or not ready',
};

/** JSON Schema of a zod schema, as embedded in the document (no `$schema`). */
export function jsonSchemaOf(schema: z.ZodType, io: Io): JsonSchema {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override(ctx) {
      // Durations and sizes are stored and returned as integers (ms, bytes).
      if (io === 'output' && (ctx.zodSchema === DurationSchema || ctx.zodSchema === ByteSizeSchema)) {
        ctx.jsonSchema.type = 'integer';
        ctx.jsonSchema.minimum = 0;
      }
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

function jsonContent(ref: string) {
  return { 'application/json': { schema: { $ref: ref } } };
}

function pathParams(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1]!);
}

function parameterKey(location: 'path' | 'query' | 'header', name: string): string {
  return location === 'header' ? name.replace(/[^A-Za-z0-9]/g, '') : name;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  security: Array<Record<string, string[]>>;
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, Record<string, unknown>>;
  };
}

/** Builds the document. Throws when two different schemas claim one component name. */
export function buildOpenApiDocument(routes: readonly AdminRoute[], opts: { version: string }): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { Error: jsonSchemaOf(ErrorResponseSchema, 'output') };
  const owners = new Map<string, z.ZodType>([['Error', ErrorResponseSchema]]);
  const parameters: Record<string, Record<string, unknown>> = {};
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();

  const schemaRef = (named: NamedSchema, io: Io): string => {
    const owner = owners.get(named.name);
    if (owner && owner !== named.schema) throw new Error(`OpenAPI component "${named.name}" is claimed by two schemas`);
    if (!owner) {
      owners.set(named.name, named.schema);
      schemas[named.name] = jsonSchemaOf(named.schema, io);
    }
    return `#/components/schemas/${named.name}`;
  };

  const parameterRef = (location: 'path' | 'query' | 'header', spec: ParamSpec): { $ref: string } => {
    const key = parameterKey(location, spec.name);
    if (!parameters[key]) {
      const schema = jsonSchemaOf(spec.schema, 'input');
      const description = typeof schema.description === 'string' ? schema.description : undefined;
      delete schema.description;
      const optional = spec.schema.safeParse(undefined).success;
      parameters[key] = { name: spec.name, in: location, required: location === 'path' || !optional, schema, ...(description ? { description } : {}) };
    }
    return { $ref: `#/components/parameters/${key}` };
  };

  for (const route of routes) {
    tags.add(route.tag);
    const params = [
      ...pathParams(route.path).map((name) => {
        const schema = PATH_PARAMS[name];
        if (!schema) throw new Error(`no schema for path parameter {${name}} of ${route.path}`);
        return parameterRef('path', { name, schema });
      }),
      ...(route.query ?? []).map((q) => parameterRef('query', q)),
      ...(route.headers ?? []).map((h) => parameterRef('header', h)),
    ];
    const responses: Record<string, unknown> = {
      [String(route.success.status)]: {
        description: route.success.description,
        ...(route.success.contentType
          ? { content: { [route.success.contentType]: { schema: { type: 'string' } } } }
          : route.success.body
            ? { content: jsonContent(schemaRef(route.success.body, 'output')) }
            : route.success.status === 204
              ? {}
              : { content: { 'application/json': { schema: { type: 'object' } } } }),
        ...(route.success.headers?.length ? { headers: Object.fromEntries(route.success.headers.map((h) => [h, { schema: { type: 'string' } }])) } : {}),
      },
    };
    for (const status of [...route.errors, 500]) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: jsonContent('#/components/schemas/Error'),
        ...(status === 401 ? { headers: { 'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } } } } : {}),
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(route.body ? { requestBody: { required: true, content: jsonContent(schemaRef(route.body, 'input')) } } : {}),
      responses,
      ...(route.permission === null ? { security: [] } : {}),
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis Admin API',
      version: opts.version,
      description:
        'Manage tenants, services and routes of a Portcullis gateway. Every error is `{"error":{"type","code","message","details"}}`; ' +
        'request bodies are JSON (`Content-Type: application/json`, at most 1 MiB). Secret values are write-only: reads show "<redacted>", ' +
        'and sending "<redacted>" back keeps the stored value.',
    },
    security: [{ bearerAuth: [] }],
    tags: [...tags].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token (`pca_…`), sent as `Authorization: Bearer <token>`' },
      },
      schemas,
      parameters,
    },
  };
}
