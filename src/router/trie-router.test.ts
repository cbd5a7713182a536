import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrieRouter } from './trie-router.js';
import { RouteConflictError, type RouteDefinition } from './router.js';

function def(id: string, paths: Array<[string, 'exact' | 'prefix']>, opts: { hosts?: string[]; methods?: string[] } = {}): RouteDefinition<string> {
  return { id, hosts: opts.hosts ?? [], methods: opts.methods ?? [], paths: paths.map(([path, match]) => ({ path, match })), value: id };
}

describe('TrieRouter', () => {
  const router = new TrieRouter([
    def('root', [['/', 'prefix']]),
    def('api', [['/api', 'prefix']]),
    def('api-users-get', [['/api/users', 'prefix']], { methods: ['GET'] }),
    def('health', [['/health', 'exact']]),
    def('host-api', [['/api', 'prefix']], { hosts: ['api.example.com'] }),
    def('wild', [['/', 'prefix']], { hosts: ['*.tenant.test'] }),
    def('posts-only', [['/posts', 'exact']], { methods: ['POST'] }),
  ]);

  it('prefers the longest prefix on segment boundaries', () => {
    assert.equal(router.match('GET', 'x', '/api/users/7')?.value, 'api-users-get');
    assert.equal(router.match('GET', 'x', '/api/users')?.value, 'api-users-get');
    assert.equal(router.match('GET', 'x', '/api/usersX')?.value, 'api');
    assert.equal(router.match('GET', 'x', '/apix')?.value, 'root');
    assert.equal(router.match('GET', 'x', '/api/')?.value, 'api');
  });

  it('falls back to a shorter prefix when the method does not match', () => {
    assert.equal(router.match('POST', 'x', '/api/users')?.value, 'api');
  });

  it('matches exact paths before prefixes and only exactly', () => {
    assert.equal(router.match('GET', 'x', '/health')?.value, 'health');
    assert.equal(router.match('GET', 'x', '/health/x')?.value, 'root');
  });

  it('prefers exact host, then wildcard, then any host', () => {
    assert.equal(router.match('GET', 'api.example.com', '/api/users')?.value, 'host-api');
    assert.equal(router.match('GET', 'api.example.com', '/other')?.value, 'root');
    assert.equal(router.match('GET', 'a.tenant.test', '/api')?.value, 'wild');
    assert.equal(router.match('GET', 'a.b.tenant.test', '/zzz')?.value, 'root');
  });

  it('answers HEAD with a GET route', () => {
    assert.equal(router.match('HEAD', 'x', '/api/users')?.value, 'api-users-get');
  });

  it('reports allowed methods on a method miss and nothing on a path miss', () => {
    const r = new TrieRouter([def('p', [['/posts', 'exact']], { methods: ['POST', 'PUT'] })]);
    assert.equal(r.match('GET', 'x', '/posts'), undefined);
    assert.deepEqual(r.allowedMethods('x', '/posts').sort(), ['POST', 'PUT']);
    assert.deepEqual(r.allowedMethods('x', '/nope'), []);
    assert.equal(router.match('GET', 'x', '/posts')?.value, 'root');
  });

  it('refuses overlapping definitions with both names', () => {
    assert.throws(() => new TrieRouter([def('a', [['/x', 'prefix']]), def('b', [['/x/', 'prefix']])]), (e: unknown) => {
      assert.ok(e instanceof RouteConflictError);
      assert.match(e.message, /"b" conflicts with route "a"/);
      return true;
    });
    assert.throws(() => new TrieRouter([def('a', [['/x', 'exact']], { methods: ['GET'] }), def('b', [['/x', 'exact']], { methods: ['POST', 'GET'] })]), RouteConflictError);
    assert.doesNotThrow(() => new TrieRouter([def('a', [['/x', 'exact']], { methods: ['GET'] }), def('b', [['/x', 'exact']], { methods: ['POST'] })]));
    assert.doesNotThrow(() => new TrieRouter([def('a', [['/x', 'exact']]), def('b', [['/x', 'prefix']])]));
    assert.doesNotThrow(() => new TrieRouter([def('a', [['/x', 'prefix']], { hosts: ['a.test'] }), def('b', [['/x', 'prefix']])]));
  });

  it('costs the same with 10 or 10,000 routes', () => {
    const build = (n: number) => new TrieRouter(Array.from({ length: n }, (_, i) => def(`r${i}`, [[`/svc${i}/v1`, 'prefix']], { hosts: i % 2 ? [`h${i}.test`] : [] })));
    // The fastest of several runs: robust to other processes competing for the CPU.
    const time = (r: TrieRouter<string>, n: number) => {
      const paths = Array.from({ length: 64 }, (_, i) => `/svc${(i * 7919) % n}/v1/items/42`);
      let best = Infinity;
      for (let run = 0; run < 7; run++) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < 50_000; i++) r.match('GET', 'h1.test', paths[i & 63]!);
        best = Math.min(best, Number(process.hrtime.bigint() - t));
      }
      return best;
    };
    const small = build(10);
    const large = build(10_000);
    time(small, 10); time(large, 10_000); // warm up
    const ratio = time(large, 10_000) / time(small, 10);
    assert.ok(ratio < 3, `10,000 routes took ${ratio.toFixed(2)}× the time of 10`);
  });
});
