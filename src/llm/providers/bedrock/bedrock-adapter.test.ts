import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Dispatcher } from 'undici';
import { FAKE_BEDROCK_CREDENTIALS, bedrockError, startFakeBedrock, type FakeBedrockCredentials } from '../../../../test/fixtures/llm/fake-bedrock.js';
import type { ChatRequest, ToolDefinition } from '../../wire/chat.js';
import { chatRequest, collectChunks as collect, fakeUpstream, providerConformance, providerFailure as failure, statusFault, testIo as io, testTarget } from '../provider.conformance.js';
import { ProviderError } from '../provider.js';
import { bedrockAdapter } from './bedrock-adapter.js';
import { converseChunks } from './converse-response.js';
import { eventStreamMessages, stringHeader } from './event-stream-reader.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const { accessKeyId, secretAccessKey } = FAKE_BEDROCK_CREDENTIALS;
const KEY = `${accessKeyId}:${secretAccessKey}`;

function targetFor(baseUrl: string, dispatcher: Dispatcher, apiKey: string = KEY, model = MODEL) {
  return testTarget({ type: 'bedrock', model, baseUrl, apiKey, options: { region: 'us-east-1' }, dispatcher });
}

providerConformance('bedrock', async () => {
  const fake = await startFakeBedrock();
  return {
    adapter: bedrockAdapter,
    fake,
    model: MODEL,
    target: (model, dispatcher) => targetFor(fake.url, dispatcher, KEY, model),
    errorFault: statusFault(bedrockError),
  };
});

const WEATHER: ToolDefinition = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

describe('bedrock adapter', () => {
  const up = fakeUpstream(() => startFakeBedrock());
  const sent = (): any => up.fake.requests[up.fake.requests.length - 1]!.body;
  const hi: ChatRequest = chatRequest(MODEL);

  it('signs requests so that the fake verifies them; a wrong secret is refused with 403', async () => {
    const r = await bedrockAdapter.chat(hi, targetFor(up.fake.url, up.dispatcher), io());
    assert.match(String(r.choices[0]!.message.content), /Hello from bedrock/);
    assert.equal(up.fake.requests[up.fake.requests.length - 1]!.path, `/model/${encodeURIComponent(MODEL)}/converse`);
    const err = await failure(bedrockAdapter.chat(hi, targetFor(up.fake.url, up.dispatcher, `${accessKeyId}:wrong-secret`), io()));
    assert.equal(err.status, 403);
    assert.equal(err.type, 'permission_error');
    assert.match(err.message, /signature we calculated does not match/);
    assert.equal(err.options.code, 'InvalidSignatureException');
  });

  it('puts the x-amzn-errortype of an error response into the code', async () => {
    const e = bedrockError(429);
    up.fake.fail({ kind: 'status', status: 429, body: e.body, headers: { ...e.headers, 'retry-after': '3' } });
    const err = await failure(bedrockAdapter.chat(hi, targetFor(up.fake.url, up.dispatcher), io()));
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.options.code, 'ThrottlingException');
    assert.equal(err.retryAfterMs, 3000);
    assert.equal(err.message, 'Too many requests, please wait before trying again.');
  });

  it('signs the session token of a three-part key', async () => {
    const creds: FakeBedrockCredentials = { ...FAKE_BEDROCK_CREDENTIALS, sessionToken: 'FwoGZXIvYXdzEFAKE/session+token==' };
    const withToken = await startFakeBedrock('bedrock', creds);
    try {
      const r = await bedrockAdapter.chat(hi, targetFor(withToken.url, up.dispatcher, `${KEY}:${creds.sessionToken}`), io());
      assert.equal(r.choices[0]!.finish_reason, 'stop');
      assert.equal(withToken.requests[0]!.headers['x-amz-security-token'], creds.sessionToken);
      assert.equal((await failure(bedrockAdapter.chat(hi, targetFor(withToken.url, up.dispatcher), io()))).status, 403);
    } finally {
      await withToken.close();
    }
  });

  it('refuses a malformed key with a 401 that does not echo it, without calling Bedrock', async () => {
    const before = up.fake.requests.length;
    for (const key of ['only-one-part', 'a:b:c:d', 'AKIA:', undefined]) {
      const err = await failure(bedrockAdapter.chat(hi, { ...targetFor(up.fake.url, up.dispatcher), apiKey: key }, io()));
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      if (key) assert.ok(!err.message.includes(key));
    }
    assert.equal(up.fake.requests.length, before);
  });

  it('merges consecutive turns and tool results so that roles alternate', async () => {
    const req: ChatRequest = {
      model: MODEL,
      tools: [WEATHER],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'user', content: [{ type: 'text', text: 'Use the tool.' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
        { role: 'user', content: 'Thanks, summarise.' },
      ],
    };
    const r = await bedrockAdapter.chat(req, targetFor(up.fake.url, up.dispatcher), io());
    assert.match(String(r.choices[0]!.message.content), /Hello from bedrock/);
    const body = sent();
    assert.deepEqual(body.system, [{ text: 'Be brief.' }]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }, { text: 'Use the tool.' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { location: 'Paris' } } },
          { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { location: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_1', content: [{ json: { temperature: 21 } }] } },
          { toolResult: { toolUseId: 'call_2', content: [{ text: 'sunny' }] } },
          { text: 'Thanks, summarise.' },
        ],
      },
    ]);
    assert.equal(body.toolConfig.tools[0].toolSpec.inputSchema.json.required[0], 'location');
    assert.equal(body.toolConfig.toolChoice, undefined);
  });

  it('translates inference settings, tool choice and JSON response formats', async () => {
    await bedrockAdapter.chat(
      { ...hi, max_tokens: 50, temperature: 0.2, top_p: 0.9, stop: 'END', tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } }, response_format: { type: 'json_object' } },
      targetFor(up.fake.url, up.dispatcher),
      io(),
    );
    const body = sent();
    assert.deepEqual(body.inferenceConfig, { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ['END'] });
    assert.deepEqual(body.toolConfig.toolChoice, { tool: { name: 'get_weather' } });
    assert.match(body.system[0].text, /JSON object/);
    await bedrockAdapter.chat({ ...hi, tools: [WEATHER], tool_choice: 'none' }, targetFor(up.fake.url, up.dispatcher), io());
    assert.equal(sent().toolConfig, undefined);
  });

  it('sends data: images as image blocks and refuses https image URLs with a 400', async () => {
    const image = (url: string): ChatRequest => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url } }] }] });
    await bedrockAdapter.chat(image('data:image/jpeg;base64,/9j/4AAQ'), targetFor(up.fake.url, up.dispatcher), io());
    assert.deepEqual(sent().messages[0].content[1], { image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } } });
    const err = await failure(bedrockAdapter.chat(image('https://example.com/cat.png'), targetFor(up.fake.url, up.dispatcher), io()));
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.message, /data: URL/);
  });

  it('streams text before a tool call, counting tool calls from zero', async () => {
    const req: ChatRequest = { model: MODEL, stream: true, tools: [WEATHER], tool_choice: 'auto', messages: [{ role: 'user', content: 'What is the weather in Paris?' }] };
    const chunks = await collect(await bedrockAdapter.chatStream(req, targetFor(up.fake.url, up.dispatcher), io()));
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Let me check the weather.');
    const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    assert.ok(deltas.every((d) => d.index === 0));
    assert.deepEqual(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { location: 'Paris', unit: 'celsius' });
    const last = chunks[chunks.length - 1]!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage && last.usage.total_tokens > 0);
    assert.ok(chunks.every((c) => c.id === chunks[0]!.id && c.id.startsWith('chatcmpl-')));
  });

  it('maps in-stream exceptions to their statuses', async () => {
    up.fake.fail({ kind: 'stream-error', afterEvents: 1 });
    const throttled = await failure(collect(await bedrockAdapter.chatStream({ ...hi, stream: true }, targetFor(up.fake.url, up.dispatcher), io())));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.type, 'rate_limit_error');
    const modelError = await startFakeBedrock('bedrock', FAKE_BEDROCK_CREDENTIALS, { streamException: 'modelStreamErrorException' });
    try {
      modelError.fail({ kind: 'stream-error', afterEvents: 3 });
      const err = await failure(collect(await bedrockAdapter.chatStream({ ...hi, stream: true }, targetFor(modelError.url, up.dispatcher), io())));
      assert.equal(err.status, 424);
      assert.equal(err.options.code, 'modelStreamErrorException');
    } finally {
      await modelError.close();
    }
  });

  it('embeds with Titan, one InvokeModel request per input', async () => {
    const before = up.fake.requests.length;
    const r = await bedrockAdapter.embeddings!({ model: 'amazon.titan-embed-text-v2:0', input: ['one', 'two three'], dimensions: 8, encoding_format: 'base64' }, targetFor(up.fake.url, up.dispatcher, KEY, 'amazon.titan-embed-text-v2:0'), io());
    assert.equal(up.fake.requests.length - before, 2);
    assert.deepEqual(up.fake.requests[before + 1]!.body, { inputText: 'two three', dimensions: 8 });
    assert.equal(Buffer.from(r.data[1]!.embedding as string, 'base64').length, 8 * 4);
    assert.equal(r.usage.prompt_tokens, 3);
    await failure(bedrockAdapter.embeddings!({ model: 'm', input: [[1, 2]] }, targetFor(up.fake.url, up.dispatcher), io()));
  });
});

describe('event-stream reader', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const messages: Message[] = [
    { headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'contentBlockDelta' } }, body: fromUtf8('{"delta":{"text":"Hello — world"}}') },
    { headers: { ':message-type': { type: 'string', value: 'event' }, n: { type: 'integer', value: 7 } }, body: new Uint8Array(0) },
    { headers: { ':message-type': { type: 'string', value: 'exception' }, ':exception-type': { type: 'string', value: 'throttlingException' } }, body: fromUtf8('{"message":"slow down"}') },
  ];
  const bytes = Buffer.concat(messages.map((m) => codec.encode(m)));

  async function* pieces(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
    for (const p of parts) yield p;
  }
  async function read(body: AsyncIterable<Uint8Array>): Promise<Message[]> {
    const out: Message[] = [];
    for await (const m of eventStreamMessages(body)) out.push(m);
    return out;
  }
  const summary = (ms: Message[]) => ms.map((m) => [stringHeader(m, ':message-type'), stringHeader(m, ':event-type'), toUtf8(m.body)]);

  it('decodes messages split at every byte', async () => {
    const oneByteEach = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(summary(await read(pieces(...oneByteEach))), summary(messages));
    assert.deepEqual((await read(pieces(...oneByteEach)))[1]!.headers.n, { type: 'integer', value: 7 });
  });

  it('decodes messages split in two at every offset', async () => {
    for (let at = 0; at <= bytes.length; at++) {
      assert.deepEqual(summary(await read(pieces(bytes.subarray(0, at), bytes.subarray(at)))), summary(messages), `split at ${at}`);
    }
  });

  it('fails with a protocol error when the body ends inside a message or a CRC is wrong', async () => {
    await assert.rejects(read(pieces(bytes.subarray(0, bytes.length - 1))), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
    const corrupt = Buffer.from(bytes);
    corrupt[20] = corrupt[20]! ^ 0xff;
    await assert.rejects(read(pieces(corrupt)), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
    const badLength = Buffer.from(bytes);
    badLength.writeUInt32BE(3, 0);
    await assert.rejects(read(pieces(badLength)), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
  });

  it('is a protocol failure when a ConverseStream ends before messageStop', async () => {
    const start: Message = { headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'messageStart' } }, body: fromUtf8('{"role":"assistant"}') };
    await assert.rejects(collect(converseChunks(eventStreamMessages(pieces(codec.encode(start))), MODEL)), (e: unknown) => e instanceof ProviderError && e.kind === 'protocol');
  });
});
