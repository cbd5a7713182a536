/**
 * Amazon Bedrock through its model-neutral Converse API (Converse, ConverseStream) and, for
 * embeddings, Titan text embeddings through InvokeModel. Every request is signed with AWS SigV4
 * (service "bedrock") from the key `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`; streams arrive
 * as binary AWS event-stream frames (event-stream-reader.ts).
 *
 * References: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html,
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
 */

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { embeddingsList, type ChatChunk, type ChatRequest, type ChatResponse, type EmbeddingsRequest, type EmbeddingsResponse } from '../../wire/chat.js';
import { guardStream, protocolFailure, send, sendJson, statusFailure, type ErrorMapper, type ProviderRequest } from '../provider-http.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from '../provider.js';
import { defined } from '../request-fields.js';
import { converseRequest } from './converse-request.js';
import { converseChatResponse, converseChunks, type ConverseResponse } from './converse-response.js';
import { eventStreamMessages } from './event-stream-reader.js';

const NAME = 'Bedrock';
const JSON_TYPE = 'application/json';
const EVENT_STREAM_TYPE = 'application/vnd.amazon.eventstream';

interface TitanEmbedding {
  embedding?: number[];
  inputTextTokenCount?: number;
}

// ---- Credentials and signing ----------------------------------------------------------------

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The key's parts. A malformed key is a 401 whose message never contains the key. */
function credentialsOf(apiKey: string | undefined): AwsCredentials {
  const parts = apiKey?.split(':') ?? [];
  if ((parts.length === 2 || parts.length === 3) && parts.every((p) => p.length > 0)) {
    const [accessKeyId, secretAccessKey, sessionToken] = parts as [string, string, string | undefined];
    return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
  }
  throw new ProviderError('status', 401, 'authentication_error', 'A Bedrock key must be ACCESS_KEY_ID:SECRET_ACCESS_KEY or ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN');
}

/**
 * A POST of `payload` (as JSON) to `${baseUrl}${path}`, signed with SigV4 for the target's region.
 * The body string returned is exactly the one signed, and must be sent unchanged.
 */
async function signedPost(target: ProviderTarget, path: string, payload: unknown, accept: string): Promise<ProviderRequest> {
  const region = target.options.region;
  if (!region) throw new ProviderError('status', 500, 'api_error', 'The Bedrock provider has no region option');
  const url = new URL(`${target.baseUrl}${path}`);
  const body = JSON.stringify(payload);
  const signer = new SignatureV4({ service: 'bedrock', region, credentials: credentialsOf(target.apiKey), sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': JSON_TYPE, accept },
    body,
  });
  // The HTTP client derives Host from the URL: the same value as the signed one.
  const headers: Record<string, string> = { ...signed.headers };
  delete headers.host;
  return { url: url.href, headers, body, accept };
}

const modelPath = (model: string, operation: 'converse' | 'converse-stream' | 'invoke'): string => `/model/${encodeURIComponent(model)}/${operation}`;

// ---- The adapter ----------------------------------------------------------------------------

/** Bedrock's error type (`x-amzn-errortype: ThrottlingException:http://…`) as the failure's code. */
const bedrockFailure: ErrorMapper = (status, headers, text) => {
  const h = headers['x-amzn-errortype'];
  const type = (Array.isArray(h) ? h[0] : h)?.split(':')[0];
  return type ? statusFailure(status, headers, text, NAME, { code: type }) : undefined;
};

/** Titan text embeddings, one InvokeModel request per input, in order. */
async function titanEmbeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
  const inputs = typeof req.input === 'string' ? [req.input] : req.input;
  if (inputs.length === 0 || !inputs.every((x): x is string => typeof x === 'string')) {
    throw new ProviderError('status', 400, 'invalid_request_error', 'Bedrock Titan embeddings take one or more strings as input', { param: 'input' });
  }
  const vectors: number[][] = [];
  let tokens = 0;
  for (const inputText of inputs) {
    const signed = await signedPost(target, modelPath(target.model, 'invoke'), defined({ inputText, dimensions: req.dimensions }), JSON_TYPE);
    const r = await sendJson<TitanEmbedding>(target, io, signed, NAME, bedrockFailure);
    if (!Array.isArray(r?.embedding)) throw protocolFailure(`${NAME} sent an embeddings response without embedding`);
    vectors.push(r.embedding);
    tokens += r.inputTextTokenCount ?? 0;
  }
  return embeddingsList(vectors, req.model, tokens, req.encoding_format);
}

/** The Bedrock adapter (type "bedrock"; option `region` required). Stateless and safe for concurrent use. */
export const bedrockAdapter: ProviderAdapter = {
  type: 'bedrock',
  requiredOptions: ['region'],
  defaultBaseUrl: (options) => (options.region ? `https://bedrock-runtime.${options.region}.amazonaws.com` : undefined),
  async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
    const signed = await signedPost(target, modelPath(target.model, 'converse'), converseRequest(req), JSON_TYPE);
    return converseChatResponse(await sendJson<ConverseResponse>(target, io, signed, NAME, bedrockFailure), req.model);
  },
  async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
    const signed = await signedPost(target, modelPath(target.model, 'converse-stream'), converseRequest(req), EVENT_STREAM_TYPE);
    const res = await send(target, io, signed, NAME, bedrockFailure);
    return converseChunks(guardStream(eventStreamMessages(res.body), io), req.model);
  },
  embeddings: titanEmbeddings,
};
