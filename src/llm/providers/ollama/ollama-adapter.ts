/**
 * Ollama's native API (https://github.com/ollama/ollama/blob/main/docs/api.md): POST /api/chat and
 * POST /api/embed. Canonical requests become Ollama bodies (sampling settings under `options`,
 * images as base64 strings, tool arguments as objects); replies and NDJSON streams (one JSON object
 * a line, the last with `done: true` and token counts) become canonical shapes. No key is needed
 * for a local server; when one is set (Ollama behind a proxy, Ollama Cloud) it travels as
 * `Authorization: Bearer`.
 *
 * Not expressible in Ollama: `n`, `user`, `parallel_tool_calls`, `extra` fields and remote image
 * URLs (rejected with a 400); `tool_choice` 'none' drops the tools, a named choice sends only that
 * tool, and 'required' cannot be enforced.
 */

import {
  assistantChoice,
  chatCompletion,
  chunkFactory,
  completionId,
  contentText,
  embeddingsList,
  toolCallId,
  usageOf,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '../../wire/chat.js';
import { ndjsonLines } from '../../wire/ndjson.js';
import { bearerHeaders, guardStream, protocolFailure, send, sendJson, type ProviderRequest } from '../provider-http.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from '../provider.js';
import { commonSampling, defined, functionTools, stopList, toolsForChoice } from '../request-fields.js';

const NAME = 'Ollama';

interface OllamaToolCall {
  id?: string;
  function?: { name?: string; arguments?: unknown };
}

/** A non-streamed reply, or one line of a stream. */
interface OllamaChatLine {
  model?: string;
  created_at?: string;
  message?: { role?: string; content?: string; tool_calls?: OllamaToolCall[] };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

interface OllamaEmbedResponse {
  model?: string;
  embeddings?: number[][];
  prompt_eval_count?: number;
}

function invalid(message: string): ProviderError {
  return new ProviderError('status', 400, 'invalid_request_error', message);
}

/** The base64 payload of a `data:` URL; Ollama cannot fetch remote images. */
function imageData(url: string): string {
  const m = /^data:[^,]*;base64,(.*)$/s.exec(url);
  if (!m) throw invalid(`${NAME} accepts images only as base64 data URLs`);
  return m[1]!;
}

function toolArguments(args: string): unknown {
  try {
    return JSON.parse(args || '{}');
  } catch {
    throw invalid(`${NAME} needs tool call arguments that are JSON`);
  }
}

function ollamaMessage(m: ChatMessage, toolNames: ReadonlyMap<string, string>): Record<string, unknown> {
  const role = m.role === 'developer' ? 'system' : m.role;
  const out: Record<string, unknown> = { role, content: contentText(m.content) };
  if (Array.isArray(m.content)) {
    const images = m.content.flatMap((p) => (p.type === 'image_url' ? [imageData(p.image_url.url)] : []));
    if (images.length > 0) out.images = images;
  }
  if (m.role === 'assistant' && m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((c) => ({ function: { name: c.function.name, arguments: toolArguments(c.function.arguments) } }));
  }
  if (m.role === 'tool') {
    const name = m.tool_call_id === undefined ? undefined : toolNames.get(m.tool_call_id);
    if (name) out.tool_name = name;
  }
  return out;
}

/** The /api/chat body for a canonical request. */
export function ollamaChatBody(req: ChatRequest, stream: boolean): Record<string, unknown> {
  const toolNames = new Map<string, string>();
  for (const m of req.messages) for (const c of m.tool_calls ?? []) toolNames.set(c.id, c.function.name);
  const body: Record<string, unknown> = { model: req.model, messages: req.messages.map((m) => ollamaMessage(m, toolNames)), stream };
  const tools = req.tool_choice === 'none' ? [] : toolsForChoice(req);
  if (tools.length > 0) body.tools = functionTools(tools);
  const rf = req.response_format;
  if (rf?.type === 'json_object') body.format = 'json';
  else if (rf?.type === 'json_schema') body.format = rf.json_schema.schema ?? 'json';
  const options = { ...defined({ num_predict: req.max_completion_tokens ?? req.max_tokens, top_p: req.top_p, stop: stopList(req.stop) }), ...commonSampling(req) };
  if (Object.keys(options).length > 0) body.options = options;
  return body;
}

function createdOf(line: OllamaChatLine): number {
  const ms = line.created_at ? Date.parse(line.created_at) : NaN;
  return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
}

/** Tool calls with generated ids (Ollama sends none, or ids of its own) and arguments as JSON text. */
function toolCallsOf(line: OllamaChatLine): ToolCall[] {
  return (line.message?.tool_calls ?? []).map((c) => ({
    id: c.id || toolCallId(),
    type: 'function',
    function: { name: c.function?.name ?? '', arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}) },
  }));
}

function finishOf(line: OllamaChatLine, toolCalls: boolean): FinishReason {
  if (toolCalls) return 'tool_calls';
  return line.done_reason === 'length' ? 'length' : 'stop';
}

function usageOfLine(line: OllamaChatLine): Usage | undefined {
  if (line.prompt_eval_count === undefined && line.eval_count === undefined) return undefined;
  return usageOf({ input: line.prompt_eval_count ?? 0, output: line.eval_count ?? 0, cachedInput: 0, reasoning: 0 });
}

function lineError(line: OllamaChatLine): ProviderError {
  return new ProviderError('status', 500, 'api_error', line.error || `${NAME} failed mid-stream`);
}

/** A canonical chat completion from a non-streamed /api/chat reply. */
export function fromOllamaResponse(r: OllamaChatLine, model: string): ChatResponse {
  if (!r || typeof r !== 'object') throw protocolFailure(`${NAME} sent a chat response that is not an object`);
  if (r.error) throw lineError(r);
  if (!r.message) throw protocolFailure(`${NAME} sent a chat response without a message`);
  const calls = toolCallsOf(r);
  const text = r.message.content ?? '';
  return chatCompletion(completionId(), createdOf(r), r.model ?? model, [assistantChoice(text, calls, finishOf(r, calls.length > 0))], usageOfLine(r));
}

function parseLine(text: string): OllamaChatLine {
  try {
    return JSON.parse(text) as OllamaChatLine;
  } catch {
    throw protocolFailure(`${NAME} sent a stream line that is not JSON`);
  }
}

/**
 * Canonical chunks from NDJSON lines: a role chunk first, text deltas, each tool call whole (Ollama
 * sends calls complete, in one line), then on the `done` line the finish chunk and a usage chunk
 * (choices empty). An `{"error": …}` line, or a stream that ends before `done`, throws.
 */
export async function* ollamaChunks(lines: AsyncIterable<string>, requested: string): AsyncGenerator<ChatChunk> {
  const out = chunkFactory(completionId(), 0, requested);
  let started = false;
  let tools = 0;
  for await (const text of lines) {
    const line = parseLine(text);
    if (line.error) throw lineError(line);
    if (!started) {
      started = true;
      out.created = createdOf(line);
      out.model = line.model ?? requested;
      yield out.role();
    }
    const content = line.message?.content;
    if (content) yield out.content(content);
    const calls = toolCallsOf(line);
    if (calls.length > 0) yield out.toolCalls(calls.map((c) => ({ index: tools++, ...c })));
    if (line.done) {
      yield out.finish(finishOf(line, tools > 0));
      const usage = usageOfLine(line);
      if (usage) yield out.usage(usage);
      return;
    }
  }
  throw protocolFailure(`${NAME} ended the stream before its done line`);
}

function embedInput(input: EmbeddingsRequest['input']): string | string[] {
  if (typeof input === 'string' || (Array.isArray(input) && input.every((x) => typeof x === 'string'))) return input as string | string[];
  throw invalid(`${NAME} embeds text only, not token arrays`);
}

/** The /api/chat call for a canonical request (streams answer NDJSON). */
function chatCall(req: ChatRequest, target: ProviderTarget, stream: boolean): ProviderRequest {
  return { url: `${target.baseUrl}/api/chat`, headers: bearerHeaders(target), body: ollamaChatBody(req, stream), ...(stream ? { accept: 'application/x-ndjson' } : {}) };
}

/** The `ollama` provider type: stateless, safe for concurrent use; every failure is a ProviderError. */
export const ollamaAdapter: ProviderAdapter = {
  type: 'ollama',
  defaultBaseUrl: () => 'http://127.0.0.1:11434',
  keyRequired: false,
  async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
    return fromOllamaResponse(await sendJson<OllamaChatLine>(target, io, chatCall(req, target, false), NAME), req.model);
  },
  async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
    const res = await send(target, io, chatCall(req, target, true), NAME);
    return ollamaChunks(guardStream(ndjsonLines(res.body), io), req.model);
  },
  async embeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
    const body: Record<string, unknown> = { model: req.model, input: embedInput(req.input) };
    if (req.dimensions !== undefined) body.dimensions = req.dimensions;
    const r = await sendJson<OllamaEmbedResponse>(target, io, { url: `${target.baseUrl}/api/embed`, headers: bearerHeaders(target), body }, NAME);
    if (!r || !Array.isArray(r.embeddings)) throw protocolFailure(`${NAME} sent an embed response without embeddings`);
    return embeddingsList(r.embeddings, r.model ?? req.model, r.prompt_eval_count ?? 0);
  },
};
