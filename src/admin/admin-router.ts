/**
 * A small method + path-template router for the admin API (not the data plane's router: admin traffic
 * is light, so a linear scan over a few dozen templates is plenty).
 *
 * Templates are literal segments and `{param}` segments, e.g. `/admin/v1/tenants/{tenant}`. A `{param}`
 * matches one non-empty segment, percent-decoded.
 */

import { gatewayError } from '../core/errors.js';

export interface RouteTemplate {
  readonly method: string;
  readonly path: string;
}

export type RouteLookup<R> =
  | { readonly kind: 'found'; readonly route: R; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

interface Compiled<R> {
  readonly route: R;
  readonly segments: ReadonlyArray<{ literal: string } | { param: string }>;
}

function compile(path: string): Compiled<never>['segments'] {
  if (!path.startsWith('/')) throw new Error(`route path must start with "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => {
      const m = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(s);
      return m ? { param: m[1]! } : { literal: s };
    });
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw gatewayError('BAD_REQUEST', 'Malformed percent-encoding in the path');
  }
}

export class AdminRouter<R extends RouteTemplate> {
  readonly #compiled: Compiled<R>[];

  /** @throws Error when two routes share a method and template. */
  constructor(readonly routes: readonly R[]) {
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) throw new Error(`admin route registered twice: ${key}`);
      seen.add(key);
    }
    this.#compiled = routes.map((route) => ({ route, segments: compile(route.path) }));
  }

  /** Finds the route for a method and a pathname (no query string). */
  match(method: string, pathname: string): RouteLookup<R> {
    const parts = pathname.slice(1).split('/');
    const allow: string[] = [];
    for (const { route, segments } of this.#compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if ('literal' in seg) ok = seg.literal === part;
        else if (part === '') ok = false;
        else params[seg.param] = part;
      }
      if (!ok) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      for (const k of Object.keys(params)) params[k] = decodeSegment(params[k]!);
      return { kind: 'found', route, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow: [...new Set(allow)].sort() } : { kind: 'not-found' };
  }
}
