/**
 * The gateway-wide part of the LLM data plane, created once per gateway and kept across config
 * snapshots: provider adapters, deployment health (circuit breakers, resting keys, latency), the
 * usage ledger, the token counter, the client formats and the response caches (one per service).
 * Snapshots build their catalogue and handlers on top of it.
 */

import type { Logger } from 'pino';
import type { LlmUsageStore } from '../../storage/llm-usage-records.js';
import { parseChatRequest } from '../api/openai-request.js';
import { openAiFormat, type ClientFormat } from '../api/client-format.js';
import type { LlmFormats } from '../api/llm-handler.js';
import { MemoryResponseCache, type ResponseCacheStore } from '../cache/response-cache.js';
import { anthropicErrorBody, anthropicMessageId, anthropicRequestToCanonical, AnthropicStreamEncoder, canonicalToAnthropicResponse } from '../formats/anthropic-format.js';
import type { LlmServiceSpec } from '../model/llm-service-spec.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import { DeploymentHealth } from '../routing/deployment-health.js';
import { TokenCounter } from '../usage/token-counter.js';
import { UsageLedger, type LedgerOptions } from '../usage/usage-ledger.js';

const anthropicFormat: ClientFormat = {
  api: 'messages',
  parse: anthropicRequestToCanonical,
  errorBody: (status, _type, message) => anthropicErrorBody(status, message),
  response: canonicalToAnthropicResponse,
  encoder: (model, requestId) => {
    const enc = new AnthropicStreamEncoder(model, anthropicMessageId(requestId));
    return { push: (c) => enc.push(c), end: () => enc.end(), error: (_status, type, message) => enc.error(type, message) };
  },
};

export interface LlmRuntimeOptions {
  readonly adapters: ProviderRegistry;
  readonly usage: LlmUsageStore;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly ledger?: LedgerOptions;
}

export class LlmRuntime {
  readonly adapters: ProviderRegistry;
  readonly health: DeploymentHealth;
  readonly tokens = new TokenCounter();
  readonly ledger: UsageLedger;
  readonly formats: LlmFormats = { openai: openAiFormat(parseChatRequest), anthropic: anthropicFormat };
  readonly logger: Logger;
  private readonly caches = new Map<string, { size: number; cache: MemoryResponseCache }>();
  private readonly now: () => number;

  constructor(opts: LlmRuntimeOptions) {
    this.adapters = opts.adapters;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.health = new DeploymentHealth(this.now);
    this.ledger = new UsageLedger(opts.usage, opts.logger, opts.ledger);
  }

  /** The response cache of a service (kept across snapshots while its size setting is unchanged), or undefined when caching is off. */
  cacheFor(tenant: string, service: string, spec: LlmServiceSpec): ResponseCacheStore | undefined {
    const key = `${tenant}/${service}`;
    if (!spec.cache.enabled) {
      this.caches.delete(key);
      return undefined;
    }
    const existing = this.caches.get(key);
    if (existing && existing.size === spec.cache.maxEntries) return existing.cache;
    const cache = new MemoryResponseCache(spec.cache.maxEntries, this.now);
    this.caches.set(key, { size: spec.cache.maxEntries, cache });
    return cache;
  }

  /** Writes queued usage records. */
  close(): Promise<void> {
    return this.ledger.close();
  }
}
