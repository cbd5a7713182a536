/**
 * The fast reading of common chat requests against the schema: whenever it answers, it answers what
 * the schema does (values and key order); it takes the common shapes; it leaves everything else,
 * and every invalid request, to the schema.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonChatRequest } from './common-chat-request.js';
import { schemaChatRequest } from './openai-request.js';

const user = { role: 'user', content: 'Hi' };
const base = { model: 'gpt-4o-mini', messages: [user] };

/** Bodies the fast path must take. */
const common: unknown[] = [
  base,
  { messages: [user], model: 'm', stream: true, stream_options: { include_usage: true, other: 1 } },
  { ...base, stream: null, stream_options: null, max_tokens: null, temperature: null, seed: null, stop: null, top_p: null, n: null },
  { ...base, stream: false, stream_options: {}, max_tokens: 16, max_completion_tokens: 32, temperature: 0, top_p: 1, n: 128, stop: ['a', 'b', 'c', 'd'] },
  { ...base, stop: 'END', presence_penalty: -2, frequency_penalty: 2, seed: -5, user: 'u', parallel_tool_calls: true },
  { ...base, temperature: 2, top_p: 0, metadata: { a: 1 }, store: false, nothing: null, logit_bias: { '50256': -100 } },
  {
    model: 'x'.repeat(264),
    messages: [
      { role: 'system', content: 'S', name: 'n' },
      { role: 'developer', content: '' },
      { content: 'q', role: 'user', name: 'me', stray: true },
      { role: 'assistant', content: 'a' },
      { role: 'assistant', content: null, name: 'bot' },
      { role: 'assistant' },
      { role: 'tool', content: 'r', tool_call_id: 'call_1', name: 'ignored' },
    ],
  },
];

/** Bodies the fast path must leave to the schema (valid or not). */
const uncommon: unknown[] = [
  null,
  [],
  'text',
  {},
  { messages: [user] },
  { model: '', messages: [user] },
  { model: 'x'.repeat(265), messages: [user] },
  { model: 7, messages: [user] },
  { model: 'm', messages: [] },
  { model: 'm', messages: null },
  { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
  { model: 'm', messages: [{ role: 'user', content: null }] },
  { model: 'm', messages: [{ role: 'user' }] },
  { model: 'm', messages: [{ role: 'robot', content: 'x' }] },
  { model: 'm', messages: [{ role: 'user', content: 'x', name: 5 }] },
  { model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] }] },
  { model: 'm', messages: [{ role: 'assistant', content: 'x', refusal: null }] },
  { model: 'm', messages: [{ role: 'tool', content: 'x', tool_call_id: '' }] },
  { model: 'm', messages: [{ role: 'tool', content: 'x' }] },
  { ...base, stream: 'yes' },
  { ...base, stream_options: { include_usage: 'yes' } },
  { ...base, stream_options: [] },
  { ...base, max_tokens: 0 },
  { ...base, max_tokens: 1.5 },
  { ...base, max_tokens: 2 ** 60 },
  { ...base, temperature: 2.5 },
  { ...base, top_p: -0.1 },
  { ...base, n: 129 },
  { ...base, stop: ['a', 'b', 'c', 'd', 'e'] },
  { ...base, stop: [1] },
  { ...base, presence_penalty: 3 },
  { ...base, seed: 0.5 },
  { ...base, user: null },
  { ...base, parallel_tool_calls: null },
  { ...base, tools: [{ type: 'function', function: { name: 'f' } }] },
  { ...base, tool_choice: 'auto' },
  { ...base, response_format: { type: 'text' } },
  JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true}}'),
];

function schema(body: unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: schemaChatRequest(structuredClone(body)) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('common chat requests', () => {
  it('answers what the schema answers, field for field and in the same key order', () => {
    for (const body of common) {
      const fast = commonChatRequest(structuredClone(body));
      assert.ok(fast, `taken: ${JSON.stringify(body)}`);
      const slow = schema(body);
      assert.ok('ok' in slow, `the schema accepts ${JSON.stringify(body)}`);
      assert.deepEqual(fast, slow.ok);
      assert.equal(JSON.stringify(fast), JSON.stringify(slow.ok));
    }
  });

  it('leaves uncommon and invalid requests to the schema', () => {
    for (const body of uncommon) assert.equal(commonChatRequest(body), undefined, JSON.stringify(body));
  });

  it('never accepts what the schema refuses, over many variations', () => {
    const values = [null, true, 0, 1, -1, 0.5, 2, 3, 200, 'x', '', [], ['s'], {}, { include_usage: true }];
    const fields = ['model', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'presence_penalty', 'frequency_penalty', 'seed', 'user', 'parallel_tool_calls', 'other'];
    for (const field of fields) {
      for (const value of values) {
        const body = { ...base, [field]: value };
        const fast = commonChatRequest(structuredClone(body));
        const slow = schema(body);
        if (fast) assert.deepEqual({ ok: fast }, slow, JSON.stringify(body));
      }
    }
  });
});
