/**
 * A service's `llm` block: the service is an LLM API (OpenAI- and Anthropic-compatible) instead of a
 * proxy to an upstream. Its routes answer `/v1/chat/completions`, `/v1/messages`, `/v1/embeddings`
 * and `/v1/models` under their path, from the tenant's llm-providers and llm-policies.
 *
 * ```yaml
 * services:
 *   - name: ai
 *     llm: { models: [fast, "openai/*"] }
 *     access: { methods: [api-key] }
 *     routes: [{ name: ai, paths: [/v1] }]
 * ```
 */

import { z } from 'zod';
import { ByteSizeSchema, DurationSchema } from '../../model/common.js';

/** A model pattern: a policy name, "provider/model", "provider/*" or "*". */
export const ModelPatternSchema = z
  .string()
  .min(1)
  .max(264)
  .regex(/^(\*|[a-z0-9][a-z0-9._-]*(\/(\*|[A-Za-z0-9][A-Za-z0-9._:@/-]*))?)$/, 'must be "*", a policy name, "provider/model" or "provider/*"');

export const LlmServiceSchema = z
  .object({
    models: z
      .array(ModelPatternSchema)
      .min(1)
      .max(1000)
      .default(['*'])
      .describe('Models callers of this service may use: policy names, "provider/model", "provider/*", or "*" for every policy and provider model of the tenant'),
    maxRequestBody: ByteSizeSchema.default(20 * 1024 * 1024).describe('Largest request body (images make requests large)'),
    cache: z
      .object({
        enabled: z.boolean().default(false).describe('Answer repeated identical non-streaming requests from memory'),
        ttl: DurationSchema.default(300_000),
        maxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .strict()
      .default({ enabled: false, ttl: 300_000, maxEntries: 10_000 })
      .describe('Exact-match response cache, per tenant; a request with `Cache-Control: no-cache` or `no-store` bypasses it'),
  })
  .strict();

export type LlmServiceSpec = z.output<typeof LlmServiceSchema>;
