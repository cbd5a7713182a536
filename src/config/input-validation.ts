/** Validation of client input against zod schemas, as VALIDATION errors with field paths. */

import type { z } from 'zod';
import { gatewayError, type ErrorDetail, type GatewayError } from '../core/errors.js';

type PathSegment = string | number;

export function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function validationError(what: string, details: ErrorDetail[]): GatewayError {
  const first = details[0];
  const summary = first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : '';
  return gatewayError('VALIDATION', `Invalid ${what}${summary}`, details);
}

/** Parses `input` with `schema`; throws VALIDATION whose details carry field paths (prefixed by `prefix`). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix: readonly PathSegment[] = []): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw validationError(
    what,
    r.error.issues.map((i) => ({ path: joinPath([...prefix, ...i.path]), message: i.message })),
  );
}
