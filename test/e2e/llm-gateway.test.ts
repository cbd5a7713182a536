/**
 * The LLM gateway end to end with the official SDKs: the `openai` and `@anthropic-ai/sdk` packages
 * point their base URL at the gateway (HTTPS, API key of an application) and reach fake OpenAI and
 * Anthropic servers behind it, in both directions, streaming and not, with tool calls; routing
 * policies fall back; usage and cost are recorded and queried through the admin API.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, startGateway, waitFor, type TestGateway } from './harness.js';
import { createCredential, grant, LENIENT_FAILURES } from './access-harness.js';
import { startFakeOpenAi, openAiError } from '../fixtures/llm/fake-openai.js';
import { startFakeAnthropic } from '../fixtures/llm/fake-anthropic.js';
import type { FakeServer } from '../fixtures/llm/fake-server.js';

const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

describe('LLM gateway with the official SDKs', () => {
  let gw: TestGateway;
  let oa: FakeServer;
  let an: FakeServer;
  let key: string;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES } } });
    oa = await startFakeOpenAi('openai');
    an = await startFakeAnthropic('anthropic');
    await gw.apply({
      llmProviders: [
        {
          name: 'openai',
          type: 'openai',
          baseUrl: `${oa.url}/v1`,
          keys: { primary: 'sk-openai-test' },
          models: [{ name: 'gpt-4o-mini', contextWindow: 1000, maxOutput: 500, pricing: { input: 1, output: 2 } }, { name: 'text-embedding-3-small', embeddings: true }],
        },
        { name: 'openai-backup', type: 'openai', baseUrl: `${oa.url}/v1`, keys: { backup: 'sk-backup' } },
        { name: 'openai-raw', type: 'openai', baseUrl: `${oa.url}/v1`, keys: { raw: 'sk-raw' } },
        { name: 'openai-badkey', type: 'openai', baseUrl: `${oa.url}/v1`, keys: { bad: 'sk-bad-key-value' } },
        { name: 'anthropic', type: 'anthropic', baseUrl: an.url, keys: { primary: 'sk-ant-test' }, models: [{ name: 'claude-3-5-haiku' }] },
      ],
      llmPolicies: [
        { name: 'fast', targets: [{ provider: 'openai-backup', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-3-5-haiku' }], retries: { attempts: 0 } },
        { name: 'fast-stream', targets: [{ provider: 'openai-raw', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-3-5-haiku' }], retries: { attempts: 0 } },
      ],
      services: [
        { name: 'ai', llm: { models: ['*'] }, access: { methods: ['api-key'], approval: 'auto' }, routes: [{ name: 'ai', paths: ['/v1'] }] },
        { name: 'ai-cached', llm: { models: ['openai/*'], cache: { enabled: true, ttl: '1m' } }, access: { methods: ['api-key'], approval: 'auto' }, routes: [{ name: 'ai-cached', paths: ['/cached/v1'] }] },
      ],
      applications: [{ name: 'chatbot' }],
    });
    await grant(gw, 'default', 'chatbot', 'ai');
    await grant(gw, 'default', 'chatbot', 'ai-cached');
    key = (await createCredential(gw, 'default', 'chatbot')).secret;
    const fetch = ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: gw.agent } as never)) as never;
    openai = new OpenAI({ baseURL: `${gw.httpsUrl}/v1`, apiKey: key, fetch, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.httpsUrl, apiKey: key, fetch, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await oa?.close();
    await an?.close();
  });

  it('keeps provider keys sealed at rest and never returns them', async () => {
    const exported = await gw.admin('GET', '/admin/v1/tenants/default/config');
    assert.equal(exported.status, 200);
    for (const p of exported.body.llmProviders) for (const v of Object.values(p.keys)) assert.equal(v, '<redacted>');
    // The database and its write-ahead log (recent writes live there until a checkpoint).
    const db = Buffer.concat(await Promise.all(['portcullis.db', 'portcullis.db-wal'].map((f) => readFile(join(gw.dataDir, f)).catch(() => Buffer.alloc(0)))));
    assert.ok(db.includes('openai-backup'), 'the providers are in the bytes read');
    for (const secret of ['sk-openai-test', 'sk-ant-test', 'sk-backup']) assert.equal(db.includes(secret), false, `${secret} is not stored in clear`);
  });

  it('OpenAI SDK → OpenAI provider: chat, with who answered in the headers', async () => {
    const { data, response } = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.match(data.choices[0]!.message.content!, /Hello from openai — you said: hi/);
    assert.equal(response.headers.get('x-portcullis-provider'), 'openai');
    assert.equal(response.headers.get('x-portcullis-deployment'), 'openai/gpt-4o-mini');
    assert.equal(response.headers.get('x-portcullis-attempts'), '1');
    const sent = oa.requests.at(-1)!;
    assert.equal(sent.body.model, 'gpt-4o-mini');
    assert.equal(sent.headers.authorization, 'Bearer sk-openai-test', 'the provider key, not the client key, goes upstream');
  });

  it('OpenAI SDK → Anthropic provider: streaming text and a streamed tool call', async () => {
    const stream = await openai.chat.completions.create({ model: 'anthropic/claude-3-5-haiku', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    assert.match(text, /Hello from anthropic — you said: hi/);
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0);

    const tool = await openai.chat.completions.create({ model: 'anthropic/claude-3-5-haiku', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [WEATHER], tool_choice: 'required', stream: true });
    let args = '';
    let name = '';
    for await (const c of tool) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        name ||= t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
    }
    assert.equal(name, 'get_weather');
    assert.equal(JSON.parse(args).location, 'Paris');
  });

  it('Anthropic SDK → OpenAI provider and → Anthropic provider, streaming and not', async () => {
    const m = await anthropic.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(m.type, 'message');
    assert.match((m.content[0] as { text: string }).text, /Hello from openai/);
    assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);

    const final = await anthropic.messages.stream({ model: 'anthropic/claude-3-5-haiku', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.match((final.content[0] as { text: string }).text, /Hello from anthropic — you said: hi/);
    assert.equal(final.stop_reason, 'end_turn');

    const toolMsg = await anthropic.messages
      .stream({ model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }], tool_choice: { type: 'any' } })
      .finalMessage();
    const use = toolMsg.content.find((b) => b.type === 'tool_use') as { name: string; input: { location: string } } | undefined;
    assert.equal(use?.name, 'get_weather');
    assert.equal(use?.input.location, 'Paris');
    assert.equal(toolMsg.stop_reason, 'tool_use');
  });

  it('a policy falls back to its next target on a 429, and says how many attempts it took', async () => {
    oa.fail({ kind: 'status', ...openAiError(429) });
    const { data, response } = await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.match(data.choices[0]!.message.content!, /Hello from anthropic/);
    assert.equal(response.headers.get('x-portcullis-attempts'), '2');
    assert.equal(response.headers.get('x-portcullis-deployment'), 'anthropic/claude-3-5-haiku');
  });

  it('a stream failing before its first byte falls back; one failing later ends with an error event both SDKs raise', async () => {
    // openai-raw's first event is an error: nothing reached the client, so the policy moves on.
    oa.fail({ kind: 'stream-error', afterEvents: 0 });
    const fellBack = await openai.chat.completions.create({ model: 'fast-stream', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const c of fellBack.data) text += c.choices[0]?.delta.content ?? '';
    assert.match(text, /Hello from anthropic/);
    assert.equal(fellBack.response.headers.get('x-portcullis-attempts'), '2');

    oa.fail({ kind: 'stream-error', afterEvents: 3 });
    let received = '';
    await assert.rejects(async () => {
      for await (const c of await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true })) received += c.choices[0]?.delta.content ?? '';
    }, (e: unknown) => e instanceof OpenAI.APIError && /error while processing/.test(e.message));
    assert.ok(received.length > 0, 'part of the answer arrived before the error');

    oa.fail({ kind: 'stream-error', afterEvents: 3 });
    await assert.rejects(anthropic.messages.stream({ model: 'openai/gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(), (e: unknown) => e instanceof Anthropic.APIError);
  });

  it('a provider error reaches the SDK as its own error type with the status', async () => {
    oa.fail({ kind: 'status', ...openAiError(400, 'bad things') });
    await assert.rejects(openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => e instanceof OpenAI.BadRequestError && /bad things/.test(e.message));
    // The provider refusing the gateway's own key is the gateway's problem: 502, and nothing of the key.
    oa.fail({ kind: 'status', ...openAiError(401, 'Incorrect API key provided: sk-bad-********alue. You can find your API key at https://platform.openai.com/account/api-keys.') });
    await assert.rejects(openai.chat.completions.create({ model: 'openai-badkey/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError && e.status === 502, String(e));
      assert.doesNotMatch(e.message, /sk-bad|Incorrect API key/);
      return true;
    });
    await assert.rejects(anthropic.messages.create({ model: 'nope/unknown', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => e instanceof Anthropic.NotFoundError);
  });

  it('checks model limits before sending, with a clear 400', async () => {
    const before = oa.requests.length;
    await assert.rejects(
      openai.chat.completions.create({ model: 'openai/gpt-4o-mini', max_tokens: 600, messages: [{ role: 'user', content: 'hi' }] }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /at most 500 output tokens/.test(e.message),
    );
    await assert.rejects(
      openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(2000) }] }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /context window of 1000/.test(e.message),
    );
    assert.equal(oa.requests.length, before, 'nothing was sent upstream');
  });

  it('lists the models the caller may use, and serves embeddings (base64, as the SDK asks by default)', async () => {
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['anthropic/claude-3-5-haiku', 'fast', 'fast-stream', 'openai/gpt-4o-mini', 'openai/text-embedding-3-small']);
    const e = await openai.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['one', 'three'] });
    assert.equal(e.data.length, 2);
    assert.ok(Math.abs(e.data[1]!.embedding[1]! - 0.5) < 1e-6, 'floats survive the base64 round trip');
  });

  it('records usage and cost per application, model and deployment, queryable by the admin API', async () => {
    await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cost me' }] });
    await waitFor(async () => {
      const r = await gw.admin('GET', '/admin/v1/tenants/default/llm/usage?groupBy=application,deployment');
      return r.body.items.some((i: any) => i.group.deployment === 'openai/gpt-4o-mini' && i.costUsd > 0);
    }, 5000, 'usage recorded');
    const r = await gw.admin('GET', '/admin/v1/tenants/default/llm/usage?groupBy=application,deployment');
    assert.equal(r.status, 200);
    const row = r.body.items.find((i: any) => i.group.deployment === 'openai/gpt-4o-mini');
    assert.equal(row.group.application, 'chatbot');
    // $1 per 1M input, $2 per 1M output.
    assert.equal(Math.round(row.costUsd * 1e9), row.inputTokens * 1000 + row.outputTokens * 2000);
    const calls = await gw.admin('GET', '/admin/v1/tenants/default/llm/calls?limit=5');
    assert.equal(calls.status, 200);
    assert.ok(calls.body.items.every((c: any) => c.application === 'chatbot' && typeof c.costUsd === 'number'));
    const bad = await gw.admin('GET', '/admin/v1/tenants/default/llm/usage?groupBy=color');
    assert.equal(bad.status, 400);
    const prices = await gw.admin('GET', '/admin/v1/llm/default-prices');
    assert.deepEqual(prices.body.items.find((p: any) => p.model === 'gpt-4o-mini'), { model: 'gpt-4o-mini', input: 0.15, output: 0.6, cachedInput: 0.075 });

    // The same through the CLI.
    const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: gw.token, PORTCULLIS_CA_FILE: join(gw.dataDir, 'ca.pem') };
    const bin = ['--import', 'tsx', new URL('../../src/cli/bin.ts', import.meta.url).pathname];
    const summary = await runCommand(process.execPath, [...bin, 'usage', '--group-by', 'application,deployment', '--since', '1d'], env);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /APPLICATION\s+DEPLOYMENT\s+REQUESTS/);
    assert.match(summary.stdout, /chatbot\s+openai\/gpt-4o-mini\s+\d+/);
    const recent = await runCommand(process.execPath, [...bin, 'usage', 'calls', '--limit', '3'], env);
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /chatbot/);
  });

  /** The usage record of a request, once the ledger has written it. */
  async function callRecord(requestId: string | null): Promise<any> {
    let found: any;
    await waitFor(async () => {
      const r = await gw.admin('GET', '/admin/v1/tenants/default/llm/calls?limit=1000');
      found = r.body.items.find((c: any) => c.requestId === requestId);
      return found !== undefined;
    }, 5000, `usage record of ${requestId}`);
    return found;
  }

  it('charges non-streamed and streamed requests what the provider reported, at the catalogue price', async () => {
    const plain = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'price this' }] }).withResponse();
    const rec = await callRecord(plain.response.headers.get('x-request-id'));
    assert.deepEqual([rec.inputTokens, rec.outputTokens, rec.estimated, rec.outcome, rec.stream], [plain.data.usage!.prompt_tokens, plain.data.usage!.completion_tokens, false, 'ok', false]);
    assert.equal(Math.round(rec.costUsd * 1e9), rec.inputTokens * 1000 + rec.outputTokens * 2000);

    // The client does not ask for usage: the gateway asks the provider anyway, and keeps it from the client.
    const streamed = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'price this stream' }], stream: true }).withResponse();
    let sawUsage = false;
    for await (const c of streamed.data) if (c.usage) sawUsage = true;
    assert.equal(sawUsage, false);
    assert.equal(oa.requests.at(-1)!.body.stream_options.include_usage, true);
    const srec = await callRecord(streamed.response.headers.get('x-request-id'));
    assert.deepEqual([srec.estimated, srec.outcome, srec.stream], [false, 'ok', true]);
    assert.ok(srec.outputTokens > 0 && srec.ttftMs !== null);
    assert.equal(Math.round(srec.costUsd * 1e9), srec.inputTokens * 1000 + srec.outputTokens * 2000);
  });

  it('a client that goes away mid-stream cancels the upstream request and is charged what was delivered', async () => {
    const abortedBefore = oa.aborted;
    const ac = new AbortController();
    const { data, response } = await openai.chat.completions
      .create({ model: 'openai-raw/gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(4000) }], stream: true }, { signal: ac.signal })
      .withResponse();
    let chunks = 0;
    try {
      for await (const _ of data) if (++chunks === 5) ac.abort();
    } catch {
      // The SDK reports the abort as an error, or ends the iteration.
    }
    assert.equal(chunks >= 5, true, `stream started (${chunks} chunks)`);
    await waitFor(() => oa.aborted > abortedBefore, 5000, 'upstream request aborted');
    const rec = await callRecord(response.headers.get('x-request-id'));
    assert.equal(rec.outcome, 'aborted');
    assert.equal(rec.estimated, true, 'no usage came from the provider: the gateway counted');
    assert.ok(rec.inputTokens >= 4000 && rec.outputTokens > 0 && rec.outputTokens < 4000, `delivered part only: ${rec.outputTokens}`);
    assert.ok(rec.costUsd > 0, 'built-in price of gpt-4o-mini applies');
  });

  it('answers repeated requests from the cache, marked and free; Cache-Control: no-cache bypasses it', async () => {
    const fetch = ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: gw.agent } as never)) as never;
    const cached = new OpenAI({ baseURL: `${gw.httpsUrl}/cached/v1`, apiKey: key, fetch, maxRetries: 0 });
    const ask = () => cached.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }], temperature: 0 }).withResponse();
    const first = await ask();
    assert.equal(first.response.headers.get('x-portcullis-cache'), 'miss');
    const sent = oa.requests.length;
    const second = await ask();
    assert.equal(second.response.headers.get('x-portcullis-cache'), 'hit');
    assert.equal(oa.requests.length, sent, 'the provider was not called');
    assert.deepEqual(second.data.choices, first.data.choices);
    const rec = await callRecord(second.response.headers.get('x-request-id'));
    assert.deepEqual([rec.outcome, rec.costUsd], ['cached', 0]);
    await cached.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }], temperature: 0 }, { headers: { 'cache-control': 'no-cache' } });
    assert.equal(oa.requests.length, sent + 1);
    await assert.rejects(cached.chat.completions.create({ model: 'anthropic/claude-3-5-haiku', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => e instanceof OpenAI.NotFoundError, 'models outside the service are not found');
  });
});

