import { CaService } from '../pki/ca-service.js';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import pino from 'pino';
import { Agent, request } from 'undici';
import { ConfigService } from '../config/config-service.js';
import { REDACTED } from '../model/service.js';
import { PluginRegistry } from '../pipeline/plugin.js';
import { headersPlugin } from '../plugins/headers/headers.js';
import { SecretBox } from '../secrets/secret-box.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import type { Listener } from '../listeners/listener.js';
import { AdminAuth, generateAdminToken, hashAdminToken } from './admin-auth.js';
import { createAdminListener, type AdminListenerDeps } from './admin-server.js';
import { AccessService } from '../auth/access-service.js';
import { CredentialHasher } from '../auth/credential-secrets.js';
import { buildOpenApiDocument } from './openapi.js';

/** A self-signed P-256 certificate for localhost / 127.0.0.1, made with openssl into a temp dir. */
function selfSignedCert(): { certPem: string; keyPem: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-test-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

const TOKEN = generateAdminToken();
const ENV_TOKEN = generateAdminToken();
const VIEWER_TOKEN = generateAdminToken();
const SECRET = 'Bearer sk-admin-test-0123456789';

describe('admin API server', () => {
  let store: Store;
  let box: SecretBox;
  let listener: Listener;
  let extra: Listener[] = [];
  let agent: Agent;
  let base: string;
  let tls: ReturnType<typeof selfSignedCert>;
  const snapshots = { revision: -1, error: undefined as Error | undefined, current: undefined as unknown };
  const logLines: Array<Record<string, any>> = [];
  const rawLog: string[] = [];
  let deps: AdminListenerDeps;

  async function call(method: string, path: string, opts: { body?: unknown; raw?: string | Buffer; token?: string | null; headers?: Record<string, string>; url?: string } = {}): Promise<Reply> {
    const token = opts.token === undefined ? TOKEN : opts.token;
    const hasBody = opts.body !== undefined || opts.raw !== undefined;
    const r = await request(`${opts.url ?? base}${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(hasBody && opts.raw === undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, body: text ? JSON.parse(text) : undefined };
  }

  function assertError(r: Reply, status: number, type?: string): void {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(typeof r.body?.error?.code, 'string');
    assert.equal(typeof r.body.error.message, 'string');
    assert.equal(typeof r.body.error.type, 'string');
    if (type) assert.equal(r.body.error.type, type);
    assert.match(String(r.headers['content-type']), /^application\/json/);
  }

  const fieldPaths = (r: Reply): string[] => (r.body.error.details ?? []).map((d: { path: string }) => d.path);
  const svc = (name: string, extra: Record<string, unknown> = {}) => ({ name, upstream: { targets: [{ url: 'http://127.0.0.1:3000' }] }, ...extra });

  before(async () => {
    tls = selfSignedCert();
    store = await openSqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.adminTokens.create({ name: 'test', tenant: null, role: 'platform-admin', hash: hashAdminToken(TOKEN) });
    await store.adminTokens.create({ name: 'viewer', tenant: 'default', role: 'viewer', hash: hashAdminToken(VIEWER_TOKEN) });
    box = new SecretBox({ current: { id: 'k1', key: randomBytes(32) } });
    const configService = new ConfigService({
      store,
      plugins: new PluginRegistry([headersPlugin]),
      secrets: box,
      onCommitted: async () => {
        snapshots.revision = await store.revision();
      },
    });
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const line of chunk.toString().split('\n')) {
            if (!line) continue;
            rawLog.push(line);
            logLines.push(JSON.parse(line));
          }
          cb();
        },
      }),
    );
    deps = {
      host: '127.0.0.1',
      port: 0,
      certPem: tls.certPem,
      keyPem: tls.keyPem,
      logger,
      configService,
      accessService: new AccessService({ store, hasher: new CredentialHasher(randomBytes(32)), onCommitted: async () => undefined }),
      caService: new CaService({ store, secrets: new SecretBox({ current: { id: 'k1', key: randomBytes(32) } }), baseUrl: () => 'http://localhost:8080', onCommitted: async () => undefined }),
      store,
      snapshots,
      auth: new AdminAuth({ store, envTokenHash: hashAdminToken(ENV_TOKEN) }),
      version: '0.0.0-test',
    };
    listener = createAdminListener(deps);
    await listener.start();
    base = `https://127.0.0.1:${listener.address().port}`;
    agent = new Agent({ connect: { ca: tls.certPem } });
  });

  after(async () => {
    await agent?.close();
    await listener?.stop(1000);
    for (const l of extra) await l.stop(1000);
    await store?.close();
    tls?.cleanup();
  });

  it('serves health without auth; readiness needs a snapshot', async () => {
    assert.deepEqual((await call('GET', '/healthz', { token: null })).body, { status: 'ok' });
    const notReady = await call('GET', '/readyz', { token: null });
    assertError(notReady, 503, 'not_ready');
    assert.match(notReady.body.error.message, /snapshot/);
    snapshots.current = {};
    snapshots.revision = await store.revision();
    const ready = await call('GET', '/readyz', { token: null });
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  it('answers 503 on /readyz when storage is down, and a generic 500 for unexpected errors', async () => {
    const broken = createAdminListener({
      ...deps,
      store: { ping: () => Promise.reject(new Error('connect ECONNREFUSED postgres://user:pw@db')) } as unknown as Store,
      configService: {
        as() {
          return this;
        },
        listTenants: () => Promise.reject(new Error('kaboom with internal detail')),
      } as unknown as ConfigService,
    });
    extra.push(broken);
    await broken.start();
    const url = `https://127.0.0.1:${broken.address().port}`;
    const r = await call('GET', '/readyz', { token: null, url });
    assertError(r, 503, 'not_ready');
    assert.ok(!JSON.stringify(r.body).includes('pw'));
    const e = await call('GET', '/admin/v1/tenants', { url });
    assertError(e, 500, 'internal_error');
    assert.equal(e.body.error.message, 'Internal error');
    assert.ok(logLines.some((l) => l.msg === 'admin request failed' && l.level === 50));
  });

  it('authenticates bearer tokens: missing, wrong, valid, env; and authorizes roles', async () => {
    for (const token of [null, 'pca_wrong']) {
      const r = await call('GET', '/admin/v1/tenants', { token });
      assertError(r, 401, 'unauthenticated');
      assert.equal(r.headers['www-authenticate'], 'Bearer');
      assert.equal(r.body.error.message, 'Missing or invalid credentials');
    }
    assertError(await call('GET', '/admin/v1/tenants', { token: null, headers: { authorization: `Basic ${TOKEN}` } }), 401);
    assert.equal((await call('GET', '/admin/v1/tenants')).status, 200);
    assert.equal((await call('GET', '/admin/v1/tenants', { token: ENV_TOKEN })).status, 200);
    assert.equal((await call('GET', '/admin/v1/tenants', { token: VIEWER_TOKEN })).status, 200);
    assertError(await call('POST', '/admin/v1/tenants', { token: VIEWER_TOKEN, body: { name: 'nope' } }), 403, 'forbidden');
    // Revoked tokens stop working at once.
    const t = generateAdminToken();
    const rec = await store.adminTokens.create({ name: 'temp', tenant: null, role: 'platform-admin', hash: hashAdminToken(t) });
    assert.equal((await call('GET', '/admin/v1/tenants', { token: t })).status, 200);
    await store.adminTokens.revoke(rec.id, new Date());
    assertError(await call('GET', '/admin/v1/tenants', { token: t }), 401);
  });

  it('logs one line per request without credentials', async () => {
    await call('GET', '/admin/v1/tenants/default');
    const deadline = Date.now() + 2000;
    while (!logLines.some((l) => l.path === '/admin/v1/tenants/default') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const line = logLines.find((l) => l.path === '/admin/v1/tenants/default')!;
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.principal, 'test');
    for (const secret of [TOKEN, ENV_TOKEN, VIEWER_TOKEN, 'authorization', SECRET]) assert.ok(!rawLog.join('\n').toLowerCase().includes(secret.toLowerCase()), `log contains ${secret.slice(0, 8)}`);
  });

  it('manages tenants', async () => {
    const created = await call('POST', '/admin/v1/tenants', { body: { name: 'team-a', displayName: 'Team A' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, '/admin/v1/tenants/team-a');
    assert.equal(created.body.displayName, 'Team A');
    assertError(await call('POST', '/admin/v1/tenants', { body: { name: 'team-a' } }), 409, 'conflict');
    const bad = await call('POST', '/admin/v1/tenants', { body: { name: 'Team A' } });
    assertError(bad, 400, 'invalid_request');
    assert.deepEqual(fieldPaths(bad), ['name']);
    assert.equal((await call('GET', '/admin/v1/tenants/team-a')).body.name, 'team-a');
    const page = await call('GET', '/admin/v1/tenants?limit=1');
    assert.equal(page.body.items.length, 1);
    assert.ok(page.body.next);
    const page2 = await call('GET', `/admin/v1/tenants?limit=1&cursor=${page.body.next}`);
    assert.equal(page2.body.items[0].name, 'team-a');
    assert.equal((await call('DELETE', '/admin/v1/tenants/team-a')).status, 204);
    assertError(await call('GET', '/admin/v1/tenants/team-a'), 404, 'not_found');
    assertError(await call('DELETE', '/admin/v1/tenants/default'), 409);
  });

  for (const kind of ['services', 'routes'] as const) {
    it(`CRUD round trip for ${kind}, with pagination and If-Match`, async () => {
      const tenant = `crud-${kind}`;
      await call('POST', '/admin/v1/tenants', { body: { name: tenant } });
      const col = `/admin/v1/tenants/${tenant}/${kind}`;
      if (kind === 'routes') await call('POST', `/admin/v1/tenants/${tenant}/services`, { body: svc('backend') });
      const make = (n: string) => (kind === 'services' ? svc(n) : { name: n, service: 'backend', paths: [`/${n}`] });
      for (const n of ['c', 'a', 'b']) {
        const r = await call('POST', col, { body: make(n) });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.equal(r.headers.location, `${col}/${n}`);
        assert.deepEqual(Object.keys(r.body).sort(), ['createdAt', 'name', 'spec', 'updatedAt', 'version']);
      }
      const p1 = await call('GET', `${col}?limit=2`);
      assert.deepEqual(p1.body.items.map((i: any) => i.name), ['a', 'b']);
      const p2 = await call('GET', `${col}?limit=2&cursor=${encodeURIComponent(p1.body.next)}`);
      assert.deepEqual(p2.body.items.map((i: any) => i.name), ['c']);
      assert.equal((await call('GET', col)).body.items.length, 3);
      for (const q of ['limit=0', 'limit=1001', 'limit=abc']) assert.deepEqual(fieldPaths(await call('GET', `${col}?${q}`)), ['limit']);
      assertError(await call('GET', `${col}?cursor=%21%21`), 400);

      const got = await call('GET', `${col}/a`);
      assert.equal(got.headers.etag, '"1"');
      const changed = kind === 'services' ? { upstream: { targets: [{ url: 'http://127.0.0.1:4000' }] } } : { service: 'backend', paths: ['/a2'] };
      assertError(await call('PUT', `${col}/a`, { body: changed, headers: { 'if-match': '"7"' } }), 409, 'conflict');
      assertError(await call('PUT', `${col}/a`, { body: changed, headers: { 'if-match': 'nope' } }), 400);
      const put = await call('PUT', `${col}/a`, { body: changed, headers: { 'if-match': '"1"' } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.version, 2);
      assert.equal(put.headers.etag, '"2"');
      assertError(await call('PUT', `${col}/missing`, { body: changed }), 404);

      assert.equal((await call('DELETE', `${col}/a`)).status, 204);
      assertError(await call('GET', `${col}/a`), 404, 'not_found');
      assertError(await call('DELETE', `${col}/a`), 404);
      assertError(await call('GET', `/admin/v1/tenants/nope/${kind}`), 404);
    });
  }

  it('validates bodies with field paths; duplicates 409; missing service 400; referenced service cannot be deleted', async () => {
    const col = '/admin/v1/tenants/default/services';
    const bad = await call('POST', col, { body: { name: 'x', upstream: { targets: [{ url: 'ftp://nope' }], connections: 0 }, extra: 1 } });
    assertError(bad, 400, 'invalid_request');
    assert.deepEqual(fieldPaths(bad).sort(), ['', 'upstream.connections', 'upstream.targets.0.url']);
    assert.equal((await call('POST', col, { body: svc('dup') })).status, 201);
    assertError(await call('POST', col, { body: svc('dup') }), 409, 'conflict');
    const dangling = await call('POST', '/admin/v1/tenants/default/routes', { body: { name: 'orphan', service: 'ghost', paths: ['/orphan'] } });
    assertError(dangling, 400, 'invalid_request');
    assert.deepEqual(fieldPaths(dangling), ['service']);
    assert.match(dangling.body.error.message, /service "ghost" does not exist/);
    assert.equal((await call('POST', '/admin/v1/tenants/default/routes', { body: { name: 'uses-dup', service: 'dup', paths: ['/uses-dup'] } })).status, 201);
    const refused = await call('DELETE', `${col}/dup`);
    assertError(refused, 409, 'conflict');
    assert.match(refused.body.error.message, /still used by route "uses-dup"/);
    assert.equal((await call('GET', `${col}/dup`)).status, 200);
    assertError(await call('GET', '/admin/v1/tenants/BAD/services'), 400);
  });

  it('keeps secrets sealed in the store, redacted on reads and export, kept on a redacted round trip', async () => {
    const col = '/admin/v1/tenants/default/services';
    const created = await call('POST', col, { body: svc('llm', { upstream: { targets: [{ url: 'https://api.example.com' }], secretHeaders: { Authorization: SECRET } } }) });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.spec.upstream.secretHeaders, { Authorization: REDACTED });
    const got = await call('GET', `${col}/llm`);
    assert.deepEqual(got.body.spec.upstream.secretHeaders, { Authorization: REDACTED });
    const list = await call('GET', col);
    assert.ok(!JSON.stringify(list.body).includes('sk-admin'));

    const raw = await (await store.tenant('default')).get('service', 'llm');
    const sealed = (raw!.spec as any).upstream.secretHeaders.Authorization as string;
    assert.match(sealed, /^pcenc:v1:k1:/);
    assert.ok(!JSON.stringify(raw).includes('sk-admin'), 'the clear value is not in the store');

    const again = await call('PUT', `${col}/llm`, { body: got.body.spec, headers: { 'if-match': got.headers.etag as string } });
    assert.equal(again.status, 200);
    assert.equal(again.body.version, 1, 'sending the redacted spec back changes nothing');
    const raw2 = await (await store.tenant('default')).get('service', 'llm');
    assert.equal((raw2!.spec as any).upstream.secretHeaders.Authorization, sealed);

    const exported = await call('GET', '/admin/v1/tenants/default/config');
    assert.equal(exported.status, 200);
    assert.ok(!JSON.stringify(exported.body).includes('sk-admin'));
    assert.equal(exported.body.services.find((s: any) => s.name === 'llm').upstream.secretHeaders.Authorization, REDACTED);

    const missing = await call('PUT', `${col}/llm`, { body: { ...got.body.spec, upstream: { ...got.body.spec.upstream, secretHeaders: { 'X-New': REDACTED } } } });
    assertError(missing, 400);
    assert.deepEqual(fieldPaths(missing), ['upstream.secretHeaders.X-New']);
  });

  it('applies documents declaratively: diff, idempotence, dry run, transactional failure, export round trip', async () => {
    const url = '/admin/v1/tenants/decl/config';
    const doc = {
      services: [
        { name: 'httpbin', upstream: { targets: [{ url: 'http://127.0.0.1:3000' }] }, plugins: {}, routes: [{ name: 'httpbin', paths: ['/decl-anything'], methods: ['GET', 'POST'] }] },
      ],
    };
    const dry = await call('POST', `${url}?dryRun=true`, { body: doc });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.applied, false);
    assert.deepEqual(dry.body.changes.map((c: any) => `${c.action} ${c.kind} ${c.name}`), ['create tenant decl', 'create service httpbin', 'create route httpbin']);
    assertError(await call('GET', '/admin/v1/tenants/decl'), 404);

    const first = await call('POST', url, { body: doc });
    assert.equal(first.body.applied, true);
    assert.equal(first.body.changes.length, 3);
    assert.equal(snapshots.revision, first.body.revision, 'onCommitted ran before the answer');
    const second = await call('POST', `${url}?dryRun=false`, { body: doc });
    assert.deepEqual(second.body.changes, []);
    assert.equal(second.body.revision, first.body.revision);

    const revision = await store.revision();
    const invalid = {
      services: [
        { ...doc.services[0], routes: [{ name: 'httpbin', paths: ['/decl-changed'] }] },
        { name: 'second', upstream: { targets: [{ url: 'http://127.0.0.1:1' }] }, routes: [{ name: 'r2', paths: ['/r2'], plugins: { 'no-such-plugin': {} } }] },
      ],
    };
    const failed = await call('POST', url, { body: invalid });
    assertError(failed, 400);
    assert.deepEqual(fieldPaths(failed), ['services.1.routes.0.plugins.no-such-plugin']);
    assert.equal(await store.revision(), revision, 'nothing applied');
    assert.deepEqual((await call('GET', '/admin/v1/tenants/decl/routes/httpbin')).body.spec.paths, [{ path: '/decl-anything', match: 'prefix' }]);

    const exported = await call('GET', url);
    assert.equal(exported.body.tenant, 'decl');
    const roundTrip = await call('POST', url, { body: exported.body });
    assert.deepEqual(roundTrip.body.changes, []);
    assert.equal(await store.revision(), revision);

    assertError(await call('POST', `${url}?dryRun=maybe`, { body: doc }), 400);
    assertError(await call('POST', url, { body: { tenant: 'other', services: [] } }), 400);
  });

  it('rejects non-JSON content types (415), large bodies (413) and invalid JSON (400)', async () => {
    const col = '/admin/v1/tenants/default/services';
    assertError(await call('POST', col, { raw: JSON.stringify(svc('ct')), headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    assertError(await call('POST', col, { raw: JSON.stringify(svc('ct')) }), 415);
    assert.equal((await call('POST', col, { raw: JSON.stringify(svc('ct')), headers: { 'content-type': 'Application/JSON; charset=utf-8' } })).status, 201);
    const big = JSON.stringify({ ...svc('big'), padding: 'x'.repeat(1024 * 1024) });
    assertError(await call('POST', col, { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    const invalid = await call('POST', col, { raw: '{"name": "x", "secret": "sk-leak', headers: { 'content-type': 'application/json' } });
    assertError(invalid, 400, 'bad_request');
    assert.ok(!JSON.stringify(invalid.body).includes('sk-leak'));
    assertError(await call('POST', col, { raw: '', headers: { 'content-type': 'application/json' } }), 400);
    // Without Content-Length (chunked), the limit applies while reading.
    const chunked = await request(`${base}${col}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: Readable.from((function* () {
        for (let i = 0; i < 40; i++) yield Buffer.alloc(64 * 1024, 0x20);
      })()),
    });
    assert.equal(chunked.statusCode, 413);
    assert.equal(JSON.parse(await chunked.body.text()).error.type, 'payload_too_large');
    // The connection is still usable after a 413.
    assert.equal((await call('GET', '/healthz', { token: null })).status, 200);
  });

  it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    assertError(await call('GET', '/admin/v1/nope'), 404, 'not_found');
    assertError(await call('GET', '/', { token: null }), 404);
    const r = await call('PATCH', '/admin/v1/tenants/default/services/x', { body: {} });
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.allow, 'DELETE, GET, PUT');
    assert.equal((await call('DELETE', '/admin/v1/tenants')).headers.allow, 'GET, POST');
  });

  it('serves an OpenAPI document covering every route', async () => {
    const r = await call('GET', '/admin/v1/openapi.json', { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    assert.equal(r.body.info.version, '0.0.0-test');
    const { adminRoutes } = await import('./admin-routes.js');
    const { accessRoutes } = await import('./access-routes.js');
    const { pkiRoutes } = await import('./pki-routes.js');
    const { inventoryRoutes } = await import('./inventory-routes.js');
    const { llmUsageRoutes } = await import('./llm-usage-routes.js');
    const { acmeRoutes } = await import('./acme-routes.js');
    const routes = [...adminRoutes({ store, snapshots, openapi: () => undefined }), ...accessRoutes({ audit: undefined }), ...pkiRoutes(), ...inventoryRoutes(), ...llmUsageRoutes(), ...acmeRoutes()];
    for (const route of routes) assert.ok(r.body.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`);
    assert.deepEqual(r.body, JSON.parse(JSON.stringify(buildOpenApiDocument(routes, { version: '0.0.0-test' }))));
  });
});
