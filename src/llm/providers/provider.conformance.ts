/**
 * The one conformance suite every provider adapter passes, each against its wire-faithful fake
 * server (test/fixtures/llm/). It checks the canonical contract of provider.ts: text and tool calls,
 * streaming event by event with usage last, errors with status, type and Retry-After, mid-stream
 * failures and cancellation.
 *
 * Also the kit adapter tests share: {@link testTarget}, {@link testIo}, {@link statusFault},
 * {@link chatRequest}, {@link collectChunks}, {@link providerFailure} and {@link fakeUpstream}.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, type Dispatcher } from 'undici';
import type { ChatChunk, ChatRequest } from '../wire/chat.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from './provider.js';
import { signalAttemptIo } from './attempt-io.js';

/** A fault as the fake servers understand it (see test/fixtures/llm/fake-server.ts). */
export type ConformanceFault =
  | { kind: 'status'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'cut'; afterEvents: number }
  | { kind: 'stream-error'; afterEvents: number }
  | { kind: 'hang' };

export interface ConformanceFake {
  readonly url: string;
  readonly requests: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: any }>;
  fail(...faults: ConformanceFault[]): void;
  readonly aborted: number;
  close(): Promise<void>;
}

export interface ConformanceSetup {
  readonly adapter: ProviderAdapter;
  readonly fake: ConformanceFake;
  /** The target for a model, with the fake's URL as base URL (or whatever the adapter needs). */
  target(model: string, dispatcher: Agent): ProviderTarget;
  /** The model the fake serves. */
  readonly model: string;
  /** The provider's own error body (and headers) for a status, as its API reference shows it. */
  errorFault(status: number, retryAfterSeconds?: number): ConformanceFault;
  /** Whether the provider reports usage in streams (false: the gateway estimates it). Default true. */
  readonly streamUsage?: boolean;
  /** Whether to test embeddings (when the adapter has them). Default true. */
  readonly embeddings?: boolean;
  /** Text the fake's replies contain for prompt "hi". Default "Hello from <name>". */
  readonly replyMarker?: string;
}


// ---- The kit adapter tests share --------------------------------------------------------------

/** Per-attempt I/O for tests: `signal` (default: one never aborted) and 5 s timeouts. */
export function testIo(signal: AbortSignal = new AbortController().signal): AttemptIo {
  return signalAttemptIo(signal, 5000, 5000);
}

/**
 * A target for tests: tenant "default", the given type as provider name, key "sk-test" named
 * "primary", no extra headers or options; `over` replaces any of these.
 */
export function testTarget(over: Partial<ProviderTarget> & { readonly dispatcher: Dispatcher }): ProviderTarget {
  return { tenant: 'default', provider: over.type ?? 'test', type: 'test', model: 'test-model', baseUrl: 'http://127.0.0.1', apiKey: 'sk-test', keyName: 'primary', headers: [], options: {}, ...over };
}

/** A fake provider's error response, as the fakes' error helpers (`openAiError(status)`…) give it. */
export interface FakeErrorResponse {
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** A setup's `errorFault` from a fake's error helper: its body and headers, plus Retry-After when asked for. */
export function statusFault(errorOf: (status: number) => FakeErrorResponse): ConformanceSetup['errorFault'] {
  return (status, retryAfter) => {
    const e = errorOf(status);
    return { kind: 'status', status, body: e.body, headers: retryAfter ? { ...e.headers, 'retry-after': String(retryAfter) } : e.headers };
  };
}

/** A request for `model` with one user message, "hi"; `over` replaces or adds fields. */
export function chatRequest(model: string, over: Partial<ChatRequest> = {}): ChatRequest {
  return { model, messages: [{ role: 'user', content: 'hi' }], ...over };
}

/** Every chunk of a stream, in order; rejects as the stream does. */
export async function collectChunks(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

/** The ProviderError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function providerFailure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => assert.fail('expected a ProviderError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProviderError, String(err));
  return err;
}

/**
 * A fake upstream and an Agent for the enclosing `describe`: both are created before its tests and
 * closed after them (whichever were created). Read `fake` and `dispatcher` inside tests and hooks
 * only, not while the suite is being declared.
 */
export function fakeUpstream<F extends { close(): Promise<void> }>(start: () => Promise<F>): { readonly fake: F; readonly dispatcher: Agent } {
  const up: { fake?: F; dispatcher?: Agent } = {};
  before(async () => {
    up.dispatcher = new Agent();
    up.fake = await start();
  });
  after(async () => {
    await up.fake?.close();
    await up.dispatcher?.close();
  });
  return up as { readonly fake: F; readonly dispatcher: Agent };
}

// ---- The suite -----------------------------------------------------------------------------------

const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

function request(model: string, over: Partial<ChatRequest> = {}): ChatRequest {
  return { model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], max_tokens: 100, ...over };
}


function streamedText(chunks: ChatChunk[]): string {
  return chunks.map((c) => c.choices.map((ch) => ch.delta.content ?? '').join('')).join('');
}

export function providerConformance(name: string, setup: () => Promise<ConformanceSetup>): void {
  describe(`provider conformance: ${name}`, () => {
    let s: ConformanceSetup;
    let dispatcher: Agent;
    let t: ProviderTarget;
    let marker: string;
    before(async () => {
      s = await setup();
      marker = s.replyMarker ?? `Hello from ${name}`;
      dispatcher = new Agent({ connections: 8 });
      t = s.target(s.model, dispatcher);
    });
    after(async () => {
      await s.fake.close();
      await dispatcher.close();
    });

    it('answers a chat completion with text, finish reason and usage', async () => {
      const r = await s.adapter.chat(request(s.model), t, testIo());
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.choices.length, 1);
      assert.match(String(r.choices[0]!.message.content), new RegExp(marker));
      assert.equal(r.choices[0]!.finish_reason, 'stop');
      assert.ok(r.usage && r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0, 'usage reported');
      assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
    });

    it('streams text event by event, finish reason, then usage last', async () => {
      const chunks = await collectChunks(await s.adapter.chatStream(request(s.model, { stream: true }), t, testIo()));
      assert.ok(chunks.length >= 3, `several chunks (got ${chunks.length})`);
      assert.match(streamedText(chunks), new RegExp(marker));
      assert.ok(streamedText(chunks).includes('—'), 'multi-byte characters survive chunk splits');
      assert.ok(chunks.some((c) => c.choices.some((ch) => ch.finish_reason === 'stop')), 'a stop finish reason');
      if (s.streamUsage !== false) {
        const last = chunks[chunks.length - 1]!;
        assert.ok(last.usage && last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0, 'usage on the last chunk');
      }
    });

    it('makes a tool call, and streams one with argument fragments', async () => {
      const req = request(s.model, { messages: [{ role: 'user', content: 'What is the weather in Paris? Use the tool.' }], tools: [WEATHER_TOOL], tool_choice: 'required' });
      const r = await s.adapter.chat(req, t, testIo());
      const call = r.choices[0]!.message.tool_calls?.[0];
      assert.ok(call, 'a tool call');
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.ok(call.id.length > 0);
      assert.equal(JSON.parse(call.function.arguments).location, 'Paris');
      assert.equal(r.choices[0]!.finish_reason, 'tool_calls');

      const chunks = await collectChunks(await s.adapter.chatStream({ ...req, stream: true }, t, testIo()));
      const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
      assert.ok(deltas.length >= 1);
      assert.equal(deltas[0]!.function?.name, 'get_weather');
      assert.ok(deltas[0]!.id, 'the first fragment carries the call id');
      const args = deltas.map((d) => d.function?.arguments ?? '').join('');
      assert.equal(JSON.parse(args).location, 'Paris');
      assert.ok(chunks.some((c) => c.choices.some((ch) => ch.finish_reason === 'tool_calls')));
    });

    it('sends the tool definitions and the system prompt upstream', async () => {
      const before = s.fake.requests.length;
      await s.adapter.chat(request(s.model, { tools: [WEATHER_TOOL] }), t, testIo());
      const sent = JSON.stringify(s.fake.requests[before]!.body);
      assert.ok(sent.includes('get_weather'), 'tool definition sent');
      assert.ok(sent.includes('Be brief.'), 'system prompt sent');
    });

    for (const [status, type] of [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [429, 'rate_limit_error'],
      [500, 'api_error'],
    ] as const) {
      it(`turns a ${status} into a ProviderError (${type})`, async () => {
        s.fake.fail(s.errorFault(status, status === 429 ? 2 : undefined));
        const err = await s.adapter.chat(request(s.model), t, testIo()).then(
          () => assert.fail('expected an error'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.status, status);
        assert.equal(err.kind, 'status');
        if (status !== 500) assert.equal(err.type, type);
        assert.ok(err.message.length > 0);
        if (status === 429) assert.equal(err.retryAfterMs, 2000);
      });
    }

    it('fails a stream before it starts with the provider status', async () => {
      s.fake.fail(s.errorFault(503));
      await assert.rejects(s.adapter.chatStream(request(s.model, { stream: true }), t, testIo()), (e: unknown) => e instanceof ProviderError && e.status === 503);
    });

    it('throws a ProviderError from the stream on a mid-stream error event', async () => {
      s.fake.fail({ kind: 'stream-error', afterEvents: 2 });
      const stream = await s.adapter.chatStream(request(s.model, { stream: true }), t, testIo());
      await assert.rejects(collectChunks(stream), (e: unknown) => e instanceof ProviderError);
    });

    it('throws a ProviderError when the connection is cut mid-stream', async () => {
      s.fake.fail({ kind: 'cut', afterEvents: 2 });
      const stream = await s.adapter.chatStream(request(s.model, { stream: true }), t, testIo());
      await assert.rejects(collectChunks(stream), (e: unknown) => e instanceof ProviderError);
    });

    it('stops and releases the upstream request when the attempt is aborted', async () => {
      s.fake.fail({ kind: 'hang' });
      const ac = new AbortController();
      const p = s.adapter.chat(request(s.model), t, testIo(ac.signal));
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(p, (e: unknown) => e instanceof ProviderError);
    });

    {
      it('embeddings', async (tt) => {
        if (s.embeddings === false || !s.adapter.embeddings) {
          tt.diagnostic(`${name} has no embeddings API in this adapter`);
          return;
        }
        const r = await s.adapter.embeddings({ model: s.model, input: ['one', 'two'] }, t, testIo());
        assert.equal(r.object, 'list');
        assert.equal(r.data.length, 2);
        assert.ok(Array.isArray(r.data[0]!.embedding));
        assert.ok(r.usage.prompt_tokens > 0);
      });
    }
  });
}
