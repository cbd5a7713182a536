/**
 * HTTP plumbing of the admin API: JSON request bodies (core/json-body.ts) and JSON responses. Messages never echo request content (a body may hold secrets).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from '../core/errors.js';

export { MAX_BODY_BYTES, isJsonContentType, readJsonBody } from '../core/json-body.js';

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Sends a text response with the given content type. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Sends an empty response (204). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, ...headers });
  res.end();
}

/** Sends a GatewayError in the wire shape `{"error":{…}}`. */
export function sendError(res: ServerResponse, err: GatewayError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, err.toResponse(), headers);
}
