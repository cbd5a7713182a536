import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { MISSING_OLLAMA_MODEL, ollamaError, startFakeOllama } from '../../../../test/fixtures/llm/fake-ollama.js';
import type { ChatRequest } from '../../wire/chat.js';
import { chatRequest, collectChunks, fakeUpstream, providerConformance, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { ProviderError } from '../provider.js';
import { ollamaAdapter, ollamaChatBody } from './ollama-adapter.js';

const MODEL = 'llama3.2';
/** A local server: no key. */
const targetFor = (baseUrl: string, dispatcher: Dispatcher, model = MODEL) => testTarget({ provider: 'local', type: 'ollama', model, baseUrl, apiKey: undefined, keyName: undefined, dispatcher });

providerConformance('ollama', async () => {
  const fake = await startFakeOllama();
  return {
    adapter: ollamaAdapter,
    fake,
    model: MODEL,
    target: (model, dispatcher) => targetFor(fake.url, dispatcher, model),
    errorFault: statusFault(ollamaError),
  };
});

const hi = (over: Partial<ChatRequest> = {}): ChatRequest => chatRequest(MODEL, over);

describe('ollama request translation', () => {
  it('maps roles, base64 images, tool calls with object arguments and named tool results', () => {
    const body = ollamaChatBody(
      {
        model: MODEL,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        ],
      },
      false,
    );
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?', images: ['iVBORw0K'] },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }] },
      { role: 'tool', content: '18°C', tool_name: 'get_weather' },
    ]);
  });

  it('puts sampling settings under options and maps response formats', () => {
    const body = ollamaChatBody(hi({ max_tokens: 50, temperature: 0.3, top_p: 0.9, stop: 'END', seed: 7, presence_penalty: 0.2, frequency_penalty: 0.1, response_format: { type: 'json_object' } }), true);
    assert.equal(body.stream, true);
    assert.equal(body.format, 'json');
    assert.deepEqual(body.options, { num_predict: 50, temperature: 0.3, top_p: 0.9, stop: ['END'], seed: 7, presence_penalty: 0.2, frequency_penalty: 0.1 });
    assert.equal('options' in ollamaChatBody(hi(), false), false);
    const schema = { type: 'object', properties: { age: { type: 'integer' } } };
    assert.deepEqual(ollamaChatBody(hi({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }), false).format, schema);
  });

  it("drops tools for tool_choice 'none' and keeps only the named tool", () => {
    const tools = [
      { type: 'function' as const, function: { name: 'a' } },
      { type: 'function' as const, function: { name: 'b' } },
    ];
    assert.equal('tools' in ollamaChatBody(hi({ tools, tool_choice: 'none' }), false), false);
    const named = ollamaChatBody(hi({ tools, tool_choice: { type: 'function', function: { name: 'b' } } }), false);
    assert.deepEqual((named.tools as Array<{ function: { name: string } }>).map((t) => t.function.name), ['b']);
  });

  it('rejects remote image URLs and tool arguments that are not JSON with a 400', () => {
    const remote = hi({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] });
    assert.throws(() => ollamaChatBody(remote, false), (e: unknown) => e instanceof ProviderError && e.status === 400);
    const badArgs = hi({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] });
    assert.throws(() => ollamaChatBody(badArgs, false), (e: unknown) => e instanceof ProviderError && e.status === 400);
  });
});

describe('ollama replies', () => {
  const up = fakeUpstream(startFakeOllama);
  const t = () => targetFor(up.fake.url, up.dispatcher);

  it('sends no Authorization without a key, a bearer token with one', async () => {
    await ollamaAdapter.chat(hi(), t(), io());
    assert.equal(up.fake.requests.at(-1)!.headers.authorization, undefined);
    assert.equal(up.fake.requests.at(-1)!.path, '/api/chat');
    await ollamaAdapter.chat(hi(), { ...t(), apiKey: 'ol-key' }, io());
    assert.equal(up.fake.requests.at(-1)!.headers.authorization, 'Bearer ol-key');
  });

  it('gives tool calls distinct generated ids and JSON-text arguments', async () => {
    const r = await ollamaAdapter.chat(hi({ messages: [{ role: 'user', content: 'weather?' }], tools: [{ type: 'function', function: { name: 'get_weather' } }] }), t(), io());
    const call = r.choices[0]!.message.tool_calls![0]!;
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris', unit: 'celsius' });
    assert.equal(r.choices[0]!.message.content, null);
    assert.equal(r.created, Math.floor(Date.parse('2024-07-22T20:33:28.123648Z') / 1000));
  });

  it("maps done_reason 'length', streamed and not", async () => {
    const r = await ollamaAdapter.chat(hi({ max_tokens: 2 }), t(), io());
    assert.equal(r.choices[0]!.finish_reason, 'length');
    const chunks = await collectChunks(await ollamaAdapter.chatStream(hi({ max_tokens: 2, stream: true }), t(), io()));
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'length');
    assert.deepEqual(chunks.at(-1)!.choices, []);
  });

  it("passes on Ollama's 404 for a model that is not pulled", async () => {
    await assert.rejects(
      ollamaAdapter.chat(hi({ model: MISSING_OLLAMA_MODEL }), t(), io()),
      (e: unknown) => e instanceof ProviderError && e.status === 404 && e.type === 'not_found_error' && e.message === `model '${MISSING_OLLAMA_MODEL}' not found`,
    );
  });

  it("throws Ollama's message for an error line mid-stream", async () => {
    up.fake.fail({ kind: 'stream-error', afterEvents: 1 });
    const stream = await ollamaAdapter.chatStream(hi({ stream: true }), t(), io());
    await assert.rejects(collectChunks(stream), (e: unknown) => e instanceof ProviderError && e.status === 500 && /unexpected EOF/.test(e.message));
  });

  it('fails a stream that ends before its done line, and one with a line that is not JSON', async () => {
    const line = '{"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":"Hi"},"done":false}\n';
    for (const body of [line, `${line}not json\n`]) {
      up.fake.fail({ kind: 'status', status: 200, body, headers: { 'content-type': 'application/x-ndjson' } });
      const stream = await ollamaAdapter.chatStream(hi({ stream: true }), t(), io());
      await assert.rejects(collectChunks(stream), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
    }
  });

  it('embeds through /api/embed', async () => {
    const r = await ollamaAdapter.embeddings!({ model: 'all-minilm', input: ['one', 'two three'] }, t(), io());
    assert.deepEqual(up.fake.requests.at(-1)!.body, { model: 'all-minilm', input: ['one', 'two three'] });
    assert.equal(r.data.length, 2);
    assert.equal(r.data[1]!.index, 1);
    assert.equal(r.usage.prompt_tokens, 3);
  });
});
