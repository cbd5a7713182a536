import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AdminRouter } from './admin-router.js';

describe('AdminRouter', () => {
  const router = new AdminRouter([
    { method: 'GET', path: '/a/{tenant}/services' },
    { method: 'POST', path: '/a/{tenant}/services' },
    { method: 'GET', path: '/a/{tenant}/services/{name}' },
    { method: 'GET', path: '/a/{tenant}/config' },
  ]);

  it('matches templates and decodes parameters', () => {
    const r = router.match('GET', '/a/t%2Dx/services/svc');
    assert.equal(r.kind, 'found');
    assert.deepEqual(r.kind === 'found' && r.params, { tenant: 't-x', name: 'svc' });
    assert.equal(router.match('GET', '/a/t/config').kind, 'found');
  });

  it('answers 405 with the allowed methods, 404 otherwise', () => {
    assert.deepEqual(router.match('DELETE', '/a/t/services'), { kind: 'method-not-allowed', allow: ['GET', 'POST'] });
    assert.equal(router.match('GET', '/a/t/services/').kind, 'not-found');
    assert.equal(router.match('GET', '/a//services').kind, 'not-found');
    assert.equal(router.match('GET', '/nope').kind, 'not-found');
  });

  it('rejects malformed percent-encoding and duplicate routes', () => {
    assert.throws(() => router.match('GET', '/a/%E0%A4%A/services'), /percent-encoding/);
    assert.throws(() => new AdminRouter([{ method: 'GET', path: '/x' }, { method: 'GET', path: '/x' }]), /twice/);
  });
});
