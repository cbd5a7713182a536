import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { FAKE_GEMINI_KEY, geminiError, startFakeGemini } from '../../../../test/fixtures/llm/fake-gemini.js';
import type { ChatRequest } from '../../wire/chat.js';
import { chatRequest, collectChunks, fakeUpstream, providerConformance, providerFailure, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { ProviderError } from '../provider.js';
import { geminiAdapter } from './gemini-adapter.js';
import { SKIP_THOUGHT_SIGNATURE, toGeminiRequest } from './gemini-request.js';
import { chatChunksFromGoogle, chatResponseFromGoogle, usageFromGoogle } from './gemini-response.js';
import { toGoogleSchema } from './gemini-schema.js';

const MODEL = 'gemini-2.5-flash';

const target = (url: string, dispatcher: Dispatcher, apiKey = FAKE_GEMINI_KEY) => testTarget({ type: 'gemini', model: MODEL, baseUrl: `${url}/v1beta`, apiKey, dispatcher });

providerConformance('gemini', async () => {
  const fake = await startFakeGemini('gemini');
  return {
    adapter: geminiAdapter,
    fake,
    model: MODEL,
    target: (model, dispatcher) => ({ ...target(fake.url, dispatcher), model }),
    errorFault: statusFault(geminiError),
  };
});

describe('gemini translation', () => {
  it('maps system, images, tool calls, tool results, tools and settings', () => {
    const req: ChatRequest = {
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use metric units.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large' } },
            { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: 'noon' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            strict: true,
            parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: { location: { type: 'string', format: 'uri' }, unit: { type: ['string', 'null'], enum: ['c', 'f'] } }, required: ['location', 'missing'] },
          },
        },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 50,
      max_completion_tokens: 80,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { answer: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } }, additionalProperties: false } } },
    };
    const body = toGeminiRequest(req);
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }] });
    assert.deepEqual(body.contents[0], {
      role: 'user',
      parts: [
        { text: 'What is in these?' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=large' } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
      ],
    });
    assert.deepEqual(body.contents[1], {
      role: 'model',
      parts: [
        { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
        { functionCall: { name: 'get_time', args: {} } },
      ],
    });
    // Both results in one user turn, named after their calls.
    assert.deepEqual(body.contents[2], {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }, { functionResponse: { name: 'get_time', response: { content: 'noon' } } }],
    });
    assert.equal(body.contents.length, 3);
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather', parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' }, unit: { type: 'STRING', nullable: true, enum: ['c', 'f'] } }, required: ['location'] } },
          { name: 'get_time' },
        ],
      },
    ]);
    assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    assert.deepEqual(body.generationConfig, {
      maxOutputTokens: 80,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.3,
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { answer: { type: 'STRING' } } },
    });
  });

  it('maps tool_choice modes and json_object', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'number' } } } } }];
    const mode = (tool_choice: ChatRequest['tool_choice']) => toGeminiRequest({ model: MODEL, messages: [{ role: 'user', content: 'x' }], tools, tool_choice }).toolConfig?.functionCallingConfig.mode;
    assert.equal(mode('auto'), 'AUTO');
    assert.equal(mode('required'), 'ANY');
    assert.equal(mode('none'), 'NONE');
    const body = toGeminiRequest({ model: MODEL, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } });
    assert.deepEqual(body.generationConfig, { responseMimeType: 'application/json' });
  });

  it('converts schemas: oneOf, const, Optional[T] and prototype-named properties', () => {
    const out = toGoogleSchema({ type: 'object', properties: { a: { oneOf: [{ type: 'integer' }, { type: 'string' }] }, b: { const: 'x' }, c: { anyOf: [{ type: 'number' }, { type: 'null' }], description: 'C' }, toString: { type: 'boolean' } }, required: ['toString', 'constructor'] });
    assert.deepEqual(JSON.parse(JSON.stringify(out)), {
      type: 'OBJECT',
      properties: { a: { anyOf: [{ type: 'INTEGER' }, { type: 'STRING' }] }, b: { type: 'STRING', enum: ['x'] }, c: { type: 'NUMBER', description: 'C', nullable: true }, toString: { type: 'BOOLEAN' } },
      required: ['toString'],
    });
  });

  it('maps answers: thoughts left out, usage with thoughts and cache, blocked prompts, finish reasons', () => {
    const r = chatResponseFromGoogle(
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'thinking…', thought: true }, { text: 'Hi ' }, { text: 'there' }] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 7, cachedContentTokenCount: 4, totalTokenCount: 22 },
        modelVersion: 'gemini-2.5-flash-001',
      },
      MODEL,
      'Gemini',
    );
    assert.equal(r.choices[0]!.message.content, 'Hi there');
    assert.equal(r.choices[0]!.finish_reason, 'length');
    assert.equal(r.model, 'gemini-2.5-flash-001');
    assert.deepEqual(r.usage, { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 7 } });

    const blocked = chatResponseFromGoogle({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } }, MODEL, 'Gemini');
    assert.deepEqual(blocked.choices, [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter' }]);
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']) {
      assert.equal(chatResponseFromGoogle({ candidates: [{ content: { parts: [] }, finishReason: reason }] }, MODEL, 'Gemini').choices[0]!.finish_reason, 'content_filter');
    }
    assert.deepEqual(usageFromGoogle({ promptTokenCount: 2, candidatesTokenCount: 3 }), { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  });

  it('streams a blocked prompt as a content_filter finish', async () => {
    async function* events() {
      yield { event: 'message', data: JSON.stringify({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 4 } }), id: undefined };
    }
    const chunks = await collectChunks(chatChunksFromGoogle(events(), MODEL, 'Gemini'));
    assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason ?? (c.usage ? 'usage' : null)), [null, 'content_filter', 'usage']);
  });
});

describe('gemini adapter against the fake', () => {
  const up = fakeUpstream(() => startFakeGemini('gemini'));
  const t = (apiKey?: string) => target(up.fake.url, up.dispatcher, apiKey);

  it('sends the key in x-goog-api-key to the model URL, and a tool result round trip', async () => {
    const before = up.fake.requests.length;
    const r = await geminiAdapter.chat(
      {
        model: MODEL,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
        ],
      },
      t(),
      io(),
    );
    const sent = up.fake.requests[before]!;
    assert.equal(sent.path, `/v1beta/models/${MODEL}:generateContent`);
    assert.equal(sent.headers['x-goog-api-key'], FAKE_GEMINI_KEY);
    assert.equal(sent.headers.authorization, undefined);
    assert.deepEqual(sent.body.contents[2].parts[0], { functionResponse: { name: 'get_weather', response: { temp: 21 } } });
    assert.match(String(r.choices[0]!.message.content), /Hello from gemini/);
  });

  it('reports an invalid key (Google: 400 API_KEY_INVALID) as a 401', async () => {
    const err = await providerFailure(geminiAdapter.chat(chatRequest(MODEL), t('AIza-wrong'), io()));
    assert.equal(err.status, 401);
    assert.equal(err.type, 'authentication_error');
    assert.match(err.message, /API key not valid/);
  });

  it('reads Retry-After from a 429 body (RetryInfo retryDelay) when no header gives one', async () => {
    up.fake.fail({ kind: 'status', status: 429, body: geminiError(429, undefined, 30).body });
    const err = await providerFailure(geminiAdapter.chat(chatRequest(MODEL), t(), io()));
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.retryAfterMs, 30_000);
  });

  it('is a protocol failure when a stream ends before any finish reason', async () => {
    const event = { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], modelVersion: MODEL, responseId: 'r1' };
    up.fake.fail({ kind: 'status', status: 200, body: `data: ${JSON.stringify(event)}\r\n\r\n`, headers: { 'content-type': 'text/event-stream' } });
    const stream = await geminiAdapter.chatStream(chatRequest(MODEL, { stream: true }), t(), io());
    const err = await providerFailure(collectChunks(stream));
    assert.equal(err.kind, 'protocol');
  });

  it('takes the status of an in-stream error event', async () => {
    up.fake.fail({ kind: 'stream-error', afterEvents: 1 });
    const stream = await geminiAdapter.chatStream(chatRequest(MODEL, { stream: true }), t(), io());
    const err = await providerFailure(collectChunks(stream));
    assert.equal(err.status, 500);
    assert.equal(err.options.code, 'INTERNAL');
  });

  it('embeds with batchEmbedContents, dimensions and base64', async () => {
    const before = up.fake.requests.length;
    const r = await geminiAdapter.embeddings!({ model: 'text-embedding-004', input: 'hello world', dimensions: 3, encoding_format: 'base64' }, { ...t(), model: 'text-embedding-004' }, io());
    const sent = up.fake.requests[before]!;
    assert.equal(sent.path, '/v1beta/models/text-embedding-004:batchEmbedContents');
    assert.deepEqual(sent.body.requests, [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'hello world' }] }, outputDimensionality: 3 }]);
    const bytes = Buffer.from(r.data[0]!.embedding as string, 'base64');
    assert.equal(bytes.length, 12);
    assert.equal(bytes.readFloatLE(4), 0.5);
    assert.equal(r.usage.prompt_tokens, 3, 'ceil(11 chars / 4)');
    await assert.rejects(geminiAdapter.embeddings!({ model: 'm', input: [1, 2, 3] }, t(), io()), (e: unknown) => e instanceof ProviderError && e.status === 400);
  });
});
