import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { startFakeAnthropic } from '../../../test/fixtures/llm/fake-anthropic.js';
import { startFakeOpenAi } from '../../../test/fixtures/llm/fake-openai.js';
import type { FakeServer } from '../../../test/fixtures/llm/fake-server.js';
import { GatewayError } from '../../core/errors.js';
import { anthropicAdapter, anthropicRequestBody } from '../providers/anthropic/anthropic-adapter.js';
import { COMPAT_PROFILES, openAiCompatibleAdapter } from '../providers/openai-compatible.js';
import { testIo, testTarget } from '../providers/provider.conformance.js';
import { ProviderError, type ProviderAdapter, type ProviderTarget } from '../providers/provider.js';
import type { ChatChunk, ChatResponse } from '../wire/chat.js';
import { AnthropicStreamEncoder, anthropicErrorBody, anthropicErrorType, anthropicMessageId, anthropicRequestToCanonical, canonicalToAnthropicResponse } from './anthropic-format.js';

function validationDetails(body: unknown): string[] {
  try {
    anthropicRequestToCanonical(body);
  } catch (e) {
    assert.ok(e instanceof GatewayError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'PC_ERR_VALIDATION');
    return (e.details ?? []).map((d) => d.path);
  }
  return assert.fail('expected a validation error');
}

const WEATHER_TOOL = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };

describe('anthropicRequestToCanonical', () => {
  it('rejects bad bodies with field paths', () => {
    assert.deepEqual(validationDetails({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }), ['max_tokens']);
    assert.deepEqual(validationDetails({ max_tokens: 10, messages: [] }), ['model', 'messages']);
    assert.deepEqual(validationDetails('nope'), ['']);
    assert.deepEqual(validationDetails({ model: 'c', max_tokens: 10, messages: [{ role: 'system', content: 'x' }] }), ['messages.0.role']);
    const badImage = { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image', source: { type: 'file', file_id: 'f' } }] };
    assert.deepEqual(validationDetails({ model: 'c', max_tokens: 10, messages: [badImage] }), ['messages.0.content.1.source.type']);
    assert.deepEqual(validationDetails({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'tool' } }), ['tool_choice.name']);
    assert.deepEqual(validationDetails({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], temperature: 1.5 }), ['temperature']);
  });

  it('maps system blocks, images, tool use and tool results in canonical order', () => {
    const req = anthropicRequestToCanonical({
      model: 'claude-opus-4-1',
      max_tokens: 256,
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Use metric units.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where this photo was taken?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Paris.', signature: 'sig' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18°C' }, { type: 'image', source: { type: 'url', url: 'https://example.com/sky.jpg' } }] },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: 'user-7' },
      stream: true,
    });
    assert.deepEqual(req.messages, [
      { role: 'system', content: 'Be brief.\n\nUse metric units.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather where this photo was taken?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/sky.jpg' } }, { type: 'text', text: 'And tomorrow?' }] },
    ]);
    assert.deepEqual(req.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.input_schema } }]);
    assert.equal(req.tool_choice, 'auto');
    assert.equal(req.parallel_tool_calls, false);
    assert.deepEqual(req.stop, ['END']);
    assert.equal(req.max_tokens, 256);
    assert.equal(req.temperature, 0.5);
    assert.equal(req.top_p, 0.9);
    assert.equal(req.user, 'user-7');
    assert.equal(req.stream, true);
    assert.deepEqual(req.stream_options, { include_usage: true });
  });

  it('maps tool_choice any, tool and none', () => {
    const base = { model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL] };
    assert.equal(anthropicRequestToCanonical({ ...base, tool_choice: { type: 'any' } }).tool_choice, 'required');
    assert.equal(anthropicRequestToCanonical({ ...base, tool_choice: { type: 'none' } }).tool_choice, 'none');
    assert.deepEqual(anthropicRequestToCanonical({ ...base, tool_choice: { type: 'tool', name: 'get_weather' } }).tool_choice, { type: 'function', function: { name: 'get_weather' } });
  });

  it('round-trips through the adapter back to the same Anthropic request', () => {
    const original = {
      model: 'claude-opus-4-1',
      max_tokens: 300,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: '21°C' },
          ],
        },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.3,
      metadata: { user_id: 'u1' },
      stream: true,
    };
    assert.deepEqual(anthropicRequestBody(anthropicRequestToCanonical(original), true), original);
  });
});

const CANONICAL: ChatResponse = {
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } },
};

describe('canonicalToAnthropicResponse and anthropicErrorBody', () => {
  it('builds a message with text and tool_use blocks, stop reason and usage', () => {
    assert.deepEqual(canonicalToAnthropicResponse(CANONICAL, 'claude-opus-4-1'), {
      id: 'msg_abc123',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-1',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 60 },
    });
  });

  it('maps finish reasons to stop reasons', () => {
    const withFinish = (finish_reason: ChatResponse['choices'][number]['finish_reason']) =>
      canonicalToAnthropicResponse({ ...CANONICAL, choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason }] }, 'm').stop_reason;
    assert.equal(withFinish('stop'), 'end_turn');
    assert.equal(withFinish('length'), 'max_tokens');
    assert.equal(withFinish('content_filter'), 'refusal');
    assert.equal(withFinish(null), 'end_turn');
    assert.equal(anthropicMessageId('msg_01X'), 'msg_01X');
  });

  it('writes error bodies with the type for the status', () => {
    const typeOf = (status: number) => JSON.parse(anthropicErrorBody(status, 'm')).error.type;
    assert.deepEqual(JSON.parse(anthropicErrorBody(429, 'Slow down')), { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } });
    const expected: Array<[number, string]> = [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [422, 'invalid_request_error'],
      [500, 'api_error'],
      [502, 'api_error'],
      [503, 'overloaded_error'],
      [504, 'timeout_error'],
      [529, 'overloaded_error'],
    ];
    for (const [status, type] of expected) assert.equal(typeOf(status), type, String(status));
  });
});

describe('AnthropicStreamEncoder', () => {
  it('numbers blocks in order, closes each before the next, and holds stop and usage for message_delta', () => {
    const enc = new AnthropicStreamEncoder('claude', 'msg_1');
    const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt' };
    const chunks: ChatChunk[] = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } },
    ];
    const text = chunks.map((c) => enc.push(c)).join('') + enc.end();
    const events = text
      .trim()
      .split('\n\n')
      .map((f) => JSON.parse(f.split('\n')[1]!.slice(6)) as { type: string; index?: number });
    assert.deepEqual(
      events.map((e) => `${e.type}${e.index ?? ''}`),
      ['message_start', 'content_block_start0', 'content_block_delta0', 'content_block_stop0', 'content_block_start1', 'content_block_delta1', 'content_block_delta1', 'content_block_stop1', 'message_delta', 'message_stop'],
    );
    assert.deepEqual(events[8], { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 9, cache_read_input_tokens: 0, output_tokens: 4 } });
    assert.equal(enc.end(), '');
    assert.equal(enc.error('api_error', 'late'), '');
  });
});

/**
 * A miniature gateway for SDK acceptance: POST /v1/messages translated with the format, answered by a
 * provider adapter against a fake upstream (or by a canned stream), written back in Anthropic's shapes.
 */
async function startMiniGateway(adapter: ProviderAdapter, target: ProviderTarget): Promise<{ url: string; server: Server }> {
  const io = testIo();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { model: string };
        try {
          const canonical = { ...anthropicRequestToCanonical(body), model: target.model };
          if (!canonical.stream) {
            const r = await adapter.chat(canonical, target, io);
            res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_mini' });
            res.end(JSON.stringify(canonicalToAnthropicResponse(r, body.model)));
            return;
          }
          const stream = await adapter.chatStream(canonical, target, io);
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const enc = new AnthropicStreamEncoder(body.model, 'msg_mini1');
          try {
            for await (const chunk of stream) res.write(enc.push(chunk));
            res.end(enc.end());
          } catch (e) {
            const pe = e as ProviderError;
            res.end(enc.error(anthropicErrorType(pe.status), pe.message));
          }
        } catch (e) {
          const status = e instanceof GatewayError || e instanceof ProviderError ? e.status : 500;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(anthropicErrorBody(status, (e as Error).message));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const SDK_TOOL = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

for (const upstream of ['anthropic', 'openai'] as const) {
  describe(`Anthropic SDK through the format, ${upstream} upstream`, () => {
    let fake: FakeServer;
    let mini: { url: string; server: Server };
    let dispatcher: Agent;
    let client: Anthropic;
    before(async () => {
      fake = upstream === 'anthropic' ? await startFakeAnthropic() : await startFakeOpenAi();
      dispatcher = new Agent();
      const adapter = upstream === 'anthropic' ? anthropicAdapter : openAiCompatibleAdapter(COMPAT_PROFILES.find((p) => p.type === 'openai')!);
      const target = testTarget({
        type: upstream,
        model: upstream === 'anthropic' ? 'claude-opus-4-1' : 'gpt-4o-mini',
        baseUrl: upstream === 'anthropic' ? fake.url : `${fake.url}/v1`,
        dispatcher,
      });
      mini = await startMiniGateway(adapter, target);
      client = new Anthropic({ baseURL: mini.url, apiKey: 'gateway-key', maxRetries: 0 });
    });
    after(async () => {
      await new Promise((r) => mini.server.close(r));
      await fake.close();
      await dispatcher.close();
    });

    it('messages.create returns a message the SDK reads', async () => {
      const m = await client.messages.create({ model: 'claude-opus-4-1', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(m.type, 'message');
      assert.match(m.id, /^msg_/);
      assert.equal(m.model, 'claude-opus-4-1');
      const block = m.content[0];
      assert.ok(block?.type === 'text');
      assert.match(block.text, new RegExp(`Hello from ${upstream} — you said: hi`));
      assert.equal(m.stop_reason, 'end_turn');
      assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);
    });

    it('messages.stream yields text and a final message with usage', async () => {
      const stream = client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      let streamed = '';
      stream.on('text', (t) => (streamed += t));
      const m = await stream.finalMessage();
      assert.match(streamed, new RegExp(`Hello from ${upstream} — you said: hi`));
      assert.equal(m.content[0]?.type === 'text' && m.content[0].text, streamed);
      assert.equal(m.stop_reason, 'end_turn');
      assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0, JSON.stringify(m.usage));
    });

    it('streams a tool call the SDK assembles into tool_use input, then takes the result back', async () => {
      const stream = client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 100, tools: [SDK_TOOL], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
      const m = await stream.finalMessage();
      const use = m.content.find((b) => b.type === 'tool_use');
      assert.ok(use?.type === 'tool_use');
      assert.equal(use.name, 'get_weather');
      assert.deepEqual(use.input, { location: 'Paris', unit: 'celsius' });
      assert.equal(m.stop_reason, 'tool_use');
      const next = await client.messages.create({
        model: 'claude-opus-4-1',
        max_tokens: 100,
        tools: [SDK_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: m.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18°C' }] },
        ],
      });
      assert.equal(next.type, 'message');
    });

    it('surfaces a mid-stream failure as an SDK error with the Anthropic type', async () => {
      fake.fail({ kind: 'stream-error', afterEvents: 3 });
      const stream = client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      await assert.rejects(stream.finalMessage(), (e: unknown) => e instanceof Anthropic.APIError && e.type === (upstream === 'anthropic' ? 'overloaded_error' : 'api_error'));
    });

    it('surfaces validation failures as SDK BadRequestErrors', async () => {
      const bad = { model: 'claude-opus-4-1', messages: [{ role: 'user', content: 'hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
      await assert.rejects(client.messages.create(bad), (e: unknown) => e instanceof Anthropic.BadRequestError && e.type === 'invalid_request_error' && /max_tokens/.test(e.message));
    });
  });
}
