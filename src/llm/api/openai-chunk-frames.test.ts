import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkFactory, type ChatChunk } from '../wire/chat.js';
import { sseFrame } from '../wire/sse-parser.js';
import { OpenAiChunkFrames } from './openai-chunk-frames.js';

describe('OpenAI chunk frames', () => {
  it('writes every chunk exactly as JSON.stringify does, templated or not', () => {
    const f = chunkFactory('chatcmpl-1', 1700000000, 'claude-3-5-haiku');
    const provider = JSON.parse('{"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]}') as ChatChunk;
    const chunks: ChatChunk[] = [
      f.role(),
      f.content('Hello'),
      f.content(' "quoted" \\ \n\u2028 émoji 😀 </script>'),
      f.content(''),
      f.content('second choice', 1),
      f.toolCallStart(0, 'call_1', 'lookup'),
      f.finish('stop'),
      f.usage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }),
      { ...f.content('with usage key'), usage: undefined },
      provider,
      { id: 'y', object: 'chat.completion.chunk', created: 2, model: 'm', choices: [{ delta: { content: 'reordered' }, index: 0, finish_reason: null }] } as unknown as ChatChunk,
    ];
    const frames = new OpenAiChunkFrames();
    for (const c of chunks) assert.equal(frames.frame(c), sseFrame(JSON.stringify(c)));
    // The template follows the stream's id, created and model when they change.
    f.id = 'chatcmpl-2';
    f.model = 'other "model"';
    assert.equal(frames.frame(f.content('after')), sseFrame(JSON.stringify(f.content('after'))));
  });
});
