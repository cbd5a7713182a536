/**
 * Pagination of admin lists: `limit` (1..1000, default 100) and an opaque `cursor`, which is the
 * last name of the previous page, base64url-encoded.
 */

import { gatewayError } from '../core/errors.js';
import { NameSchema } from '../model/common.js';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

export interface PageParams {
  /** 1..1000, default 100. */
  limit?: number | undefined;
  /** `next` of a previous page. */
  cursor?: string | undefined;
}

export interface PageResult<T> {
  items: T[];
  /** Present when more items may follow; pass it back as `cursor`. */
  next?: string;
}

export function encodeCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** Throws VALIDATION (path `cursor`) for anything this API did not hand out. */
export function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(name) !== cursor || !NameSchema.safeParse(name).success) {
    throw gatewayError('VALIDATION', 'Invalid cursor: pass the "next" value of a previous page', [{ path: 'cursor', message: 'is not a cursor returned by this API' }]);
  }
  return name;
}

/** Validates page parameters into a store page request. Throws VALIDATION for a bad limit or cursor. */
export function pageRequest(page: PageParams): { limit: number; after: string | undefined } {
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw gatewayError('VALIDATION', `Invalid limit: must be an integer from 1 to ${MAX_PAGE_LIMIT}`, [{ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}` }]);
  }
  return { limit, after: page.cursor === undefined ? undefined : decodeCursor(page.cursor) };
}
