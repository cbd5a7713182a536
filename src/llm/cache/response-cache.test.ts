/**
 * The response cache: LRU order and eviction, TTL expiry on an injected clock, which request fields
 * make the key, and the Cache-Control values that bypass it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatRequest } from '../wire/chat.js';
import { bypassesCache, cacheKey, MemoryResponseCache, type CachedAnswer } from './response-cache.js';

const answer = (n: number): CachedAnswer => ({ response: { id: `r${n}` }, provider: 'openai', deployment: 'openai/gpt-4o' });

/** A cache on a clock the test moves, holding `keys` set in order (key i with answer(i + 1)). */
function clocked(maxEntries: number, ...keys: string[]) {
  const clock = { now: 1_000_000 };
  const cache = new MemoryResponseCache(maxEntries, () => clock.now);
  keys.forEach((k, i) => cache.set(k, answer(i + 1), 1000));
  return { cache, clock };
}

describe('MemoryResponseCache', () => {
  it('returns what was set, undefined for a miss', () => {
    const { cache } = clocked(10, 'a');
    assert.deepEqual(cache.get('a'), answer(1));
    assert.equal(cache.get('b'), undefined);
  });

  it('evicts the least recently set entry beyond maxEntries', () => {
    const { cache } = clocked(2, 'a', 'b', 'c');
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), undefined);
    assert.deepEqual(cache.get('b'), answer(2));
    assert.deepEqual(cache.get('c'), answer(3));
  });

  it('refreshes recency on a hit', () => {
    const { cache } = clocked(2, 'a', 'b');
    assert.ok(cache.get('a'));
    cache.set('c', answer(3), 1000);
    assert.deepEqual(cache.get('a'), answer(1));
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(cache.get('c'), answer(3));
  });

  it('refreshes recency and replaces the value when a key is set again', () => {
    const { cache } = clocked(2, 'a', 'b');
    cache.set('a', answer(9), 1000);
    cache.set('c', answer(3), 1000);
    assert.equal(cache.size, 2);
    assert.deepEqual(cache.get('a'), answer(9));
    assert.equal(cache.get('b'), undefined);
  });

  it('expires an entry after its TTL and drops it', () => {
    const { cache, clock } = clocked(10);
    cache.set('a', answer(1), 500);
    cache.set('b', answer(2), 2000);
    clock.now += 499;
    assert.deepEqual(cache.get('a'), answer(1));
    clock.now += 1;
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 1);
    assert.deepEqual(cache.get('b'), answer(2));
  });

  it('gives a re-set entry a fresh TTL', () => {
    const { cache, clock } = clocked(10);
    cache.set('a', answer(1), 500);
    clock.now += 400;
    cache.set('a', answer(2), 500);
    clock.now += 400;
    assert.deepEqual(cache.get('a'), answer(2));
  });
});

describe('cacheKey', () => {
  const base: ChatRequest = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ],
    temperature: 0,
    max_tokens: 100,
  };
  const key = (req: ChatRequest, tenant = 'acme', api = 'chat', model = 'fast'): string => cacheKey(tenant, api, model, req);

  it('is the same for requests differing only in stream, stream_options and user', () => {
    assert.equal(key({ ...base, stream: true, stream_options: { include_usage: true }, user: 'u-42' }), key(base));
    assert.equal(key({ ...base, stream: false }), key(base));
  });

  it('is the same whatever the order of object keys', () => {
    const reordered: ChatRequest = {
      max_tokens: 100,
      temperature: 0,
      messages: [
        { content: 'Be brief.', role: 'system' },
        { content: 'Hi', role: 'user' },
      ],
      model: 'gpt-4o-mini',
    };
    assert.equal(key(reordered), key(base));
  });

  it('uses the model as asked, not the request body model', () => {
    assert.equal(key({ ...base, model: 'other-upstream' }), key(base));
    assert.notEqual(key(base, 'acme', 'chat', 'smart'), key(base));
  });

  it('differs across tenants and client APIs', () => {
    assert.notEqual(key(base, 'globex'), key(base));
    assert.notEqual(key(base, 'acme', 'messages'), key(base));
  });

  it('differs for any field that shapes the answer', () => {
    const variants: ChatRequest[] = [
      { ...base, temperature: 0.7 },
      { ...base, max_tokens: 101 },
      { ...base, messages: [...base.messages, { role: 'assistant', content: 'Hello' }] },
      { ...base, messages: [{ role: 'user', content: 'Hi' }] },
      { ...base, messages: [base.messages[0]!, { role: 'user', content: 'Hi!' }] },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, extra: { logprobs: true } },
    ];
    const keys = new Set([key(base), ...variants.map((v) => key(v))]);
    assert.equal(keys.size, variants.length + 1);
  });

  it('cannot be confused by a tenant name that looks like a separator', () => {
    assert.notEqual(cacheKey('a', 'b/chat', 'm', base), cacheKey('a/b', 'chat', 'm', base));
  });
});

describe('bypassesCache', () => {
  it('bypasses for no-cache and no-store, alone or among other directives, in any case', () => {
    for (const v of ['no-cache', 'no-store', 'max-age=0, no-cache', 'no-store,max-age=0', 'private , no-cache , x=1', 'NO-CACHE', 'No-Store']) {
      assert.equal(bypassesCache(v), true, v);
    }
  });

  it('does not bypass without the header or for other directives', () => {
    for (const v of [undefined, '', 'no-transform', 'max-age=0', 'public, max-age=60', 'x-no-cache', 'no-cache-please']) {
      assert.equal(bypassesCache(v), false, String(v));
    }
  });
});
