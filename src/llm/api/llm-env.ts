import type { Logger } from 'pino';
import { gatewayError } from '../../core/errors.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { UsageRecordInput } from '../../storage/llm-usage-records.js';
import type { ResponseCacheStore } from '../cache/response-cache.js';
import type { LlmCatalog, ResolvedPolicy } from '../catalog/llm-catalog.js';
import type { LlmServiceSpec } from '../model/llm-service-spec.js';
import type { DeploymentHealth } from '../routing/deployment-health.js';
import type { TokenCounter } from '../usage/token-counter.js';
import type { UsageLedger } from '../usage/usage-ledger.js';

/** What the LLM endpoints of one route work with: gateway-wide machinery plus the snapshot's catalogue. */
export interface LlmEnv {
  readonly tenant: string;
  readonly service: string;
  readonly route: string;
  readonly spec: LlmServiceSpec;
  readonly catalog: LlmCatalog;
  readonly health: DeploymentHealth;
  readonly ledger: UsageLedger;
  readonly tokens: TokenCounter;
  /** The tenant's response cache, when the service enables caching. */
  readonly cache: ResponseCacheStore | undefined;
  readonly logger: Logger;
}

/** Whether a model id matches one of a service's or credential's patterns ("*", "alias", "provider/*", "provider/model"). */
export function modelAllowed(model: string, patterns: Iterable<string>): boolean {
  for (const p of patterns) {
    if (p === '*' || p === model) return true;
    if (p.endsWith('/*') && model.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

/**
 * The policy for a request's model, checked against the service's models and the caller's
 * credential scopes. Unknown and not-allowed models answer the same 404, so a caller cannot probe
 * which models exist beyond what it may use.
 */
export function resolveModel(env: LlmEnv, ctx: RequestContext, model: string): ResolvedPolicy {
  const scopes = ctx.caller?.modelScopes;
  const policy = modelAllowed(model, env.spec.models) && (!scopes || modelAllowed(model, scopes)) ? env.catalog.resolve(env.tenant, model) : undefined;
  if (!policy) throw gatewayError('MODEL_NOT_FOUND', `The model "${model}" does not exist or you do not have access to it`);
  return policy;
}

/** A usage record's fields known before the call. */
export function usageBase(env: LlmEnv, ctx: RequestContext, model: string, api: string, stream: boolean): UsageRecordInput {
  return {
    tenant: env.tenant,
    at: new Date(ctx.startedAtEpoch).toISOString(),
    requestId: ctx.requestId,
    service: env.service,
    route: env.route,
    application: ctx.caller?.application ?? null,
    credential: ctx.caller?.credentialId ?? null,
    model,
    provider: null,
    deployment: null,
    api,
    stream,
    status: 0,
    outcome: 'error',
    estimated: false,
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    costNanoUsd: 0,
    attempts: 0,
    latencyMs: 0,
    ttftMs: null,
  };
}
