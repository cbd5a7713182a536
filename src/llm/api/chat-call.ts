/**
 * One chat request, whatever the client format: read and validate, resolve the model to a policy
 * the caller may use, check model limits, answer from the cache, run the policy (fallbacks,
 * retries), write the answer or the stream event by event, and record usage and cost — for
 * answered, failed, cached and aborted requests alike (an aborted stream is charged what was
 * delivered).
 */

import { GatewayError } from '../../core/errors.js';
import { readJsonBody } from '../../core/json-body.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { UsageRecordInput } from '../../storage/llm-usage-records.js';
import { bypassesCache, cacheKey } from '../cache/response-cache.js';
import type { Deployment } from '../catalog/llm-catalog.js';
import { ProviderError } from '../providers/provider.js';
import { execute, type Executed } from '../routing/executor.js';
import { costNanoUsd, effectivePrice } from '../usage/cost.js';
import { promptChars } from '../usage/token-counter.js';
import type { ChatRequest, ChatResponse, TokenCounts } from '../wire/chat.js';
import { tokenCounts } from '../wire/chat.js';
import type { ClientFormat } from './client-format.js';
import { resolveModel, usageBase, type LlmEnv } from './llm-env.js';
import { clientAbort, sendError, sendJsonAnswer, writeStreamed, type StreamState } from './llm-response.js';

/** Limits of a deployment the request exceeds, as a 400, or undefined. */
function limitProblem(d: Deployment, req: ChatRequest, promptTokens: number): ProviderError | undefined {
  const maxOut = req.max_completion_tokens ?? req.max_tokens;
  if (d.maxOutput !== undefined && maxOut !== undefined && maxOut > d.maxOutput) {
    return new ProviderError('status', 400, 'invalid_request_error', `max_tokens is ${maxOut}, but model ${d.provider.name}/${d.model} allows at most ${d.maxOutput} output tokens`, { code: 'max_tokens_exceeded', param: 'max_tokens' });
  }
  if (d.contextWindow !== undefined && promptTokens + (maxOut ?? 0) > d.contextWindow) {
    return new ProviderError('status', 400, 'invalid_request_error', `This request needs ${promptTokens} prompt tokens${maxOut ? ` plus ${maxOut} output tokens` : ''}, but model ${d.provider.name}/${d.model} has a context window of ${d.contextWindow} tokens`, {
      code: 'context_length_exceeded',
      param: 'messages',
    });
  }
  return undefined;
}

/** Prompt size for limit checks: the cheap character bound when it already fits every window, else a real count. */
async function promptSize(env: LlmEnv, req: ChatRequest, windows: number[]): Promise<number> {
  const chars = promptChars(req);
  const smallest = Math.min(...windows);
  const maxOut = req.max_completion_tokens ?? req.max_tokens ?? 0;
  return chars + maxOut <= smallest ? chars : env.tokens.prompt(req);
}

function charge(rec: UsageRecordInput, d: Deployment | undefined, tokens: TokenCounts | undefined, estimated: boolean): void {
  if (!tokens) return;
  rec.inputTokens = tokens.input;
  rec.outputTokens = tokens.output;
  rec.cachedTokens = tokens.cachedInput;
  rec.reasoningTokens = tokens.reasoning;
  rec.estimated = estimated;
  rec.costNanoUsd = d ? costNanoUsd(tokens, effectivePrice(d.pricing, d.upstreamModel)) : 0;
}

function answered<T>(rec: UsageRecordInput, ex: Executed<T>): void {
  rec.provider = ex.deployment.provider.name;
  rec.deployment = `${ex.deployment.provider.name}/${ex.deployment.model}`;
  rec.attempts = ex.attempts;
}

export async function handleChat(ctx: RequestContext, env: LlmEnv, format: ClientFormat): Promise<void> {
  const body = await readJsonBody(ctx.req, env.spec.maxRequestBody);
  const req = format.parse(body);
  const model = req.model;
  const stream = req.stream === true;
  const rec = usageBase(env, ctx, model, format.api, stream);
  const client = clientAbort(ctx);
  try {
    const policy = resolveModel(env, ctx, model);
    const windows = policy.targets.flatMap((t) => (t.deployment.contextWindow === undefined ? [] : [t.deployment.contextWindow]));
    const promptTokens = windows.length > 0 ? await promptSize(env, req, windows) : 0;
    const unsuitable = (d: Deployment) => limitProblem(d, req, promptTokens);

    const useCache = !stream && env.cache !== undefined && !bypassesCache(ctx.req.headers['cache-control']);
    const key = useCache ? cacheKey(env.tenant, format.api, model, req) : undefined;
    if (key !== undefined) {
      const hit = env.cache!.get(key);
      if (hit) {
        rec.provider = hit.provider;
        rec.deployment = hit.deployment;
        rec.outcome = 'cached';
        rec.status = 200;
        sendJsonAnswer(ctx, format.response(hit.response as ChatResponse, model), { provider: hit.provider, deployment: hit.deployment, attempts: 0, cache: 'hit' });
        return;
      }
    }

    if (!stream) {
      const ex = await execute({ policy, health: env.health, client: client.link, unsuitable }, (target, io, d) => d.provider.adapter.chat({ ...req, model: target.model }, target, io));
      answered(rec, ex);
      rec.latencyMs = ex.latencyMs;
      const usage = tokenCounts(ex.value.usage);
      charge(rec, ex.deployment, usage ?? (await estimateAnswer(env, req, ex.value)), usage === undefined);
      rec.outcome = 'ok';
      rec.status = 200;
      if (key !== undefined) env.cache!.set(key, { response: ex.value, provider: rec.provider!, deployment: rec.deployment! }, env.spec.cache.ttl);
      sendJsonAnswer(ctx, format.response(ex.value, model), { provider: rec.provider!, deployment: rec.deployment!, attempts: ex.attempts, cache: key !== undefined ? 'miss' : undefined });
      return;
    }

    const ex = await execute({ policy, health: env.health, client: client.link, unsuitable }, async (target, io, d) => {
      const chunks = await d.provider.adapter.chatStream({ ...req, model: target.model }, target, io);
      const it = chunks[Symbol.asyncIterator]();
      const first = await it.next();
      return { it, first };
    });
    answered(rec, ex);
    rec.ttftMs = ex.latencyMs;
    const state: StreamState = { text: '', usage: undefined, error: undefined, aborted: false };
    await writeStreamed(ctx, ex.value.it, ex.value.first, format.encoder(model, ctx.requestId, req.stream_options?.include_usage === true), state, {
      provider: rec.provider!,
      deployment: rec.deployment!,
      attempts: ex.attempts,
    });
    const usage = tokenCounts(state.usage);
    if (usage) charge(rec, ex.deployment, usage, false);
    else charge(rec, ex.deployment, { input: await env.tokens.prompt(req), output: await env.tokens.text(state.text), cachedInput: 0, reasoning: 0 }, true);
    rec.status = 200;
    rec.outcome = state.aborted ? 'aborted' : state.error ? 'error' : 'ok';
  } catch (err) {
    const e = err instanceof ProviderError || err instanceof GatewayError ? err : undefined;
    if (client.link.gone) rec.outcome = 'aborted';
    rec.status = e?.status ?? 500;
    if (!e) throw err;
    sendError(ctx, format, e);
  } finally {
    client.done();
    rec.latencyMs = performance.now() - ctx.startedAt;
    env.ledger.record(rec);
  }
}

/** Token counts of a non-streaming answer whose provider reported no usage. */
async function estimateAnswer(env: LlmEnv, req: ChatRequest, r: ChatResponse): Promise<TokenCounts> {
  let out = '';
  for (const c of r.choices) {
    out += c.message.content ?? '';
    for (const t of c.message.tool_calls ?? []) out += t.function.name + t.function.arguments;
  }
  return { input: await env.tokens.prompt(req), output: await env.tokens.text(out), cachedInput: 0, reasoning: 0 };
}
