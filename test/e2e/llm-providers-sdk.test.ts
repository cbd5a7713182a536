/**
 * Every provider family behind the gateway, reached with both official SDKs: for each one, the
 * `openai` package does a plain chat, a stream and a streamed tool call, and `@anthropic-ai/sdk` does
 * a message, a stream and a tool call. Providers are the wire-faithful fakes of test/fixtures/llm/.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { fetch as undiciFetch } from 'undici';
import { startGateway, type TestGateway } from './harness.js';
import { createCredential, grant, LENIENT_FAILURES } from './access-harness.js';
import { startFakeOpenAi } from '../fixtures/llm/fake-openai.js';
import { startFakeAnthropic } from '../fixtures/llm/fake-anthropic.js';
import { FAKE_GEMINI_KEY, fakeServiceAccount, startFakeGemini } from '../fixtures/llm/fake-gemini.js';
import { startFakeCohere } from '../fixtures/llm/fake-cohere.js';
import { startFakeOllama } from '../fixtures/llm/fake-ollama.js';
import { FAKE_BEDROCK_CREDENTIALS, startFakeBedrock } from '../fixtures/llm/fake-bedrock.js';
import type { FakeServer } from '../fixtures/llm/fake-server.js';

interface Family {
  /** Provider object name (also the reply marker: "Hello from <fake name>"). */
  readonly provider: string;
  readonly model: string;
  readonly marker: string;
}

const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

describe('every provider family through both SDKs', () => {
  let gw: TestGateway;
  const fakes: FakeServer[] = [];
  const families: Family[] = [];
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES } } });
    const oa = await startFakeOpenAi('openai');
    const az = await startFakeOpenAi('azure');
    const groq = await startFakeOpenAi('groq');
    const an = await startFakeAnthropic('anthropic');
    const ge = await startFakeGemini('gemini');
    const vx = await startFakeGemini('vertex');
    const account = fakeServiceAccount(`${vx.url}/token`);
    vx.trust(account);
    const co = await startFakeCohere('cohere');
    const ol = await startFakeOllama('ollama');
    const br = await startFakeBedrock('bedrock');
    fakes.push(oa, az, groq, an, ge, vx, co, ol, br);
    const providers = [
      { name: 'openai', type: 'openai', baseUrl: `${oa.url}/v1`, keys: { k: 'sk-openai' }, model: 'gpt-4o-mini' },
      { name: 'azure', type: 'azure-openai', baseUrl: az.url, keys: { k: 'azure-key' }, options: { apiVersion: '2024-10-21' }, model: 'my-gpt4o-deployment' },
      { name: 'groq', type: 'openai-compatible', baseUrl: `${groq.url}/openai/v1`, keys: { k: 'gsk-test' }, model: 'llama-3.1-8b-instant' },
      { name: 'anthropic', type: 'anthropic', baseUrl: an.url, keys: { k: 'sk-ant' }, model: 'claude-3-5-haiku' },
      { name: 'gemini', type: 'gemini', baseUrl: `${ge.url}/v1beta`, keys: { k: FAKE_GEMINI_KEY }, model: 'gemini-2.0-flash' },
      { name: 'vertex', type: 'vertex', baseUrl: `${vx.url}/v1`, keys: { sa: account.json }, options: { location: 'us-central1' }, model: 'gemini-2.0-flash' },
      { name: 'cohere', type: 'cohere', baseUrl: co.url, keys: { k: 'co-key' }, model: 'command-a-03-2025' },
      { name: 'ollama', type: 'ollama', baseUrl: ol.url, model: 'llama3.2' },
      { name: 'bedrock', type: 'bedrock', baseUrl: br.url, keys: { k: `${FAKE_BEDROCK_CREDENTIALS.accessKeyId}:${FAKE_BEDROCK_CREDENTIALS.secretAccessKey}` }, options: { region: 'us-east-1' }, model: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
    ];
    for (const p of providers) families.push({ provider: p.name, model: `${p.name}/${p.model}`, marker: `Hello from ${p.name}` });
    await gw.apply({
      llmProviders: providers.map(({ model: _m, ...p }) => p),
      services: [{ name: 'ai', llm: {}, access: { methods: ['api-key'], approval: 'auto' }, routes: [{ name: 'ai', paths: ['/v1'] }] }],
      applications: [{ name: 'app' }],
    });
    await grant(gw, 'default', 'app', 'ai');
    const key = (await createCredential(gw, 'default', 'app')).secret;
    const fetch = ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: gw.agent } as never)) as never;
    openai = new OpenAI({ baseURL: `${gw.httpsUrl}/v1`, apiKey: key, fetch, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.httpsUrl, apiKey: key, fetch, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    for (const f of fakes) await f.close();
  });

  it('OpenAI SDK: chat, stream and streamed tool call for every family', async () => {
    for (const f of families) {
      const r = await openai.chat.completions.create({ model: f.model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] }).withResponse();
      assert.match(r.data.choices[0]!.message.content ?? '', new RegExp(`${f.marker} — you said: hi`), `${f.provider}: chat`);
      assert.equal(r.response.headers.get('x-portcullis-provider'), f.provider);
      assert.ok(r.data.usage && r.data.usage.prompt_tokens > 0, `${f.provider}: usage`);

      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const c of await openai.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })) {
        text += c.choices[0]?.delta.content ?? '';
        if (c.usage) usage = c.usage;
      }
      assert.match(text, new RegExp(`${f.marker} — you said: hi`), `${f.provider}: stream`);
      assert.ok(usage && usage.completion_tokens > 0, `${f.provider}: stream usage`);

      let name = '';
      let args = '';
      let finish: string | null = null;
      for await (const c of await openai.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [WEATHER], tool_choice: 'required', stream: true })) {
        for (const t of c.choices[0]?.delta.tool_calls ?? []) {
          name ||= t.function?.name ?? '';
          args += t.function?.arguments ?? '';
        }
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(name, 'get_weather', `${f.provider}: tool name`);
      assert.equal(JSON.parse(args).location, 'Paris', `${f.provider}: tool arguments`);
      assert.equal(finish, 'tool_calls', `${f.provider}: finish reason`);
    }
  });

  it('Anthropic SDK: message, stream and tool call for every family', async () => {
    for (const f of families) {
      const m = await anthropic.messages.create({ model: f.model, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });
      assert.match((m.content[0] as { text: string }).text, new RegExp(`${f.marker} — you said: hi`), `${f.provider}: message`);
      assert.equal(m.stop_reason, 'end_turn');

      const streamed = await anthropic.messages.stream({ model: f.model, max_tokens: 200, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
      assert.match((streamed.content[0] as { text: string }).text, new RegExp(`${f.marker} — you said: hi`), `${f.provider}: stream`);
      assert.ok(streamed.usage.output_tokens > 0, `${f.provider}: stream usage`);

      const tool = await anthropic.messages.create({
        model: f.model,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }],
        tool_choice: { type: 'any' },
      });
      const use = tool.content.find((b) => b.type === 'tool_use') as { name: string; input: { location: string } } | undefined;
      assert.equal(use?.name, 'get_weather', `${f.provider}: tool_use`);
      assert.equal(use?.input.location, 'Paris', `${f.provider}: tool input`);
      assert.equal(tool.stop_reason, 'tool_use', `${f.provider}: stop reason`);
    }
  });
});
