/**
 * The wire shapes of Google's `generateContent` family, as the Gemini API (v1beta) and Vertex AI (v1)
 * both send them: only the fields the gateway reads or writes. Unknown fields are ignored on input.
 *
 * Reference: https://ai.google.dev/api/generate-content and
 * https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference
 */

export interface GeminiFunctionCall {
  /** Set by some models and by Vertex; absent on most Gemini API answers. */
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiPart {
  text?: string;
  /** A thought summary (thinking models): not part of the answer. */
  thought?: boolean;
  /** Opaque signature a thinking model attaches to a part; sent back with the part on later turns. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: { name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiCandidate {
  content?: GeminiContent;
  /** STOP, MAX_TOKENS, SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, MALFORMED_FUNCTION_CALL, OTHER… */
  finishReason?: string;
  index?: number;
}

export interface GeminiUsage {
  /** Includes cached tokens. */
  promptTokenCount?: number;
  /** Visible output only: thoughts are counted separately. */
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  /** Input the built-in tools (search, code execution) added. */
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/** One answer, and also one streamed event of `streamGenerateContent?alt=sse`. */
export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
}

/** Google's error object (`google.rpc.Status` in JSON), in error bodies and as a streamed event. */
export interface GoogleRpcError {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<Record<string, unknown>>;
}
