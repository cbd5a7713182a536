import { describe, it, before, after, afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { REDACTED } from '../model/service.js';
import { PluginRegistry } from '../pipeline/plugin.js';
import { headersPlugin } from '../plugins/headers/headers.js';
import { SecretBox } from '../secrets/secret-box.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { formatChanges } from './config-diff.js';
import { ConfigService } from './config-service.js';
import { secretAad } from './secret-fields.js';

interface Fixture {
  store: Store;
  box: SecretBox;
  service: ConfigService;
  commits: number;
}

async function fixture(): Promise<Fixture> {
  const store = await openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const box = new SecretBox({ current: { id: 'k1', key: randomBytes(32) } });
  const f: Fixture = {
    store,
    box,
    commits: 0,
    service: undefined as unknown as ConfigService,
  };
  f.service = new ConfigService({
    store,
    plugins: new PluginRegistry([headersPlugin]),
    secrets: box,
    onCommitted: async () => {
      f.commits++;
    },
  });
  return f;
}

const svc = (name: string, extra: Record<string, unknown> = {}) => ({ name, upstream: { targets: [{ url: 'http://127.0.0.1:3000' }] }, ...extra });
const route = (name: string, service: string, paths: unknown[] = [`/${name}`], extra: Record<string, unknown> = {}) => ({ name, service, paths, ...extra });

/** Asserts a GatewayError of `code` (without the PC_ERR_ prefix) and returns it. */
async function rejectsWith(p: Promise<unknown>, code: string, check?: (e: GatewayError) => void): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `expected GatewayError, got ${String(err)}`);
    assert.equal(err.code, `PC_ERR_${code}`, err.message);
    check?.(err);
    return true;
  });
}

function paths(e: GatewayError): string[] {
  return (e.details ?? []).map((d) => d.path);
}

describe('ConfigService objects', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.store.close();
  });

  it('creates, reads, replaces and deletes services and routes, with canonical specs', async () => {
    const created = await f.service.create('default', 'service', svc('api', { upstream: { targets: [{ url: 'http://127.0.0.1:3000' }], timeouts: { connect: '2s' } } }));
    assert.equal(created.name, 'api');
    assert.equal(created.version, 1);
    assert.equal(created.spec.upstream!.timeouts.connect, 2000);
    assert.equal(created.spec.upstream!.connections, 256);
    assert.ok(created.createdAt && created.updatedAt);

    const r = await f.service.create('default', 'route', route('api', 'api', ['/api', { path: '/x', match: 'exact' }]));
    assert.deepEqual(r.spec.paths, [
      { path: '/api', match: 'prefix' },
      { path: '/x', match: 'exact' },
    ]);
    assert.equal((await f.service.get('default', 'route', 'api')).spec.service, 'api');

    const replaced = await f.service.replace('default', 'route', 'api', { service: 'api', paths: ['/v2'], methods: ['GET'] });
    assert.equal(replaced.version, 2);
    assert.deepEqual(replaced.spec.methods, ['GET']);

    await f.service.delete('default', 'route', 'api');
    await f.service.delete('default', 'service', 'api');
    await rejectsWith(f.service.get('default', 'service', 'api'), 'NOT_FOUND');
    assert.equal(f.commits, 5);
  });

  it('paginates lists with an opaque cursor', async () => {
    for (const n of ['e', 'a', 'c', 'b', 'd']) await f.service.create('default', 'service', svc(n));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await f.service.list('default', 'service', { limit: 2, cursor });
      seen.push(...page.items.map((i) => i.name));
      cursor = page.next;
      pages++;
    } while (cursor);
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
    assert.ok(pages >= 3);
    await rejectsWith(f.service.list('default', 'service', { limit: 0 }), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['limit']));
    await rejectsWith(f.service.list('default', 'service', { cursor: '!!not-a-cursor' }), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['cursor']));
  });

  it('rejects invalid specs with field paths, duplicates, dangling references and unknown tenants', async () => {
    await rejectsWith(f.service.create('default', 'service', { name: 'x', upstream: { targets: [{ url: 'ftp://x' }] } }), 'VALIDATION', (e) => {
      assert.deepEqual(paths(e), ['upstream.targets.0.url']);
      assert.match(e.message, /upstream\.targets\.0\.url/);
    });
    await f.service.create('default', 'service', svc('a'));
    await rejectsWith(f.service.create('default', 'service', svc('a')), 'CONFLICT');
    await rejectsWith(f.service.create('default', 'route', route('r', 'missing')), 'VALIDATION', (e) => {
      assert.deepEqual(paths(e), ['service']);
      assert.match(e.message, /service "missing" does not exist/);
    });
    assert.equal((await f.service.list('default', 'route')).items.length, 0, 'nothing half-applied');
    await rejectsWith(f.service.create('nope', 'service', svc('a')), 'NOT_FOUND');
  });

  it('validates plugin names and plugin config through the planner', async () => {
    await rejectsWith(f.service.create('default', 'service', svc('a', { plugins: { nope: {} } })), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['plugins.nope']));
    await rejectsWith(f.service.create('default', 'service', svc('a', { plugins: { headers: { request: { set: { 'bad header': 'x' } } } } })), 'VALIDATION', (e) =>
      assert.ok(paths(e)[0]!.startsWith('plugins.headers.request.set'), paths(e).join()),
    );
    await f.service.create('default', 'service', svc('a', { plugins: { headers: { request: { set: { 'x-a': '1' } } } } }));
  });

  it('refuses conflicting routes', async () => {
    await f.service.create('default', 'service', svc('a'));
    await f.service.create('default', 'route', route('r1', 'a', ['/same']));
    await rejectsWith(f.service.create('default', 'route', route('r2', 'a', ['/same'])), 'CONFLICT', (e) => assert.match(e.message, /conflicts/));
  });

  it('refuses to delete a service still used by routes', async () => {
    await f.service.create('default', 'service', svc('a'));
    await f.service.create('default', 'route', route('r1', 'a'));
    await f.service.create('default', 'route', route('r2', 'a'));
    await rejectsWith(f.service.delete('default', 'service', 'a'), 'CONFLICT', (e) => {
      assert.match(e.message, /service "a" is still used by routes "r1", "r2"/);
      assert.deepEqual(paths(e), ['routes.r1.service', 'routes.r2.service']);
    });
    await f.service.delete('default', 'route', 'r1');
    await f.service.delete('default', 'route', 'r2');
    await f.service.delete('default', 'service', 'a');
    await rejectsWith(f.service.delete('default', 'service', 'a'), 'NOT_FOUND');
  });

  it('PUT: name from the URL, no renames, If-Match versions, no-op keeps the version', async () => {
    await f.service.create('default', 'service', svc('a'));
    await rejectsWith(f.service.replace('default', 'service', 'a', svc('b')), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['name']));
    await rejectsWith(f.service.replace('default', 'service', 'zz', svc('zz')), 'NOT_FOUND');
    await rejectsWith(f.service.replace('default', 'service', 'a', svc('a'), { expectedVersion: 7 }), 'CONFLICT');
    const commits = f.commits;
    const same = await f.service.replace('default', 'service', 'a', { upstream: { targets: [{ url: 'http://127.0.0.1:3000' }] } }, { expectedVersion: 1 });
    assert.equal(same.version, 1);
    assert.equal(f.commits, commits, 'a no-op does not commit');
    const changed = await f.service.replace('default', 'service', 'a', svc('a', { upstream: { targets: [{ url: 'http://127.0.0.1:4000' }] } }), { expectedVersion: 1 });
    assert.equal(changed.version, 2);
  });

  it('seals secrets, redacts them on read and keeps them on a "<redacted>" round trip', async () => {
    const secret = 'Bearer sk-live-very-secret-123';
    const created = await f.service.create('default', 'service', svc('llm', { upstream: { targets: [{ url: 'https://api.example.com' }], secretHeaders: { Authorization: secret } } }));
    assert.deepEqual(created.spec.upstream!.secretHeaders, { Authorization: REDACTED });
    assert.ok(!JSON.stringify(created).includes('sk-live'));

    const raw = await (await f.store.tenant('default')).get('service', 'llm');
    const sealed = (raw!.spec as any).upstream.secretHeaders.Authorization as string;
    assert.ok(sealed.startsWith('pcenc:v1:'));
    assert.ok(!JSON.stringify(raw).includes('sk-live'), 'clear value is not stored');
    assert.equal(f.box.open(sealed, secretAad('service', 'default', 'llm', 'upstream.secretHeaders.Authorization')), secret);

    // Round trip of what was read: nothing changes, the sealed value is kept as is.
    const read = await f.service.get('default', 'service', 'llm');
    const again = await f.service.replace('default', 'service', 'llm', read.spec);
    assert.equal(again.version, 1);
    const raw2 = await (await f.store.tenant('default')).get('service', 'llm');
    assert.equal((raw2!.spec as any).upstream.secretHeaders.Authorization, sealed);

    // The same clear value again is not a change either.
    const clear = await f.service.replace('default', 'service', 'llm', { ...read.spec, upstream: { ...read.spec.upstream, secretHeaders: { Authorization: secret } } });
    assert.equal(clear.version, 1);

    // "<redacted>" for a header that has no stored value is an error naming the field.
    await rejectsWith(
      f.service.replace('default', 'service', 'llm', { ...read.spec, upstream: { ...read.spec.upstream, secretHeaders: { Authorization: REDACTED, 'X-Other': REDACTED } } }),
      'VALIDATION',
      (e) => {
        assert.deepEqual(paths(e), ['upstream.secretHeaders.X-Other']);
        assert.ok(!JSON.stringify(e.toResponse()).includes('sk-live'));
      },
    );
    await rejectsWith(f.service.create('default', 'service', svc('new', { upstream: { targets: [{ url: 'http://x.test' }], secretHeaders: { A: REDACTED } } })), 'VALIDATION');

    // A new value re-seals.
    const rotated = await f.service.replace('default', 'service', 'llm', { ...read.spec, upstream: { ...read.spec.upstream, secretHeaders: { Authorization: 'Bearer new' } } });
    assert.equal(rotated.version, 2);
    const raw3 = await (await f.store.tenant('default')).get('service', 'llm');
    assert.notEqual((raw3!.spec as any).upstream.secretHeaders.Authorization, sealed);
  });

  it('rejects secret values too long to store encrypted', async () => {
    await rejectsWith(
      f.service.create('default', 'service', svc('big', { upstream: { targets: [{ url: 'http://x.test' }], secretHeaders: { A: 'x'.repeat(8000) } } })),
      'VALIDATION',
      (e) => assert.deepEqual(paths(e), ['upstream.secretHeaders.A']),
    );
  });
});

describe('ConfigService tenants', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    await f.store.close();
  });

  it('creates, lists (paginated), gets and deletes tenants', async () => {
    await f.service.createTenant({ name: 'team-a', displayName: 'Team A' });
    await f.service.createTenant({ name: 'team-b' });
    await rejectsWith(f.service.createTenant({ name: 'team-a' }), 'CONFLICT');
    await rejectsWith(f.service.createTenant({ name: 'Bad Name' }), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['name']));
    const p1 = await f.service.listTenants({ limit: 2 });
    assert.deepEqual(p1.items.map((t) => t.name), ['default', 'team-a']);
    assert.ok(p1.next);
    const p2 = await f.service.listTenants({ limit: 2, cursor: p1.next });
    assert.deepEqual(p2.items.map((t) => t.name), ['team-b']);
    assert.equal(p2.next, undefined);
    assert.equal((await f.service.getTenant('team-a')).displayName, 'Team A');

    await f.service.create('team-a', 'service', svc('a'));
    await rejectsWith(f.service.deleteTenant('team-a'), 'CONFLICT');
    await rejectsWith(f.service.deleteTenant('default'), 'CONFLICT');
    await f.service.delete('team-a', 'service', 'a');
    await f.service.deleteTenant('team-a');
    await rejectsWith(f.service.deleteTenant('team-a'), 'NOT_FOUND');
    await rejectsWith(f.service.getTenant('team-a'), 'NOT_FOUND');
  });

  it('detects route conflicts across tenants', async () => {
    await f.service.createTenant({ name: 'x1' });
    await f.service.create('default', 'service', svc('s'));
    await f.service.create('default', 'route', route('r', 's', ['/shared']));
    await f.service.create('x1', 'service', svc('s'));
    await rejectsWith(f.service.create('x1', 'route', route('r', 's', ['/shared'])), 'CONFLICT', (e) => {
      assert.match(e.message, /a route of another tenant/);
      assert.doesNotMatch(JSON.stringify(e.toResponse()), /default/, 'the other tenant is not named');
    });
  });
});

describe('ConfigService declarative apply', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.store.close();
  });

  const doc = (extra: { secret?: string; routes?: unknown[]; services?: unknown[] } = {}) => ({
    services: [
      {
        name: 'httpbin',
        upstream: { targets: [{ url: 'http://127.0.0.1:3000' }], ...(extra.secret ? { secretHeaders: { Authorization: extra.secret } } : {}) },
        plugins: {},
        routes: extra.routes ?? [{ name: 'httpbin', paths: ['/anything'], methods: ['GET', 'POST'] }],
      },
      ...(extra.services ?? []),
    ],
  });

  it('creates, then reports no changes on a second apply', async () => {
    const r1 = await f.service.applyDocument('default', doc({ secret: 'Bearer abc' }), { dryRun: false });
    assert.equal(r1.applied, true);
    assert.deepEqual(formatChanges(r1.changes), ['+ service httpbin', '+ route httpbin']);
    assert.equal(f.commits, 1);
    const r2 = await f.service.applyDocument('default', doc({ secret: 'Bearer abc' }), { dryRun: false });
    assert.deepEqual(r2.changes, []);
    assert.deepEqual(formatChanges(r2.changes), ['No changes.']);
    assert.equal(r2.revision, r1.revision);
    assert.equal(f.commits, 1);
  });

  it('updates with changed field paths and deletes what the document omits', async () => {
    await f.service.applyDocument('default', doc({ routes: [{ name: 'a', paths: ['/a'] }, { name: 'b', paths: ['/b'] }] }), { dryRun: false });
    const r = await f.service.applyDocument('default', doc({ secret: 's3cret', routes: [{ name: 'a', paths: ['/a2'], methods: ['GET'] }] }), { dryRun: false });
    assert.deepEqual(formatChanges(r.changes), ['~ service httpbin (upstream.secretHeaders.Authorization)', '~ route a (methods, paths)', '- route b']);
    assert.ok(!JSON.stringify(r).includes('s3cret'));
    const r2 = await f.service.applyDocument('default', { services: [] }, { dryRun: false });
    assert.deepEqual(formatChanges(r2.changes), ['- service httpbin', '- route a']);
    assert.equal((await f.service.list('default', 'service')).items.length, 0);
  });

  it('dry run reports changes and writes nothing', async () => {
    const before = await f.store.revision();
    const r = await f.service.applyDocument('default', doc(), { dryRun: true });
    assert.equal(r.applied, false);
    assert.equal(r.changes.length, 2);
    assert.equal(await f.store.revision(), before);
    assert.equal((await f.service.list('default', 'service')).items.length, 0);
    assert.equal(f.commits, 0);
    // A dry run against a missing tenant does not create it.
    const r2 = await f.service.applyDocument('team-x', doc(), { dryRun: true });
    assert.deepEqual(r2.changes[0], { action: 'create', kind: 'tenant', name: 'team-x' });
    await rejectsWith(f.service.getTenant('team-x'), 'NOT_FOUND');
  });

  it('is transactional: an invalid document leaves the store untouched', async () => {
    await f.service.applyDocument('default', doc(), { dryRun: false });
    const before = await f.store.loadAll();
    const bad = doc({
      routes: [{ name: 'httpbin', paths: ['/changed'] }],
      services: [{ name: 'second', upstream: { targets: [{ url: 'http://127.0.0.1:1' }] }, routes: [{ name: 'r2', paths: ['/r2'], plugins: { nope: {} } }] }],
    });
    await rejectsWith(f.service.applyDocument('default', bad, { dryRun: false }), 'VALIDATION', (e) => {
      assert.deepEqual(paths(e), ['services.1.routes.0.plugins.nope']);
    });
    const afterDump = await f.store.loadAll();
    assert.equal(afterDump.revision, before.revision);
    assert.deepEqual(afterDump.objects, before.objects);
  });

  it('reports schema errors and duplicate names with document paths', async () => {
    await rejectsWith(f.service.applyDocument('default', { services: [{ name: 'a', upstream: { targets: [] } }] }, { dryRun: false }), 'VALIDATION', (e) =>
      assert.deepEqual(paths(e), ['services.0.upstream.targets']),
    );
    const dup = { services: [svc('a'), { ...svc('b'), routes: [{ name: 'r', paths: ['/1'] }, { name: 'r', paths: ['/2'] }] }, svc('a')] };
    await rejectsWith(f.service.applyDocument('default', dup, { dryRun: false }), 'VALIDATION', (e) =>
      assert.deepEqual(paths(e).sort(), ['services.1.routes.1.name', 'services.2.name']),
    );
    await rejectsWith(f.service.applyDocument('default', { tenant: 'other', services: [] }, { dryRun: false }), 'VALIDATION', (e) => assert.deepEqual(paths(e), ['tenant']));
    await rejectsWith(f.service.applyDocument('default', doc({ secret: REDACTED }), { dryRun: false }), 'VALIDATION', (e) =>
      assert.deepEqual(paths(e), ['services.0.upstream.secretHeaders.Authorization']),
    );
  });

  it('export → apply is a no-op, with secrets redacted in the export', async () => {
    await f.service.applyDocument('default', doc({ secret: 'Bearer topsecret', routes: [{ name: 'r', paths: ['/r', { path: '/e', match: 'exact' }], hosts: ['API.example.com'] }] }), { dryRun: false });
    await f.service.create('default', 'service', svc('zeta'));
    const exported = await f.service.exportDocument('default');
    assert.equal(exported.tenant, 'default');
    assert.deepEqual(exported.services.map((s) => s.name), ['httpbin', 'zeta']);
    assert.equal(exported.services[0]!.upstream!.secretHeaders.Authorization, REDACTED);
    assert.ok(!JSON.stringify(exported).includes('topsecret'));
    assert.deepEqual(exported.services[0]!.routes[0]!.hosts, ['api.example.com']);
    assert.ok(!('service' in exported.services[0]!.routes[0]!));
    const rev = await f.store.revision();
    const r = await f.service.applyDocument('default', JSON.parse(JSON.stringify(exported)), { dryRun: false });
    assert.deepEqual(r.changes, []);
    assert.equal(await f.store.revision(), rev);
    await rejectsWith(f.service.exportDocument('missing'), 'NOT_FOUND');
  });

  it('creates a missing tenant on apply', async () => {
    const r = await f.service.applyDocument('team-y', { tenant: 'team-y', ...doc() }, { dryRun: false });
    assert.deepEqual(formatChanges(r.changes), ['+ tenant team-y', '+ service httpbin', '+ route httpbin']);
    assert.equal((await f.service.getTenant('team-y')).name, 'team-y');
  });
});
