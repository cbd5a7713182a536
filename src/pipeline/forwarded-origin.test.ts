import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedOrigin } from './request-handler.js';

const trusted = (a: string) => a.startsWith('10.') || a === '127.0.0.1';

describe('forwardedOrigin', () => {
  it('takes the nearest hop that is not a trusted proxy', () => {
    assert.equal(forwardedOrigin('203.0.113.9', trusted), '203.0.113.9');
    assert.equal(forwardedOrigin('198.51.100.1, 203.0.113.9, 10.0.0.2', trusted), '203.0.113.9', 'a client cannot hide behind a spoofed leftmost hop');
    assert.equal(forwardedOrigin(['198.51.100.1', '10.0.0.3'], trusted), '198.51.100.1');
    assert.equal(forwardedOrigin('::ffff:203.0.113.9', trusted), '203.0.113.9');
  });

  it('falls back to the leftmost when every hop is trusted, and to nothing when absent or not an address', () => {
    assert.equal(forwardedOrigin('10.0.0.1, 10.0.0.2', trusted), '10.0.0.1');
    assert.equal(forwardedOrigin(undefined, trusted), undefined);
    assert.equal(forwardedOrigin('unknown, 10.0.0.2', trusted), undefined);
  });
});
