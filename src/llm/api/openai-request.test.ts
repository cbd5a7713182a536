/**
 * Validation of OpenAI-format chat and embeddings requests: a full request passes with unknown
 * top-level fields kept in `extra` and explicit nulls dropped; a bad field is a 400 naming its path.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { parseChatRequest, parseEmbeddingsRequest } from './openai-request.js';

const user = { role: 'user', content: 'Hi' } as const;
const minimal = { model: 'gpt-4o-mini', messages: [user] };

/** Asserts that parsing throws a 400 validation error whose first problem is at `path`. */
function assertInvalid(parse: () => unknown, path: string): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'PC_ERR_VALIDATION');
    assert.equal(err.status, 400);
    assert.equal(err.details?.[0]?.path, path);
    assert.ok(err.message.includes(`${path}: `), err.message);
    return true;
  });
}

describe('parseChatRequest', () => {
  it('accepts a full OpenAI request and keeps its fields', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: 'Answer in JSON.' },
        { role: 'system', content: 'Be brief.', name: 'policy' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"animal":"cat"}' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 256,
      max_completion_tokens: 512,
      temperature: 0.2,
      top_p: 0.9,
      n: 1,
      stop: ['\n\n', 'END'],
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      seed: 42,
      user: 'u-1',
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    };
    const req = parseChatRequest(structuredClone(body));
    assert.deepEqual(req, body);
    assert.equal(req.extra, undefined);
  });

  it('accepts every tool_choice form', () => {
    for (const tool_choice of ['none', 'auto', 'required', { type: 'function', function: { name: 'f' } }] as const) {
      assert.deepEqual(parseChatRequest({ ...minimal, tool_choice }).tool_choice, tool_choice);
    }
  });

  it('accepts the text and json_object response formats', () => {
    for (const response_format of [{ type: 'text' }, { type: 'json_object' }] as const) {
      assert.deepEqual(parseChatRequest({ ...minimal, response_format }).response_format, response_format);
    }
  });

  it('defaults an assistant message without content to null and a tool call type to function', () => {
    const req = parseChatRequest({ ...minimal, messages: [user, { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] }] });
    assert.deepEqual(req.messages[1], { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  });

  it('keeps unknown top-level fields in extra, apart from the known ones', () => {
    const metadata = { team: 'search' };
    const req = parseChatRequest({ ...minimal, temperature: 1, logprobs: true, top_logprobs: 3, reasoning_effort: 'low', metadata, store: false });
    assert.deepEqual(req.extra, { logprobs: true, top_logprobs: 3, reasoning_effort: 'low', metadata, store: false });
    assert.equal(req.temperature, 1);
    assert.equal('logprobs' in req, false);
  });

  it('drops explicit nulls of known fields', () => {
    const req = parseChatRequest({ ...minimal, stream: null, stream_options: null, max_tokens: null, temperature: null, top_p: null, n: null, stop: null, seed: null, presence_penalty: null });
    assert.deepEqual(req, minimal);
  });

  it('rejects a request without messages', () => {
    assertInvalid(() => parseChatRequest({ model: 'gpt-4o' }), 'messages');
  });

  it('rejects empty messages', () => {
    assertInvalid(() => parseChatRequest({ ...minimal, messages: [] }), 'messages');
  });

  it('rejects an unknown role', () => {
    assertInvalid(() => parseChatRequest({ ...minimal, messages: [user, { role: 'wizard', content: 'x' }] }), 'messages.1.role');
  });

  it('rejects a temperature above 2', () => {
    assertInvalid(() => parseChatRequest({ ...minimal, temperature: 3 }), 'temperature');
  });

  it('rejects a tool without a name', () => {
    assertInvalid(() => parseChatRequest({ ...minimal, tools: [{ type: 'function', function: { parameters: {} } }] }), 'tools.0.function.name');
  });

  it('rejects more than four stop sequences', () => {
    assertInvalid(() => parseChatRequest({ ...minimal, stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop');
    assert.deepEqual(parseChatRequest({ ...minimal, stop: ['a', 'b', 'c', 'd'] }).stop, ['a', 'b', 'c', 'd']);
  });

  it('rejects a missing model, a wrong type and a body that is not an object', () => {
    assertInvalid(() => parseChatRequest({ messages: [user] }), 'model');
    assertInvalid(() => parseChatRequest({ ...minimal, max_tokens: '10' }), 'max_tokens');
    assertInvalid(() => parseChatRequest({ ...minimal, messages: [{ role: 'tool', content: 'x' }] }), 'messages.0.tool_call_id');
    assertInvalid(() => parseChatRequest({ ...minimal, response_format: { type: 'json_schema' } }), 'response_format.json_schema');
    assert.throws(() => parseChatRequest(null), GatewayError);
    assert.throws(() => parseChatRequest('{"model":"m"}'), GatewayError);
  });
});

describe('parseEmbeddingsRequest', () => {
  it('accepts a string, strings, a token array and token arrays', () => {
    for (const input of ['hello', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) {
      assert.deepEqual(parseEmbeddingsRequest({ model: 'text-embedding-3-small', input }).input, input);
    }
  });

  it('keeps encoding_format, dimensions and user', () => {
    const body = { model: 'text-embedding-3-large', input: 'x', encoding_format: 'base64', dimensions: 256, user: 'u' };
    assert.deepEqual(parseEmbeddingsRequest(structuredClone(body)), body);
  });

  it('rejects an empty input array, an empty token array and a missing input', () => {
    assertInvalid(() => parseEmbeddingsRequest({ model: 'm', input: [] }), 'input');
    assertInvalid(() => parseEmbeddingsRequest({ model: 'm', input: [[]] }), 'input.0');
    assertInvalid(() => parseEmbeddingsRequest({ model: 'm' }), 'input');
  });

  it('rejects mixed input and an unknown encoding', () => {
    assertInvalid(() => parseEmbeddingsRequest({ model: 'm', input: ['a', 1] }), 'input');
    assertInvalid(() => parseEmbeddingsRequest({ model: 'm', input: 'a', encoding_format: 'int8' }), 'encoding_format');
  });
});
