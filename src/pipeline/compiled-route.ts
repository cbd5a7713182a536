import type { RequestContext } from './context.js';
import { REQUEST_PHASES } from './phases.js';
import type { BodyTransform, PluginInstance, RequestHook, ResponseHead } from './plugin.js';

/** Everything the data plane needs about a route, precomputed when the snapshot is built. */
export interface CompiledRoute {
  readonly tenant: string;
  readonly name: string;
  readonly service: string;
  /** Remove the matched prefix from the path sent upstream. */
  readonly stripPath: boolean;
  readonly chain: HookChain;
}

/** A route's hooks, flattened per phase in run order. Built once; read-only afterwards. */
export interface HookChain {
  /** All request-phase hooks in phase order (onRequest … transformRequest). */
  readonly request: readonly RequestHook[];
  readonly handler: (ctx: RequestContext) => Promise<void>;
  /** Reverse priority order. */
  readonly onResponse: ReadonlyArray<(ctx: RequestContext, head: ResponseHead) => void>;
  readonly transformResponse: ReadonlyArray<(ctx: RequestContext, head: ResponseHead) => BodyTransform | undefined>;
  readonly log: ReadonlyArray<(ctx: RequestContext) => void>;
}

export interface OrderedInstance {
  readonly name: string;
  readonly priority: number;
  readonly instance: PluginInstance;
}

/**
 * Orders plugin instances into a chain. Request phases run by ascending priority, response phases by
 * descending priority (the Envoy/Koa onion). `defaultHandler` answers when no instance has a handler.
 * Throws when two instances both define a terminal handler.
 */
export function buildHookChain(instances: readonly OrderedInstance[], defaultHandler: (ctx: RequestContext) => Promise<void>): HookChain {
  const sorted = [...instances].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  const request: RequestHook[] = [];
  for (const phase of REQUEST_PHASES) {
    for (const { instance } of sorted) {
      const hook = instance[phase];
      if (hook) request.push(hook.bind(instance));
    }
  }
  const handlers = sorted.filter((s) => s.instance.handler);
  if (handlers.length > 1) throw new Error(`plugins ${handlers.map((h) => `"${h.name}"`).join(' and ')} both define a terminal handler`);
  const reversed = [...sorted].reverse();
  return Object.freeze({
    request,
    handler: handlers[0] ? handlers[0].instance.handler!.bind(handlers[0].instance) : defaultHandler,
    onResponse: reversed.flatMap(({ instance: i }) => (i.onResponse ? [i.onResponse.bind(i)] : [])),
    transformResponse: reversed.flatMap(({ instance: i }) => (i.transformResponse ? [i.transformResponse.bind(i)] : [])),
    log: reversed.flatMap(({ instance: i }) => (i.log ? [i.log.bind(i)] : [])),
  });
}

/**
 * Runs request hooks from `start` until one responds or throws. Synchronous while hooks are; returns a
 * promise only once a hook returns one, so routes without async hooks allocate no promises.
 */
export function runRequestHooks(hooks: readonly RequestHook[], ctx: RequestContext, start = 0): void | Promise<void> {
  for (let i = start; i < hooks.length; i++) {
    const r = hooks[i]!(ctx);
    if (r !== undefined) return r.then(() => (ctx.responded ? undefined : runRequestHooks(hooks, ctx, i + 1)));
    if (ctx.responded) return;
  }
}
