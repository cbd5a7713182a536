/**
 * The router contract: which route a request (host, path, method) belongs to.
 *
 * A router is built once per config snapshot from route definitions and is immutable afterwards, so
 * `match` is safe to call concurrently and never allocates more than its result. Lookup cost depends
 * on the number of path segments and host labels, not on the number of routes.
 *
 * Precedence, most specific first:
 *   1. host: exact name, then wildcard (`*.example.com`, one label), then routes with no host;
 *   2. path, within a host: exact path, then the longest prefix (segment-aligned);
 *   3. method: a route listing the method, then a route allowing all methods.
 * When a path matches but no route there allows the method, `allowedMethods` lists what is allowed.
 */

import type { PathMatch } from '../model/route.js';

export interface RouteDefinition<T> {
  /** Used in conflict messages. */
  readonly id: string;
  /** Lower-case host patterns; empty means any host. */
  readonly hosts: readonly string[];
  readonly paths: readonly PathMatch[];
  /** Upper-case methods; empty means all. */
  readonly methods: readonly string[];
  readonly value: T;
}

export interface RouteHit<T> {
  readonly value: T;
  /** The matched path pattern (normalised: no trailing slash except the root). */
  readonly pattern: string;
  readonly match: 'exact' | 'prefix';
}

export interface Router<T> {
  /**
   * The route for a request, or undefined. `host` is lower-case without port; `path` starts with "/"
   * and has no query string. Never throws; allocates nothing on a hit.
   */
  match(method: string, host: string, path: string): RouteHit<T> | undefined;
  /**
   * After a miss: the methods allowed on the most specific matching path (for a 405 with `Allow`),
   * or an empty array when no path matches at all (a 404).
   */
  allowedMethods(host: string, path: string): string[];
  /** Number of route definitions. */
  readonly size: number;
}

/** Thrown by router builders when two definitions claim the same host, path, match type and method. */
export class RouteConflictError extends Error {
  constructor(
    readonly existing: string,
    readonly incoming: string,
    readonly where: string,
  ) {
    super(`route "${incoming}" conflicts with route "${existing}" on ${where}`);
    this.name = 'RouteConflictError';
  }
}

/** Normalises a route path pattern: strips a trailing slash (except for the root). */
export function normalisePattern(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
