/**
 * Admin roles end to end: every operation of the OpenAPI document, called by every role on its own
 * tenant, is refused (403) exactly when the role lacks the operation's permission (the table in
 * src/admin/roles.ts, restated here as the specification); token grants, expiry and revocation; the
 * bootstrap token; tokens shown once and stored only as SHA-256 hashes.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { caller, createToken, expectJson, makePki, populateTenant, type Call, type Pki, type PopulatedTenant } from './bola-fixtures.js';
import { operationsOf, prepare, type Operation } from './bola-operations.js';
import { ADMIN_TOKEN, startGateway, type TestGateway } from './harness.js';

const ROLES = ['platform-admin', 'tenant-admin', 'developer', 'viewer'] as const;
type Role = (typeof ROLES)[number];

/** The permission table of src/admin/roles.ts. */
const GRANTS: Record<Role, string> = {
  'platform-admin':
    'tenants.read tenants.write config.read config.write applications.write credentials.write subscriptions.request subscriptions.decide tokens.manage audit.read audit.verify metrics.read',
  'tenant-admin': 'tenants.read config.read config.write applications.write credentials.write subscriptions.request subscriptions.decide tokens.manage audit.read',
  developer: 'tenants.read config.read applications.write credentials.write subscriptions.request',
  viewer: 'tenants.read config.read',
};
const may = (role: Role, permission: string) => GRANTS[role].split(' ').includes(permission);

/** The permission each operation needs (null: public). Unknown operations fail the test. */
function permissionOf(operationId: string): string | null | undefined {
  const object = /^(list|get|create|replace|delete)(Certificate|Domain|Service|Route|Application|JwtIssuer|LlmProvider|LlmPolicy|LlmPolicies)s?$/.exec(operationId);
  if (object) return object[1] === 'list' || object[1] === 'get' ? 'config.read' : object[2] === 'Application' ? 'applications.write' : 'config.write';
  const table: Record<string, string | null> = {
    health: null,
    ready: null,
    openapi: null,
    metrics: 'metrics.read',
    listTenants: 'tenants.read',
    getTenant: 'tenants.read',
    createTenant: 'tenants.write',
    deleteTenant: 'tenants.write',
    exportConfig: 'config.read',
    getLlmUsage: 'config.read',
    listLlmDefaultPrices: 'config.read',
    getDomainAcmeState: 'config.read',
    listLlmCalls: 'config.read',
    applyConfig: 'config.write',
    listCertificateAuthorities: 'config.read',
    getCertificateAuthority: 'config.read',
    getCertificateAuthorityChain: 'config.read',
    createCertificateAuthority: 'config.write',
    importCertificateAuthority: 'config.write',
    shareCertificateAuthority: 'config.write',
    revokeByCertificateAuthority: 'credentials.write',
    issueCertificate: 'credentials.write',
    listIssuedCertificates: 'config.read',
    getIssuedCertificate: 'config.read',
    revokeIssuedCertificate: 'credentials.write',
    listCertificateRequests: 'config.read',
    getCertificateRequest: 'config.read',
    createCertificateRequest: 'config.write',
    deleteCertificateRequest: 'config.write',
    installCertificateChain: 'config.write',
    listApplicationCredentials: 'config.read',
    listCredentials: 'config.read',
    getCredential: 'config.read',
    createCredential: 'credentials.write',
    rotateCredential: 'credentials.write',
    revokeCredential: 'credentials.write',
    listSubscriptions: 'config.read',
    getSubscription: 'config.read',
    listSubscriptionRequests: 'config.read',
    requestSubscription: 'subscriptions.request',
    revokeSubscription: 'subscriptions.request',
    approveSubscription: 'subscriptions.decide',
    rejectSubscription: 'subscriptions.decide',
    whoAmI: 'tenants.read',
    listAdminTokens: 'tokens.manage',
    createAdminToken: 'tokens.manage',
    revokeAdminToken: 'tokens.manage',
    listAudit: 'audit.read',
    verifyAudit: 'audit.verify',
    listCertificateInventory: 'config.read',
    listPlatformCertificateInventory: 'metrics.read',
  };
  return operationId in table ? table[operationId] : undefined;
}

/** Kind a DELETE removes → order (users before what they use), so allowed deletes mostly succeed. */
const DELETE_ORDER = ['admin-token', 'route', 'domain', 'application', 'service', 'llm-policy', 'llm-provider', 'jwt-issuer', 'certificate', 'tenant'];

describe('admin roles (RBAC) and admin tokens', () => {
  let gw: TestGateway;
  let pki: Pki;
  let alpha: PopulatedTenant;
  let ops: Operation[];
  const tokens = {} as Record<Role, string>;
  const calls = {} as Record<Role, Call>;

  before(async () => {
    gw = await startGateway();
    pki = await makePki();
    alpha = await populateTenant(gw, 'alpha', pki);
    tokens['platform-admin'] = ADMIN_TOKEN;
    for (const role of ROLES.slice(1)) tokens[role] = (await createToken(gw, role, 'alpha')).token;
    for (const role of ROLES) calls[role] = caller(gw, tokens[role]);
    ops = operationsOf(expectJson(await caller(gw)('GET', '/admin/v1/openapi.json'), 200, 'openapi'));
  });
  after(async () => {
    await gw?.stop();
  });

  it('refuses every operation with 403 exactly when the role lacks its permission', async () => {
    const unknown = ops.filter((op) => permissionOf(op.operationId) === undefined).map((op) => op.operationId);
    assert.deepEqual(unknown, [], 'new operations need their permission in permissionOf()');
    const rank = (op: Operation) => DELETE_ORDER.indexOf(op.params.at(-1)?.kind ?? 'tenant');
    const ordered = [...ops.filter((o) => o.method !== 'DELETE'), ...ops.filter((o) => o.method === 'DELETE').sort((x, y) => rank(x) - rank(y))];
    const problems: string[] = [];
    // Least privileged first, so that the writes of stronger roles do not hide refusals.
    for (const role of [...ROLES].reverse()) {
      for (const op of ordered) {
        const permission = permissionOf(op.operationId)!;
        const p = prepare(op, alpha.objects, pki, op.query.includes('dryRun') ? { dryRun: 'true' } : {});
        const r = await calls[role](p.method, p.url, p.body);
        const where = `${role} ${op.operationId} ${p.method} ${p.url} → ${r.status} ${r.text.slice(0, 200)}`;
        if (permission === null || may(role, permission)) {
          if (r.status === 401 || r.status === 403) problems.push(`refused: ${where}`);
        } else if (r.status !== 403 || JSON.parse(r.text).error.code !== 'PC_ERR_FORBIDDEN') {
          problems.push(`not forbidden (${permission}): ${where}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('viewer and developer: developers create applications, credentials and subscription requests, not services or approvals', async () => {
    const t = '/admin/v1/tenants/alpha';
    const service = { name: 'dev-svc', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] }, access: { methods: ['api-key'] } };
    assert.equal((await calls.viewer('POST', `${t}/services`, service)).status, 403);
    assert.equal((await calls.viewer('POST', `${t}/applications`, { name: 'viewer-app' })).status, 403);
    assert.equal((await calls.developer('POST', `${t}/services`, service)).status, 403);
    expectJson(await calls['tenant-admin']('POST', `${t}/services`, service), 201, 'tenant-admin creates a service');
    expectJson(await calls.developer('POST', `${t}/applications`, { name: 'dev-app' }), 201, 'developer creates an application');
    expectJson(await calls.developer('POST', `${t}/applications/dev-app/credentials`, {}), 201, 'developer creates a credential');
    const sub = expectJson(await calls.developer('POST', `${t}/subscriptions`, { application: 'dev-app', service: 'dev-svc' }), 201, 'developer requests');
    assert.equal(sub.status, 'pending');
    assert.equal((await calls.developer('POST', `${t}/subscriptions/${sub.id}/approve`, {})).status, 403);
    assert.equal((await calls.viewer('POST', `${t}/subscriptions/${sub.id}/approve`, {})).status, 403);
    assert.equal(expectJson(await calls['tenant-admin']('POST', `${t}/subscriptions/${sub.id}/approve`, {}), 200, 'approve').status, 'approved');
  });

  it('grants: only roles at or below the granter, only in its own tenant; no tenant creation below platform-admin', async () => {
    const grant = (role: Role, body: Record<string, unknown>) => calls[role]('POST', '/admin/v1/admin-tokens', { name: 'g', ...body });
    assert.equal((await calls['tenant-admin']('POST', '/admin/v1/tenants', { name: 'rbac-new' })).status, 403);
    for (const [i, wanted] of ROLES.entries()) {
      const r = await grant('tenant-admin', { role: wanted });
      if (i < ROLES.indexOf('tenant-admin')) assert.equal(r.status, 403, `tenant-admin granting ${wanted}: ${r.text}`);
      else assert.equal(expectJson(r, 201, `tenant-admin granting ${wanted}`).record.tenant, 'alpha', 'the tenant defaults to its own');
      for (const weak of ['developer', 'viewer'] as const) assert.equal((await grant(weak, { role: wanted, tenant: 'alpha' })).status, 403, `${weak} granting ${wanted}`);
    }
    assert.equal((await grant('tenant-admin', { role: 'viewer', tenant: 'default' })).status, 404, 'another tenant does not exist for it');
    assert.equal((await grant('platform-admin', { role: 'platform-admin', tenant: 'alpha' })).status, 400);
    assert.equal((await grant('platform-admin', { role: 'viewer' })).status, 400, 'tenant roles need a tenant');
    assert.equal(expectJson(await grant('platform-admin', { role: 'platform-admin' }), 201, 'platform grant').record.tenant, null);
  });

  it('the bootstrap token is platform-admin; bad tokens get one generic 401', async () => {
    const me = expectJson(await calls['platform-admin']('GET', '/admin/v1/whoami'), 200, 'whoami');
    assert.deepEqual(me, { id: 'env', name: 'PORTCULLIS_ADMIN_TOKEN', role: 'platform-admin', tenant: null, permissions: GRANTS['platform-admin'].split(' ').sort() });
    const anonymous = await caller(gw)('GET', '/admin/v1/whoami');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
    const unknown = await caller(gw, `${ADMIN_TOKEN}x`)('GET', '/admin/v1/whoami');
    assert.deepEqual([unknown.status, unknown.text], [401, anonymous.text]);
  });

  it('tokens expire, and revoked tokens stop at once', async () => {
    const unknown = await caller(gw, 'pca_unknown')('GET', '/admin/v1/whoami');
    const short = await createToken(gw, 'viewer', 'alpha', '2s');
    const shortCall = caller(gw, short.token);
    assert.equal(expectJson(await shortCall('GET', '/admin/v1/whoami'), 200, 'fresh token').role, 'viewer');
    await sleep(Math.max(0, Date.parse(short.expiresAt) - Date.now()) + 50);
    const expired = await shortCall('GET', '/admin/v1/whoami');
    assert.deepEqual([expired.status, expired.text], [401, unknown.text], 'an expired token is as unknown');

    const dev = await createToken(gw, 'developer', 'alpha');
    const devCall = caller(gw, dev.token);
    assert.equal((await devCall('GET', '/admin/v1/tenants/alpha/services')).status, 200);
    assert.equal((await calls['tenant-admin']('DELETE', `/admin/v1/admin-tokens/${dev.id}`)).status, 204);
    const revoked = await devCall('GET', '/admin/v1/tenants/alpha/services');
    assert.deepEqual([revoked.status, revoked.text], [401, unknown.text], 'a revoked token is refused on the next request');
    const listed = expectJson(await calls['tenant-admin']('GET', '/admin/v1/admin-tokens'), 200, 'list').items;
    assert.ok(listed.find((t: any) => t.id === dev.id).revokedAt);
    assert.ok(listed.find((t: any) => t.id === short.id).expiresAt <= new Date().toISOString());
  });

  it('shows a new token once and stores only its SHA-256 hash', async () => {
    const created = expectJson(await calls['tenant-admin']('POST', '/admin/v1/admin-tokens', { name: 'once', role: 'developer' }), 201, 'create');
    const token: string = created.token;
    assert.match(token, /^pca_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(created.record).sort(), ['createdAt', 'expiresAt', 'id', 'name', 'revokedAt', 'role', 'tenant']);
    for (const role of ['platform-admin', 'tenant-admin'] as const) {
      for (const path of ['/admin/v1/admin-tokens', '/admin/v1/audit?limit=1000']) {
        const r = await calls[role]('GET', path);
        assert.equal(r.status, 200);
        assert.ok(!r.text.includes(token) && !r.text.includes(token.slice(4)), `${role} ${path} shows the token`);
        assert.ok(!r.text.includes(createHash('sha256').update(token).digest('hex')), `${role} ${path} shows the hash`);
      }
    }
    const file = join(gw.dataDir, 'portcullis.db');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('select * from admin_tokens').all() as Array<Record<string, unknown>>;
      assert.ok(rows.length >= 5);
      for (const row of rows) assert.match(String(row.token_hash), /^[0-9a-f]{64}$/);
      const mine = rows.find((row) => row.id === created.record.id);
      assert.equal(mine?.token_hash, createHash('sha256').update(token, 'utf8').digest('hex'));
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
      for (const { name } of tables) {
        for (const row of db.prepare(`select * from "${name}"`).all() as Array<Record<string, unknown>>) {
          assert.ok(!JSON.stringify(row).includes(token.slice(4)), `table ${name} holds the token`);
        }
      }
    } finally {
      db.close();
    }
    for (const f of [file, `${file}-wal`].filter((x) => existsSync(x))) assert.ok(!readFileSync(f).includes(token.slice(4)), `${f} holds the token`);
  });
});
