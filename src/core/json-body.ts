/**
 * JSON request bodies, for the admin API and the data plane's own APIs (LLM endpoints): media type,
 * size limit, UTF-8 and syntax. Messages never echo request content (a body may hold secrets).
 */

import type { IncomingMessage } from 'node:http';
import { gatewayError, type GatewayError } from './errors.js';

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** After a 413, how much more of the body is read and thrown away before the connection is cut. */
const MAX_DISCARD_BYTES = 8 * 1024 * 1024;

const JSON_MEDIA_TYPE = 'application/json';

function tooLarge(limit: number): GatewayError {
  return gatewayError('BODY_TOO_LARGE', `Request body exceeds ${limit} bytes`);
}

/** True when the Content-Type header names `application/json` (parameters such as charset allowed). */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0]?.trim().toLowerCase() === JSON_MEDIA_TYPE;
}

/**
 * Reads the rest of a request body and discards it, so the 413 answer reaches the client on a
 * connection that stays usable; cuts the connection once an abusive amount has been discarded.
 */
function discardBody(req: IncomingMessage): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.socket.destroy();
  });
  req.resume();
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        discardBody(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(gatewayError('BAD_REQUEST', 'Request body could not be read', undefined, err));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON request body. Throws UNSUPPORTED_MEDIA_TYPE (415) unless the Content-Type
 * is application/json, BODY_TOO_LARGE (413) beyond `limit` bytes, BAD_REQUEST (400) for a body that
 * is not UTF-8 JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) throw gatewayError('UNSUPPORTED_MEDIA_TYPE');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    discardBody(req);
    throw tooLarge(limit);
  }
  const raw = await readBody(req, limit);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw gatewayError('BAD_REQUEST', 'Request body is not valid UTF-8');
  }
  if (text.trim() === '') throw gatewayError('BAD_REQUEST', 'Request body is empty; a JSON document is required');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message may quote the body (which may hold secrets): never pass it on.
    throw gatewayError('BAD_REQUEST', 'Request body is not valid JSON');
  }
}
