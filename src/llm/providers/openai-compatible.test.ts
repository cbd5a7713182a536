import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFakeOpenAi, openAiError } from '../../../test/fixtures/llm/fake-openai.js';
import { sse } from '../../../test/fixtures/llm/fake-server.js';
import { COMPAT_PROFILES, openAiCompatibleAdapter } from './openai-compatible.js';
import { chatRequest, collectChunks, fakeUpstream, providerConformance, providerFailure, statusFault, testIo, testTarget } from './provider.conformance.js';

const profile = (type: string) => COMPAT_PROFILES.find((p) => p.type === type)!;
const MODEL = 'gpt-4o-mini';

for (const type of ['openai', 'azure-openai']) {
  providerConformance(type, async () => {
    const fake = await startFakeOpenAi(type);
    return {
      adapter: openAiCompatibleAdapter(profile(type)),
      fake,
      model: MODEL,
      target: (model, dispatcher) => testTarget({ type, model, baseUrl: type === 'openai' ? `${fake.url}/v1` : fake.url, dispatcher }),
      errorFault: statusFault(openAiError),
    };
  });
}

describe('openai-compatible stream endings', () => {
  const up = fakeUpstream(() => startFakeOpenAi());
  const adapter = openAiCompatibleAdapter(profile('openai'));
  const target = () => testTarget({ type: 'openai', model: MODEL, baseUrl: `${up.fake.url}/v1`, dispatcher: up.dispatcher });
  const chunk = (delta: object, finish: string | null) => sse({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, finish_reason: finish }] });
  const streamOnce = (body: string) => up.fake.fail({ kind: 'status', status: 200, body, headers: { 'content-type': 'text/event-stream' } });

  it('is a protocol failure when the stream ends without [DONE] and without a finish reason', async () => {
    streamOnce(chunk({ role: 'assistant', content: '' }, null) + chunk({ content: 'Hel' }, null));
    const stream = await adapter.chatStream(chatRequest(MODEL, { stream: true }), target(), testIo());
    const err = await providerFailure(collectChunks(stream));
    assert.equal(err.kind, 'protocol');
    assert.equal(err.status, 502);
  });

  it('accepts a stream that gave its finish reason but no [DONE]', async () => {
    streamOnce(chunk({ content: 'Hello' }, null) + chunk({}, 'stop'));
    const chunks = await collectChunks(await adapter.chatStream(chatRequest(MODEL, { stream: true }), target(), testIo()));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
  });
});
