import { CaService } from '../pki/ca-service.js';
import { AccessService } from '../auth/access-service.js';
import { CredentialHasher } from '../auth/credential-secrets.js';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { AdminAuth, generateAdminToken, hashAdminToken } from '../admin/admin-auth.js';
import { createAdminListener } from '../admin/admin-server.js';
import { ConfigService } from '../config/config-service.js';
import type { Listener } from '../listeners/listener.js';
import { PluginRegistry } from '../pipeline/plugin.js';
import { headersPlugin } from '../plugins/headers/headers.js';
import { SecretBox } from '../secrets/secret-box.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { AdminApiError, AdminClient } from './admin-client.js';
import { runApply } from './commands/apply.js';
import { runExport } from './commands/export.js';

const TOKEN = generateAdminToken();

const GATEWAY_YAML = `tenant: default          # optional, default "default"
services:
  - name: httpbin
    upstream:
      targets: [{ url: http://127.0.0.1:3000 }]
      secretHeaders: { X-Api-Key: cli-secret-value }
    plugins: {}
    routes:
      - name: httpbin
        paths: [/anything]      # string = prefix; or {path, match: exact|prefix}
        methods: [GET, POST]
`;

describe('CLI: admin client, apply and export', () => {
  let dir: string;
  let store: Store;
  let listener: Listener;
  let client: AdminClient;
  let adminUrl: string;

  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const capture = () => {
    const lines: string[] = [];
    return { lines, out: (l: string) => void lines.push(l) };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-test-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem')],
      { stdio: 'ignore' },
    );
    store = await openSqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.adminTokens.create({ name: 'cli', tenant: null, role: 'platform-admin', hash: hashAdminToken(TOKEN) });
    const configService = new ConfigService({
      store,
      plugins: new PluginRegistry([headersPlugin]),
      secrets: new SecretBox({ current: { id: 'k1', key: randomBytes(32) } }),
      onCommitted: async () => undefined,
    });
    listener = createAdminListener({
      host: '127.0.0.1',
      port: 0,
      certPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
      logger: pino({ level: 'silent' }),
      configService,
      accessService: new AccessService({ store, hasher: new CredentialHasher(randomBytes(32)), onCommitted: async () => undefined }),
      caService: new CaService({ store, secrets: new SecretBox({ current: { id: 'k1', key: randomBytes(32) } }), baseUrl: () => 'http://localhost:8080', onCommitted: async () => undefined }),
      store,
      snapshots: { revision: 0, error: undefined, current: {} },
      auth: new AdminAuth({ store }),
      version: 'test',
    });
    await listener.start();
    adminUrl = `https://127.0.0.1:${listener.address().port}`;
    client = new AdminClient({ adminUrl, token: TOKEN, dataDir: dir }); // CA: <dataDir>/ca.pem
  });

  after(async () => {
    await client?.close();
    await listener?.stop(1000);
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply: dry run, apply, then "No changes."', async () => {
    const path = file('gateway.yaml', GATEWAY_YAML);
    const dry = capture();
    assert.equal(await runApply({ file: path, dryRun: true, client, out: dry.out }), 0);
    assert.deepEqual(dry.lines, ['+ service httpbin', '+ route httpbin', '(dry run: nothing applied)']);
    assert.deepEqual((await client.getConfig('default')).services, []);

    const first = capture();
    assert.equal(await runApply({ file: path, dryRun: false, client, out: first.out }), 0);
    assert.deepEqual(first.lines, ['+ service httpbin', '+ route httpbin']);

    const second = capture();
    assert.equal(await runApply({ file: path, dryRun: false, client, out: second.out }), 0);
    assert.deepEqual(second.lines, ['No changes.']);

    const changed = capture();
    assert.equal(await runApply({ file: file('changed.yaml', GATEWAY_YAML.replace('[GET, POST]', '[GET]')), dryRun: false, client, out: changed.out }), 0);
    assert.deepEqual(changed.lines, ['~ route httpbin (methods)']);
  });

  it('export → apply is a no-op (YAML and JSON), secrets redacted', async () => {
    const yaml = capture();
    assert.equal(await runExport({ tenant: 'default', format: 'yaml', client, out: yaml.out }), 0);
    const text = yaml.lines.join('\n');
    assert.ok(!text.includes('cli-secret-value'));
    const doc = parseYaml(text);
    assert.equal(doc.services[0].upstream.secretHeaders['X-Api-Key'], '<redacted>');
    assert.deepEqual(doc.services[0].routes[0].paths, [{ path: '/anything', match: 'prefix' }]);
    const again = capture();
    assert.equal(await runApply({ file: file('exported.yaml', text), dryRun: false, client, out: again.out }), 0);
    assert.deepEqual(again.lines, ['No changes.']);

    const json = capture();
    assert.equal(await runExport({ tenant: 'default', format: 'json', client, out: json.out }), 0);
    assert.deepEqual(JSON.parse(json.lines.join('\n')), doc);
    const viaJson = capture();
    assert.equal(await runApply({ file: file('exported.json', json.lines.join('\n')), dryRun: false, client, out: viaJson.out }), 0);
    assert.deepEqual(viaJson.lines, ['No changes.']);

    const missing = capture();
    assert.equal(await runExport({ tenant: 'nope', format: 'yaml', client, out: missing.out }), 1);
    assert.match(missing.lines[0]!, /^error: Tenant "nope" not found/);
  });

  it('apply reports local errors with file:line:column and exits 1', async () => {
    const syntax = capture();
    const p1 = file('syntax.yaml', 'services:\n  - name: [unclosed\n');
    assert.equal(await runApply({ file: p1, dryRun: false, client, out: syntax.out }), 1);
    assert.match(syntax.lines[0]!, new RegExp(`^error: ${p1.replace(/[.]/g, '\\.')}:\\d+:\\d+: `));

    const schema = capture();
    const p2 = file('schema.yaml', GATEWAY_YAML.replace('http://127.0.0.1:3000', 'ftp://nope'));
    assert.equal(await runApply({ file: p2, dryRun: false, client, out: schema.out }), 1);
    assert.match(schema.lines[0]!, /schema\.yaml:5:\d+: services\.0\.upstream\.targets\.0\.url: /);

    const unreadable = capture();
    assert.equal(await runApply({ file: join(dir, 'missing.yaml'), dryRun: false, client, out: unreadable.out }), 1);
    assert.match(unreadable.lines[0]!, /cannot read .*missing\.yaml: ENOENT/);
  });

  it('apply reports server-side errors located in the file, and applies nothing', async () => {
    const bad = GATEWAY_YAML.replace('methods: [GET, POST]', 'methods: [GET, POST]\n        plugins: { no-such-plugin: {} }');
    const out = capture();
    assert.equal(await runApply({ file: file('server-error.yaml', bad), dryRun: false, client, out: out.out }), 1);
    assert.match(out.lines[0]!, /^error: Configuration is invalid: services\.0\.routes\.0\.plugins\.no-such-plugin: unknown plugin/);
    assert.match(out.lines[1]!, /server-error\.yaml:12:\d+: services\.0\.routes\.0\.plugins\.no-such-plugin: unknown plugin/);
  });

  it('apply --tenant overrides the file; the tenant is created', async () => {
    const out = capture();
    assert.equal(await runApply({ file: file('t.yaml', GATEWAY_YAML.replace('/anything', '/team-b')), dryRun: false, tenant: 'team-b', client, out: out.out }), 0);
    assert.deepEqual(out.lines, ['+ tenant team-b', '+ service httpbin', '+ route httpbin']);
  });

  it('client: errors carry the server message; bad token, bad CA, unreachable', async () => {
    const wrong = new AdminClient({ adminUrl, token: 'pca_wrong', caFile: join(dir, 'ca.pem') });
    await assert.rejects(wrong.getConfig('default'), (err: unknown) => err instanceof AdminApiError && err.status === 401 && err.message === 'Missing or invalid credentials' && err.code === 'PC_ERR_UNAUTHENTICATED');
    await wrong.close();

    await assert.rejects(
      client.request('POST', '/admin/v1/tenants', { body: { name: 'Bad Name' } }),
      (err: unknown) => err instanceof AdminApiError && err.status === 400 && err.details[0]?.path === 'name',
    );

    const noCa = new AdminClient({ adminUrl, token: TOKEN, caFile: join(dir, 'absent.pem') });
    await assert.rejects(noCa.getConfig('default'), /cannot read the CA certificate .*absent\.pem \(ENOENT\)/);

    const otherCa = file('other-ca.pem', execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=other', '-days', '1', '-keyout', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const untrusted = new AdminClient({ adminUrl, token: TOKEN, caFile: otherCa });
    await assert.rejects(untrusted.getConfig('default'), /cannot reach the admin API at https:\/\/127\.0\.0\.1:\d+: .*CA certificate/);
    await untrusted.close();

    const out = capture();
    const closedPort = new AdminClient({ adminUrl: 'https://127.0.0.1:1', token: TOKEN, caFile: join(dir, 'ca.pem') });
    assert.equal(await runExport({ tenant: 'default', format: 'yaml', client: closedPort, out: out.out }), 1);
    assert.match(out.lines[0]!, /^error: cannot reach the admin API at https:\/\/127\.0\.0\.1:1/);
    await closedPort.close();
  });
});
