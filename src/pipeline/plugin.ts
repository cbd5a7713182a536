import type { z } from 'zod';
import type { Logger } from 'pino';
import type { RequestContext } from './context.js';

/** A hook's result: nothing, or a promise of nothing. Throw a GatewayError to end the request. */
export type HookResult = void | Promise<void>;
export type RequestHook = (ctx: RequestContext) => HookResult;

/** Response head as the client will receive it; `onResponse` hooks may change it in place. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A streaming, synchronous body transform; returns the bytes to send (or nothing) for each input. */
export interface BodyTransform {
  transform(chunk: Buffer): Buffer | undefined;
  /** Called once at the end of the body; returns final bytes, if any. */
  flush(): Buffer | undefined;
}

/**
 * A plugin's per-route (or global) instance, created once per config snapshot. Each optional member
 * joins the phase of the same name (see phases.ts). Instances must be safe for concurrent requests:
 * keep per-request state on the context, not on the instance.
 */
export interface PluginInstance {
  onRequest?: RequestHook;
  authenticate?: RequestHook;
  authorize?: RequestHook;
  policy?: RequestHook;
  transformRequest?: RequestHook;
  /** Terminal handler replacing the upstream proxy. At most one per route. It must answer the request. */
  handler?: (ctx: RequestContext) => Promise<void>;
  /** Sees and may change the response head before it is sent. Synchronous. */
  onResponse?: (ctx: RequestContext, head: ResponseHead) => void;
  /** Returns a body transform for this response, or undefined to leave the body alone. */
  transformResponse?: (ctx: RequestContext, head: ResponseHead) => BodyTransform | undefined;
  /** After the response ends or aborts. Must not throw; errors are logged and swallowed. */
  log?: (ctx: RequestContext) => void;
  /** Called when the snapshot holding this instance is retired. */
  close?: () => void | Promise<void>;
}

/** What a plugin receives when an instance is created. */
export interface PluginEnv {
  readonly logger: Logger;
  /** Tenant owning the route, or undefined for a global instance. */
  readonly tenant: string | undefined;
}

/**
 * A plugin: a named feature with a schema for its configuration. Registered once per gateway in a
 * {@link PluginRegistry}; its config is validated when config is applied, never per request.
 */
export interface Plugin<C = unknown> {
  readonly name: string;
  readonly description: string;
  /** Validates and defaults the per-route/service configuration. */
  readonly configSchema: z.ZodType<C>;
  /** Order within a phase: lower runs first (request phases) or last (response phases). Default 1000. */
  readonly priority?: number;
  /** Builds an instance from validated config. May throw a GatewayError (CONFIG_INVALID) for bad config. */
  create(config: C, env: PluginEnv): PluginInstance;
}

/** The plugins a gateway knows about, by name. One per gateway instance; never a module-level singleton. */
export class PluginRegistry {
  private readonly plugins = new Map<string, Plugin<unknown>>();

  constructor(plugins: Iterable<Plugin<any>> = []) {
    for (const p of plugins) this.register(p);
  }

  /** Throws when the name is taken: plugins are checked at start-up, not at request time. */
  register(plugin: Plugin<any>): void {
    if (!/^[a-z][a-z0-9-]*$/.test(plugin.name)) throw new Error(`invalid plugin name "${plugin.name}"`);
    if (this.plugins.has(plugin.name)) throw new Error(`plugin "${plugin.name}" is registered twice`);
    this.plugins.set(plugin.name, plugin);
  }

  get(name: string): Plugin<unknown> | undefined {
    return this.plugins.get(name);
  }

  names(): string[] {
    return [...this.plugins.keys()].sort();
  }
}
