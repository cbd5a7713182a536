/**
 * The terminal handler of an LLM service's routes. Dispatches on the end of the path, so a route
 * at `/v1` (OpenAI SDK base URL `https://gw/v1`, Anthropic SDK base URL `https://gw`) or at any
 * prefix serves:
 *
 * | method | path ends with        | API                                   |
 * |--------|-----------------------|---------------------------------------|
 * | POST   | `/chat/completions`   | OpenAI Chat Completions               |
 * | POST   | `/messages`           | Anthropic Messages                    |
 * | POST   | `/embeddings`         | OpenAI Embeddings                     |
 * | GET    | `/models`             | OpenAI model list (what the caller may use) |
 * | GET    | `/models/{id}`        | one model                             |
 */

import { gatewayError } from '../../core/errors.js';
import { readJsonBody } from '../../core/json-body.js';
import type { RequestContext } from '../../pipeline/context.js';
import { execute } from '../routing/executor.js';
import { ProviderError } from '../providers/provider.js';
import type { EmbeddingsResponse } from '../wire/chat.js';
import { handleChat } from './chat-call.js';
import type { ClientFormat } from './client-format.js';
import { modelAllowed, resolveModel, usageBase, type LlmEnv } from './llm-env.js';
import { clientAbort, sendError, sendJsonAnswer } from './llm-response.js';
import { parseEmbeddingsRequest } from './openai-request.js';
import { costNanoUsd, effectivePrice } from '../usage/cost.js';

export interface LlmFormats {
  readonly openai: ClientFormat;
  readonly anthropic: ClientFormat;
}

/** The models this caller may use, in OpenAI's list shape. */
function listModels(ctx: RequestContext, env: LlmEnv): Array<{ id: string; object: 'model'; created: number; owned_by: string }> {
  const scopes = ctx.caller?.modelScopes;
  return env.catalog
    .modelIds(env.tenant)
    .filter((m) => modelAllowed(m.id, env.spec.models) && (!scopes || modelAllowed(m.id, scopes)))
    .map((m) => ({ id: m.id, object: 'model' as const, created: 0, owned_by: m.ownedBy }));
}

/** Float vectors as OpenAI's base64 encoding: little-endian float32. */
function base64Vector(v: number[] | string): string {
  if (typeof v === 'string') return v;
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

async function handleEmbeddings(ctx: RequestContext, env: LlmEnv, format: ClientFormat): Promise<void> {
  const req = parseEmbeddingsRequest(await readJsonBody(ctx.req, env.spec.maxRequestBody));
  const rec = usageBase(env, ctx, req.model, 'embeddings', false);
  const client = clientAbort(ctx);
  try {
    const policy = resolveModel(env, ctx, req.model);
    const unsuitable = (d: { provider: { adapter: { embeddings?: unknown }; name: string } }) =>
      d.provider.adapter.embeddings ? undefined : new ProviderError('status', 400, 'invalid_request_error', `Provider "${d.provider.name}" has no embeddings API`);
    // Providers are asked for floats; the base64 encoding (the OpenAI SDK's default) is made here.
    const { encoding_format: encoding, ...upstream } = req;
    const ex = await execute<EmbeddingsResponse>({ policy, health: env.health, client: client.link, unsuitable }, (target, io, d) =>
      d.provider.adapter.embeddings!({ ...upstream, model: target.model }, target, io),
    );
    const out = ex.value;
    if (encoding === 'base64') for (const d of out.data) d.embedding = base64Vector(d.embedding);
    rec.provider = ex.deployment.provider.name;
    rec.deployment = `${ex.deployment.provider.name}/${ex.deployment.model}`;
    rec.attempts = ex.attempts;
    rec.inputTokens = out.usage?.prompt_tokens ?? 0;
    rec.costNanoUsd = costNanoUsd({ input: rec.inputTokens, output: 0, cachedInput: 0, reasoning: 0 }, effectivePrice(ex.deployment.pricing, ex.deployment.upstreamModel));
    rec.outcome = 'ok';
    rec.status = 200;
    sendJsonAnswer(ctx, out, { provider: rec.provider, deployment: rec.deployment, attempts: ex.attempts });
  } catch (err) {
    if (!(err instanceof ProviderError) && !(err instanceof Error && 'status' in err)) throw err;
    const e = err as ProviderError;
    rec.status = e.status;
    if (client.link.gone) rec.outcome = 'aborted';
    sendError(ctx, format, e);
  } finally {
    client.done();
    rec.latencyMs = performance.now() - ctx.startedAt;
    env.ledger.record(rec);
  }
}

export function createLlmHandler(env: LlmEnv, formats: LlmFormats): (ctx: RequestContext) => Promise<void> {
  return async (ctx) => {
    const path = ctx.path;
    const method = ctx.req.method;
    if (method === 'POST') {
      if (path.endsWith('/chat/completions')) return handleChat(ctx, env, formats.openai);
      if (path.endsWith('/messages')) return handleChat(ctx, env, formats.anthropic);
      if (path.endsWith('/embeddings')) return handleEmbeddings(ctx, env, formats.openai);
    } else if (method === 'GET' || method === 'HEAD') {
      if (path.endsWith('/models')) return sendJsonAnswer(ctx, { object: 'list', data: listModels(ctx, env) });
      const at = path.lastIndexOf('/models/');
      if (at !== -1) {
        const id = decodeURIComponent(path.slice(at + '/models/'.length));
        const model = listModels(ctx, env).find((m) => m.id === id);
        if (!model) throw gatewayError('MODEL_NOT_FOUND', `The model "${id}" does not exist or you do not have access to it`);
        return sendJsonAnswer(ctx, model);
      }
    }
    throw gatewayError('ENDPOINT_NOT_FOUND', `This LLM service has no endpoint ${method ?? ''} ${path}`);
  };
}
