import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { cohereError, startFakeCohere } from '../../../../test/fixtures/llm/fake-cohere.js';
import type { ChatChunk, ChatRequest } from '../../wire/chat.js';
import { chatRequest, collectChunks, fakeUpstream, providerConformance, providerFailure, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { ProviderError } from '../provider.js';
import { cohereAdapter, cohereChatBody } from './cohere-adapter.js';

const MODEL = 'command-a-03-2025';
const targetFor = (baseUrl: string, dispatcher: Dispatcher, model = MODEL) => testTarget({ type: 'cohere', model, baseUrl, apiKey: 'co-test', dispatcher });

providerConformance('cohere', async () => {
  const fake = await startFakeCohere();
  return {
    adapter: cohereAdapter,
    fake,
    model: MODEL,
    target: (model, dispatcher) => targetFor(fake.url, dispatcher, model),
    errorFault: statusFault(cohereError),
  };
});

const hi = (over: Partial<ChatRequest> = {}): ChatRequest => chatRequest(MODEL, over);

describe('cohere request translation', () => {
  it('maps roles, images, tool calls and tool results to v2 messages', () => {
    const body = cohereChatBody(
      {
        model: MODEL,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K', detail: 'low' } }] },
          { role: 'assistant', content: 'Checking the weather.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '18°C' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'It is 18°C.' }] },
        ],
      },
      false,
    );
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K', detail: 'low' } }] },
      { role: 'assistant', tool_plan: 'Checking the weather.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      { role: 'assistant', content: 'It is 18°C.' },
    ]);
  });

  it('maps sampling settings, stop, response format and tool choice', () => {
    const tools = [
      { type: 'function' as const, function: { name: 'a', parameters: { type: 'object' } } },
      { type: 'function' as const, function: { name: 'b', strict: true } },
    ];
    const body = cohereChatBody(
      hi({ max_completion_tokens: 50, temperature: 0.3, top_p: 0.9, stop: 'END', seed: 7, frequency_penalty: 0.1, presence_penalty: 0.2, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }, tools, tool_choice: 'required' }),
      true,
    );
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 50);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.p, 0.9);
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.equal(body.seed, 7);
    assert.equal(body.frequency_penalty, 0.1);
    assert.equal(body.presence_penalty, 0.2);
    assert.deepEqual(body.response_format, { type: 'json_object', json_schema: { type: 'object' } });
    assert.equal(body.tool_choice, 'REQUIRED');
    assert.equal(body.strict_tools, true);
    assert.equal((body.tools as unknown[]).length, 2);
    assert.equal('top_p' in body, false);

    assert.equal(cohereChatBody(hi({ tools, tool_choice: 'none' }), false).tool_choice, 'NONE');
    assert.equal('tool_choice' in cohereChatBody(hi({ tools, tool_choice: 'auto' }), false), false);
    const named = cohereChatBody(hi({ tools, tool_choice: { type: 'function', function: { name: 'b' } } }), false);
    assert.equal(named.tool_choice, 'REQUIRED');
    assert.deepEqual(named.tools, [{ type: 'function', function: { name: 'b', description: undefined, parameters: { type: 'object', properties: {} } } }]);
    assert.deepEqual(cohereChatBody(hi({ response_format: { type: 'json_object' } }), false).response_format, { type: 'json_object' });
  });
});

describe('cohere replies', () => {
  const up = fakeUpstream(startFakeCohere);
  const t = () => targetFor(up.fake.url, up.dispatcher);

  it('sends the key as a bearer token to /v2/chat, and counts usage from `tokens` over `billed_units`', async () => {
    const r = await cohereAdapter.chat(hi(), t(), io());
    const sent = up.fake.requests.at(-1)!;
    assert.equal(sent.path, '/v2/chat');
    assert.equal(sent.headers.authorization, 'Bearer co-test');
    assert.equal(sent.body.stream, false);
    assert.match(r.id, /^[0-9a-f]{8}-/);
    assert.equal(r.model, MODEL);
    assert.ok(r.usage!.prompt_tokens > 160, 'tokens.input_tokens (with the prompt template) is reported');
  });

  it('maps MAX_TOKENS to length, streamed and not', async () => {
    const r = await cohereAdapter.chat(hi({ max_tokens: 2 }), t(), io());
    assert.equal(r.choices[0]!.finish_reason, 'length');
    assert.equal(r.choices[0]!.message.content, 'Hello from ');
    const chunks = await collectChunks(await cohereAdapter.chatStream(hi({ max_tokens: 2, stream: true }), t(), io()));
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'length'));
  });

  it('streams a role chunk first, one chunk per delta, the finish chunk, then usage alone', async () => {
    const chunks = await collectChunks(await cohereAdapter.chatStream(hi({ stream: true }), t(), io()));
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1, 'one id for the whole stream');
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.total_tokens, last.usage!.prompt_tokens + last.usage!.completion_tokens);
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
  });

  it('fails on finish reason ERROR in a reply', async () => {
    up.fake.fail({ kind: 'status', status: 200, body: { id: 'x', finish_reason: 'ERROR', message: { role: 'assistant', content: [] } } });
    await assert.rejects(cohereAdapter.chat(hi(), t(), io()), (e: unknown) => e instanceof ProviderError && e.status === 500);
  });

  it('fails a stream whose message-end has finish reason ERROR', async () => {
    up.fake.fail({ kind: 'stream-error', afterEvents: 3 });
    const seen: ChatChunk[] = [];
    const stream = await cohereAdapter.chatStream(hi({ stream: true }), t(), io());
    const err = await providerFailure(
      (async () => {
        for await (const c of stream) seen.push(c);
      })(),
    );
    assert.equal(err.status, 500);
    assert.equal(err.kind, 'status');
    assert.ok(seen.every((c) => c.choices.every((ch) => ch.finish_reason === null)), 'no finish chunk before the failure');
  });

  it('fails a stream that ends before message-end (a protocol failure)', async () => {
    const body = 'event: message-start\ndata: {"id":"x","type":"message-start","delta":{"message":{"role":"assistant"}}}\n\n';
    up.fake.fail({ kind: 'status', status: 200, body, headers: { 'content-type': 'text/event-stream' } });
    const stream = await cohereAdapter.chatStream(hi({ stream: true }), t(), io());
    await assert.rejects(collectChunks(stream), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
  });

  it("passes on Cohere's 401 message for a missing key", async () => {
    await assert.rejects(cohereAdapter.chat(hi(), { ...t(), apiKey: undefined }, io()), (e: unknown) => e instanceof ProviderError && e.status === 401 && e.message === 'invalid api token');
  });

  it('embeds through /v2/embed with search_document float embeddings', async () => {
    const r = await cohereAdapter.embeddings!({ model: 'embed-v4.0', input: 'one', dimensions: 256 }, t(), io());
    const sent = up.fake.requests.at(-1)!;
    assert.equal(sent.path, '/v2/embed');
    assert.deepEqual(sent.body, { model: 'embed-v4.0', texts: ['one'], input_type: 'search_document', embedding_types: ['float'], output_dimension: 256 });
    assert.equal(r.data.length, 1);
    assert.equal(r.usage.prompt_tokens, 1);
    await assert.rejects(cohereAdapter.embeddings!({ model: 'embed-v4.0', input: [1, 2, 3] }, t(), io()), (e: unknown) => e instanceof ProviderError && e.status === 400);
  });
});
