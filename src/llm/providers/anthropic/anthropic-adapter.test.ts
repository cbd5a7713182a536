import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { anthropicError, startFakeAnthropic } from '../../../../test/fixtures/llm/fake-anthropic.js';
import type { ChatRequest } from '../../wire/chat.js';
import { chatRequest, collectChunks, fakeUpstream, providerConformance, providerFailure, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { anthropicAdapter, anthropicRequestBody } from './anthropic-adapter.js';
import { compactTextDelta } from './anthropic-stream-reader.js';

const MODEL = 'claude-sonnet-4-5';
const targetFor = (baseUrl: string, dispatcher: Dispatcher, model = MODEL) => testTarget({ type: 'anthropic', model, baseUrl, apiKey: 'sk-ant-test', dispatcher });

providerConformance('anthropic', async () => {
  const fake = await startFakeAnthropic();
  return {
    adapter: anthropicAdapter,
    fake,
    model: MODEL,
    target: (model, dispatcher) => targetFor(fake.url, dispatcher, model),
    errorFault: statusFault(anthropicError),
    embeddings: false,
  };
});

const WEATHER = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } };

describe('anthropicRequestBody', () => {
  it('merges system and developer messages into `system`, wherever they stand', () => {
    const body = anthropicRequestBody(
      {
        model: 'claude',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        ],
      },
      false,
    );
    assert.equal(body.system, 'Be brief.\n\nUse French.');
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    assert.equal(body.max_tokens, 4096);
    assert.equal(body.stream, undefined);
  });

  it('turns tool calls into tool_use blocks and merges consecutive tool results into one user turn', () => {
    const body = anthropicRequestBody(
      {
        model: 'claude',
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: 'not json' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
          { role: 'user', content: 'Thanks. Which is warmer?' },
        ],
        tools: [WEATHER],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
      true,
    );
    assert.equal(body.messages.length, 3);
    assert.deepEqual(body.messages[1], {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
      ],
    });
    assert.deepEqual(body.messages[2], {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
        { type: 'text', text: 'Thanks. Which is warmer?' },
      ],
    });
    assert.deepEqual(body.tools, [{ name: 'get_weather', input_schema: WEATHER.function.parameters }]);
    assert.deepEqual(body.tool_choice, { type: 'any', disable_parallel_tool_use: true });
    assert.equal(body.stream, true);
  });

  it('turns data: image URLs into base64 sources and https URLs into url sources', () => {
    const body = anthropicRequestBody(
      {
        model: 'claude',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      },
      false,
    );
    assert.deepEqual(body.messages[0]!.content, [
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('maps limits, stop sequences, sampling, user and JSON response formats', () => {
    const body = anthropicRequestBody(
      {
        model: 'claude',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 50,
        max_completion_tokens: 70,
        stop: 'END',
        temperature: 0.2,
        top_p: 0.9,
        user: 'u-42',
        tools: [WEATHER],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' } } },
      },
      false,
    );
    assert.equal(body.max_tokens, 70);
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.equal(body.temperature, 0.2);
    assert.equal(body.top_p, 0.9);
    assert.deepEqual(body.metadata, { user_id: 'u-42' });
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'get_weather' });
    assert.match(String(body.system), /JSON object.*\n\{"type":"object"\}/s);
    assert.equal(anthropicRequestBody({ model: 'c', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER], tool_choice: 'none' }, false).tool_choice?.type, 'none');
  });
});

describe('anthropic adapter against the fake', () => {
  const up = fakeUpstream(startFakeAnthropic);
  const t = () => targetFor(up.fake.url, up.dispatcher);
  const hi = (over: Partial<ChatRequest> = {}) => chatRequest(MODEL, over);

  it('sends the key and version headers to /v1/messages', async () => {
    await anthropicAdapter.chat(hi(), t(), io());
    const sent = up.fake.requests.at(-1)!;
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], 'sk-ant-test');
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  });

  it('numbers tool calls among tool calls only, after a text block', async () => {
    const req = hi({ messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [WEATHER], stream: true });
    const chunks = await collectChunks(await anthropicAdapter.chatStream(req, t(), io()));
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    assert.ok(calls.length > 1 && calls.every((d) => d.index === 0));
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.ok(chunks.some((c) => c.choices[0]?.delta.content === "I'll "));
  });

  it('maps max_tokens and stop_sequence stops to length and stop', async () => {
    const r = await anthropicAdapter.chat(hi({ messages: [{ role: 'user', content: 'hi there' }], max_tokens: 2 }), t(), io());
    assert.equal(r.choices[0]!.finish_reason, 'length');
    const s = await anthropicAdapter.chat(hi({ messages: [{ role: 'user', content: 'hi there' }], stop: ['—'] }), t(), io());
    assert.equal(s.choices[0]!.message.content, 'Hello from anthropic ');
    assert.equal(s.choices[0]!.finish_reason, 'stop');
  });

  it('turns an overloaded 529 into a ProviderError with the overloaded type', async () => {
    const e = anthropicError(529);
    up.fake.fail({ kind: 'status', status: 529, body: e.body, headers: e.headers });
    const err = await providerFailure(anthropicAdapter.chat(hi(), t(), io()));
    assert.equal(err.status, 529);
    assert.equal(err.type, 'overloaded_error');
    assert.equal(err.message, 'Overloaded');
  });

  it('gives an in-stream overloaded_error status 529', async () => {
    up.fake.fail({ kind: 'stream-error', afterEvents: 3 });
    const stream = await anthropicAdapter.chatStream(hi({ stream: true }), t(), io());
    const err = await providerFailure(collectChunks(stream));
    assert.equal(err.status, 529);
    assert.equal(err.type, 'overloaded_error');
  });
});

describe('Anthropic text delta fast path', () => {
  it('reads exactly the compact text delta shape, and leaves anything else to the JSON parser', () => {
    const delta = (text: string, index = 0) => JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    for (const text of ['', ' token', 'a"}},{"x":"', '\\n\n\u2028😀', '}}']) assert.equal(compactTextDelta(delta(text, 12)), text);
    for (const data of [
      JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } }),
      JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a', extra: 1 } }),
      JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' }, more: 'b' }),
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"x":{"y":"b"}}',
      '{"type":"content_block_delta","index":,"delta":{"type":"text_delta","text":"a"}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a}}',
    ]) assert.equal(compactTextDelta(data), undefined, data);
  });
});
