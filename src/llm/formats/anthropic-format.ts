/**
 * The client-facing Anthropic Messages format: what the gateway's POST /v1/messages reads from and
 * writes to Anthropic SDK clients. Requests become canonical chat requests (anthropic-request.ts);
 * canonical answers, streams and errors become Anthropic's shapes (anthropic-response.ts,
 * anthropic-stream.ts). The correspondences are shared with the Anthropic provider adapter
 * (providers/anthropic/anthropic-mapping.ts).
 */

export { anthropicRequestToCanonical } from './anthropic-request.js';
export { anthropicErrorBody, anthropicMessageId, canonicalToAnthropicResponse } from './anthropic-response.js';
export { AnthropicStreamEncoder } from './anthropic-stream.js';
export { anthropicErrorType } from '../providers/anthropic/anthropic-mapping.js';
