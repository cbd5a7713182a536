/**
 * The "llm-provider" config object: one LLM provider account or server a tenant uses — its type
 * (which adapter speaks to it), base URL, keys (secrets, several for rotation), catalogue of models
 * with their limits and prices, and connection settings.
 *
 * ```yaml
 * llmProviders:
 *   - name: openai
 *     type: openai
 *     keys: { primary: sk-…, secondary: sk-… }
 *     models:
 *       - { name: gpt-4o-mini, contextWindow: 128000, maxOutput: 16384 }
 * ```
 */

import { z } from 'zod';
import { DurationSchema, NameSchema } from '../../model/common.js';
import { REDACTED, UpstreamTlsSchema } from '../../model/service.js';

const HeaderNameSchema = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name');
const HeaderValueSchema = z.string().max(8192).regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');

/** Prices in US dollars per million tokens. */
export const ModelPricingSchema = z
  .object({
    input: z.number().nonnegative().describe('USD per 1M input (prompt) tokens'),
    output: z.number().nonnegative().describe('USD per 1M output (completion) tokens, reasoning included'),
    cachedInput: z.number().nonnegative().optional().describe('USD per 1M cached input tokens; default: the input price'),
  })
  .strict();

/** A model id as providers spell them: letters, digits and . _ - : / @ (e.g. "anthropic.claude-3-5-sonnet-20240620-v1:0"). */
export const ModelIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/, 'must be a model id (letters, digits, ".", "_", "-", ":", "/", "@")');

export const ProviderModelSchema = z
  .object({
    name: ModelIdSchema.describe('Model id clients use after the provider name ("openai/gpt-4o-mini")'),
    upstreamModel: ModelIdSchema.optional().describe('Model id sent to the provider (an Azure deployment name, a Bedrock model id…); default `name`'),
    contextWindow: z.number().int().min(1).optional().describe('Most tokens of prompt plus output; longer requests are refused with 400 before sending'),
    maxOutput: z.number().int().min(1).optional().describe('Most output tokens a request may ask for'),
    pricing: ModelPricingSchema.optional().describe('Prices; default: the built-in table for well-known models, else free'),
    embeddings: z.boolean().default(false).describe('An embeddings model (served on /v1/embeddings)'),
  })
  .strict();

export const LlmProviderSpecSchema = z
  .object({
    name: NameSchema,
    type: z.string().min(1).max(63).describe('Adapter: openai, azure-openai, anthropic, gemini, vertex, mistral, cohere, bedrock, groq, together, deepseek, openrouter, ollama, vllm, llamacpp, openai-compatible'),
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine((u) => {
        const p = new URL(u);
        return p.search === '' && p.hash === '' && p.username === '' && p.password === '';
      }, 'must not contain query, fragment or credentials')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe("API base URL; default: the type's public endpoint"),
    keys: z
      .record(NameSchema, z.string().min(1).max(8192))
      .default({})
      .describe(`Key name → API key (Vertex: service-account JSON; Bedrock: ACCESS_KEY_ID:SECRET[:SESSION_TOKEN]). Secrets: encrypted at rest, shown as "${REDACTED}". Several keys are used in turn; a key answered 401 or 429 rests for \`keyCooldown\`.`),
    options: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), z.string().max(1000)).default({}).describe('Adapter settings: azure-openai `apiVersion`; bedrock `region`; vertex `project`, `location`'),
    headers: z.record(HeaderNameSchema, HeaderValueSchema).default({}).describe('Headers added to every request to the provider'),
    models: z.array(ProviderModelSchema).max(1000).default([]).describe('The models offered; empty: any model id is passed through, without limits or prices'),
    timeouts: z
      .object({
        connect: DurationSchema.default(10_000),
        headers: DurationSchema.default(120_000).describe('Longest wait for the response head (a slow model thinks before answering)'),
        body: DurationSchema.default(120_000).describe('Longest gap between two response chunks'),
      })
      .strict()
      .default({ connect: 10_000, headers: 120_000, body: 120_000 }),
    connections: z.number().int().min(1).max(10_000).default(128).describe('Connection pool size'),
    keyCooldown: DurationSchema.default(60_000).describe('How long a key answered 401/403/429 is left out (a 429 Retry-After extends it)'),
    tls: UpstreamTlsSchema.optional().describe('TLS to an https:// base URL: trusted CAs, client certificate (mutual TLS), pins'),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.models.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: `duplicate model "${m.name}"` });
      seen.add(m.name);
      if (m.maxOutput !== undefined && m.contextWindow !== undefined && m.maxOutput > m.contextWindow) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'maxOutput'], message: 'must not exceed contextWindow' });
      }
    });
  });

export type LlmProviderSpec = z.output<typeof LlmProviderSpecSchema>;
export type ProviderModel = z.output<typeof ProviderModelSchema>;
export type ModelPricing = z.output<typeof ModelPricingSchema>;
