/**
 * Canonical chat request → Google `generateContent` body. Shared by the Gemini API and Vertex AI
 * adapters, whose bodies are identical.
 *
 * - system and developer messages → `systemInstruction` (Google has no system turn mid-conversation);
 * - user → role "user", assistant → role "model"; consecutive turns of one role are merged (parallel
 *   tool results must arrive as one turn);
 * - images: `data:` URLs → `inlineData`, other URLs → `fileData`;
 * - assistant tool calls → `functionCall` parts; tool messages → `functionResponse` parts named after
 *   the call they answer;
 * - tools, tool_choice, sampling settings and response_format → `tools`, `toolConfig`,
 *   `generationConfig`. Fields Google has no equivalent for (`user`, `parallel_tool_calls`, `extra`)
 *   are dropped.
 */

import { contentText, type ChatMessage, type ChatRequest, type ContentPart, type ToolChoice } from '../../wire/chat.js';
import { stopList } from '../request-fields.js';
import { toGoogleParameters, toGoogleSchema } from './gemini-schema.js';
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest } from './gemini-wire.js';

/**
 * Google's documented stand-in for a missing thought signature. Gemini 3 rejects a replayed function
 * call without one, and the canonical format cannot carry the real signature back.
 * https://ai.google.dev/gemini-api/docs/thought-signatures
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** The media type a URL's file extension suggests; image/jpeg when it suggests none. */
export function mimeTypeOfUrl(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not absolute (gs:// URIs parse; anything else is used as it is).
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && EXTENSION_TYPES[ext]) ?? 'image/jpeg';
}

function imagePart(url: string): GeminiPart {
  if (!url.startsWith('data:')) return { fileData: { mimeType: mimeTypeOfUrl(url), fileUri: url } };
  const comma = url.indexOf(',');
  const [mimeType, ...params] = url.slice(5, comma === -1 ? url.length : comma).split(';');
  const payload = comma === -1 ? '' : url.slice(comma + 1);
  const data = params.includes('base64') ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { inlineData: { mimeType: mimeType || 'application/octet-stream', data } };
}

function userParts(content: ChatMessage['content']): GeminiPart[] {
  if (content === null) return [];
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  return content.flatMap((p: ContentPart): GeminiPart[] => {
    if (p.type === 'image_url') return [imagePart(p.image_url.url)];
    return p.text ? [{ text: p.text }] : [];
  });
}

function parseArgs(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    // Google takes an object only; a model's malformed arguments are kept as text.
    return { arguments: args };
  }
}

function assistantParts(m: ChatMessage, callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = contentText(m.content);
  if (text) parts.push({ text });
  for (const [i, call] of (m.tool_calls ?? []).entries()) {
    callNames.set(call.id, call.function.name);
    const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArgs(call.function.arguments) } };
    // Google wants the signature on the first call of a turn.
    if (i === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    parts.push(part);
  }
  return parts;
}

/** A tool result: its JSON object as it is, any other content wrapped as `{content}`. */
function toolResultPart(m: ChatMessage, callNames: Map<string, string>): GeminiPart {
  const text = contentText(m.content);
  let response: Record<string, unknown> = { content: text };
  try {
    const v: unknown = JSON.parse(text);
    response = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { content: v };
  } catch {
    // Plain text.
  }
  const name = (m.tool_call_id && callNames.get(m.tool_call_id)) || m.name || m.tool_call_id || 'tool';
  return { functionResponse: { name, response } };
}

function push(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last?.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function toolConfig(choice: ToolChoice | undefined): GeminiRequest['toolConfig'] {
  if (choice === undefined) return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function generationConfig(req: ChatRequest): GeminiGenerationConfig | undefined {
  const g: GeminiGenerationConfig = {};
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== undefined) g.maxOutputTokens = max;
  if (req.temperature !== undefined) g.temperature = req.temperature;
  if (req.top_p !== undefined) g.topP = req.top_p;
  if (req.stop !== undefined) g.stopSequences = stopList(req.stop);
  if (req.n !== undefined) g.candidateCount = req.n;
  if (req.seed !== undefined) g.seed = req.seed;
  if (req.presence_penalty !== undefined) g.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty !== undefined) g.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') g.responseMimeType = 'application/json';
  if (format?.type === 'json_schema' && format.json_schema.schema) g.responseSchema = toGoogleSchema(format.json_schema.schema);
  return Object.keys(g).length > 0 ? g : undefined;
}

/** The `generateContent` body for a canonical request (the model goes in the URL, not the body). */
export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  // Tool results name the function; canonical tool messages only name the call.
  const callNames = new Map<string, string>();
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push({ text });
    } else if (m.role === 'user') push(contents, 'user', userParts(m.content));
    else if (m.role === 'assistant') push(contents, 'model', assistantParts(m, callNames));
    else push(contents, 'user', [toolResultPart(m, callNames)]);
  }
  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools && req.tools.length > 0) {
    const functionDeclarations = req.tools.map((t) => {
      const parameters = toGoogleParameters(t.function.parameters);
      return { name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), ...(parameters ? { parameters } : {}) };
    });
    body.tools = [{ functionDeclarations }];
    const config = toolConfig(req.tool_choice);
    if (config) body.toolConfig = config;
  }
  const config = generationConfig(req);
  if (config) body.generationConfig = config;
  return body;
}
