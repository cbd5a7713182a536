import { startFakeOpenAi, openAiError } from '../../../test/fixtures/llm/fake-openai.js';
import { COMPAT_PROFILES, openAiCompatibleAdapter } from './openai-compatible.js';
import { providerConformance } from './provider.conformance.js';

const profile = (type: string) => COMPAT_PROFILES.find((p) => p.type === type)!;

for (const type of ['openai', 'azure-openai']) {
  providerConformance(type, async () => {
    const fake = await startFakeOpenAi(type);
    return {
      adapter: openAiCompatibleAdapter(profile(type)),
      fake,
      model: 'gpt-4o-mini',
      target: (model, dispatcher) => ({
        tenant: 'default',
        provider: type,
        type,
        model,
        baseUrl: type === 'openai' ? `${fake.url}/v1` : fake.url,
        apiKey: 'sk-test',
        keyName: 'primary',
        headers: [],
        options: {},
        dispatcher,
      }),
      errorFault: (status, retryAfter) => {
        const e = openAiError(status);
        return { kind: 'status', status, body: e.body, headers: retryAfter ? { ...e.headers, 'retry-after': String(retryAfter) } : e.headers };
      },
      streamUsage: true,
      embeddings: true,
      replyMarker: `Hello from ${type}`,
    };
  });
}
