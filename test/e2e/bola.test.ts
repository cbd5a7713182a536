/**
 * Cross-tenant isolation of the admin API (broken object-level authorisation, BOLA): a matrix built
 * from the served OpenAPI document, so every new endpoint is probed without editing this file.
 *
 * Tenants `alpha` and `beta` each own one object of every kind. Alpha's tokens (tenant-admin,
 * developer, viewer) call every operation against beta's objects; each answer must be a refusal that
 * names nothing of beta's and is identical to the answer about objects that do not exist at all.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { caller, createToken, expectJson, ghostObjects, makePki, populateTenant, tenantState, type Call, type Pki, type PopulatedTenant, type TenantObjects } from './bola-fixtures.js';
import { leaked, normalise, operationsOf, prepare, type Operation, type PreparedCall } from './bola-operations.js';
import { startGateway, type TestGateway } from './harness.js';

const ROLES = ['tenant-admin', 'developer', 'viewer'] as const;
const NOWHERE = 'nonexistent-tenant';

/** Sends a prepared call; the answer comes with its normalised form (see `normalise`). */
async function send(call: Call, p: PreparedCall) {
  const r = await call(p.method, p.url, p.body);
  return { ...r, normal: normalise(r, p.sent) };
}

function describeCall(op: Operation, p: PreparedCall, r: { status: number; text: string }): string {
  return `${op.operationId} ${p.method} ${p.url} → ${r.status} ${r.text.slice(0, 300)}`;
}

/**
 * What an alpha principal must see of each operation without a `{tenant}` parameter (called with
 * beta's objects filled in: beta's token id, `tenant: beta` in bodies and queries). Returns problems.
 * A new operation without an entry fails the matrix: decide what "only alpha's data" means for it.
 */
const GLOBAL_EXPECTATIONS: Record<string, (r: { status: number; body: any }, beta: TenantObjects) => string[]> = {
  health: (r) => (r.status === 200 ? [] : [`status ${r.status}`]),
  ready: (r) => (r.status === 200 ? [] : [`status ${r.status}`]),
  openapi: (r) => (r.status === 200 ? [] : [`status ${r.status}`]),
  metrics: (r) => (r.status === 403 ? [] : [`metrics.read is platform-only, got ${r.status}`]),
  listTenants: (r) => (JSON.stringify(r.body?.items?.map((t: any) => t.name)) === '["alpha"]' ? [] : [`tenants: ${JSON.stringify(r.body)}`]),
  createTenant: (r) => (r.status === 403 ? [] : [`status ${r.status}`]),
  whoAmI: (r) => (r.status === 200 && r.body.tenant === 'alpha' && r.body.role === 'tenant-admin' ? [] : [JSON.stringify(r.body)]),
  listAdminTokens: (r, beta) =>
    r.status === 200 && r.body.items.length > 0 && r.body.items.every((t: any) => t.tenant === 'alpha') && !r.body.items.some((t: any) => t.id === beta['admin-token'])
      ? []
      : [`tokens: ${JSON.stringify(r.body)}`],
  createAdminToken: (r) => (r.status === 404 ? [] : [`a token for beta: ${r.status}`]),
  revokeAdminToken: (r) => (r.status === 404 ? [] : [`revoking beta's token: ${r.status}`]),
  listAudit: (r) =>
    r.status === 200 && r.body.items.length > 0 && r.body.items.every((e: any) => e.tenant === 'alpha') ? [] : [`audit with ?tenant=beta: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`],
  verifyAudit: (r) => (r.status === 403 ? [] : [`audit.verify is platform-only, got ${r.status}`]),
  // The same public list for every caller: it holds nothing of any tenant.
  listLlmDefaultPrices: (r) => (r.status === 200 && r.body.items.length > 0 ? [] : [`default prices: ${r.status}`]),
  listPlatformCertificateInventory: (r) => (r.status === 403 ? [] : [`the platform certificate inventory needs metrics.read (platform-only), got ${r.status}`]),
};

/** Kind of the object a DELETE removes → order for the positive control (users before what they use). */
const DELETE_ORDER = ['route', 'domain', 'application', 'service', 'llm-policy', 'llm-provider', 'jwt-issuer', 'certificate', 'admin-token', 'tenant'];

describe('cross-tenant isolation: BOLA matrix from the OpenAPI document', () => {
  let gw: TestGateway;
  let pki: Pki;
  let alpha: PopulatedTenant;
  let beta: PopulatedTenant;
  let ops: Operation[];
  let betaBefore: unknown;
  const calls = {} as Record<(typeof ROLES)[number], Call>;

  before(async () => {
    gw = await startGateway();
    pki = await makePki();
    alpha = await populateTenant(gw, 'alpha', pki);
    beta = await populateTenant(gw, 'beta', pki);
    for (const role of ROLES) calls[role] = caller(gw, (await createToken(gw, role, 'alpha')).token);
    ops = operationsOf(expectJson(await caller(gw)('GET', '/admin/v1/openapi.json'), 200, 'openapi'));
    betaBefore = await tenantState(gw, 'beta');
  });
  after(async () => {
    await gw?.stop();
  });

  it('reads every operation from the document, with fillable parameters and known bodies', () => {
    assert.ok(ops.length >= 50, `only ${ops.length} operations`);
    for (const op of ops) prepare(op, beta.objects, pki); // throws for an unknown body schema
    const global = ops.filter((op) => !op.params.some((p) => p.kind === 'tenant')).map((op) => op.operationId);
    const unchecked = global.filter((id) => !GLOBAL_EXPECTATIONS[id]);
    assert.deepEqual(unchecked, [], 'operations without {tenant} need an entry in GLOBAL_EXPECTATIONS');
  });

  for (const role of ROLES) {
    it(`alpha's ${role} gets "not found", identical to nonexistent objects, for every operation on beta`, async () => {
      const call = calls[role];
      const problems: string[] = [];
      for (const op of ops.filter((o) => o.params.some((p) => p.kind === 'tenant'))) {
        const real = prepare(op, beta.objects, pki);
        const r = await send(call, real);
        const where = describeCall(op, real, r);
        if (r.status !== 404 && r.status !== 403) problems.push(`not refused: ${where}`);
        const leaks = leaked(`${JSON.stringify(r.headers)}${r.text}`, real.sent, beta.secrets);
        if (leaks.length) problems.push(`names ${leaks.join(', ')}: ${where}`);
        for (const ghost of [ghostObjects(NOWHERE), ghostObjects('beta')]) {
          const g = await send(call, prepare(op, ghost, pki));
          if (g.normal !== r.normal) problems.push(`differs from ${ghost.tenant}/nonexistent objects:\n${r.normal}\n--- vs ---\n${g.normal}`);
        }
        // In alpha's own tenant, beta's names and ids (in the path, query or body) must be as unknown as
        // names that exist nowhere. (Only calls that name one of beta's objects: others act on alpha.)
        const own = prepare(op, { ...beta.objects, tenant: 'alpha' }, pki);
        if (own.sent.some((s) => s.kind !== 'tenant' && s.kind !== 'host')) {
          const o = await send(call, own);
          const ownWhere = describeCall(op, own, o);
          if ((op.method !== 'GET' || op.params.length > 1) && o.status < 300) problems.push(`beta's object reached through alpha: ${ownWhere}`);
          const ownLeaks = leaked(`${JSON.stringify(o.headers)}${o.text}`, own.sent, beta.secrets);
          if (ownLeaks.length) problems.push(`names ${ownLeaks.join(', ')}: ${ownWhere}`);
          const g = await send(call, prepare(op, ghostObjects('alpha'), pki));
          if (g.normal !== o.normal) problems.push(`beta's objects in alpha's path differ from nonexistent ones:\n${o.normal}\n--- vs ---\n${g.normal}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it('operations without a {tenant} parameter show alpha its own data only, whatever beta ids they are given', async () => {
    const problems: string[] = [];
    for (const op of ops.filter((o) => !o.params.some((p) => p.kind === 'tenant'))) {
      for (const role of ROLES) {
        const real = prepare(op, beta.objects, pki);
        const r = await send(calls[role], real);
        const where = `${role}: ${describeCall(op, real, r)}`;
        const leaks = leaked(`${JSON.stringify(r.headers)}${r.text}`, real.sent, beta.secrets);
        if (leaks.length) problems.push(`names ${leaks.join(', ')}: ${where}`);
        const g = await send(calls[role], prepare(op, ghostObjects(NOWHERE), pki));
        if (g.normal !== r.normal) problems.push(`${role}: beta's objects differ from nonexistent ones:\n${r.normal}\n--- vs ---\n${g.normal}`);
        if (role === 'tenant-admin') {
          const body = r.text && r.headers['content-type']?.startsWith('application/json') ? JSON.parse(r.text) : undefined;
          for (const p of GLOBAL_EXPECTATIONS[op.operationId]?.({ status: r.status, body }, beta.objects) ?? []) problems.push(`${p}: ${where}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("cannot name beta's objects in bodies sent to alpha's own tenant", async () => {
    const call = calls['tenant-admin'];
    const a = alpha.objects;
    const b = beta.objects;
    const ghost = ghostObjects('beta');
    const nowhere = ghostObjects(NOWHERE);
    const post = (path: string, body: unknown, sent: PreparedCall['sent']): PreparedCall => ({ method: 'POST', url: `/admin/v1/tenants/alpha${path}`, body, sent });
    // Each row: the same request about beta's real object, a nonexistent one in beta, and one nowhere.
    const rows: Array<[string, (o: TenantObjects) => PreparedCall]> = [
      ['subscribe to an unshared service', (o) => post('/subscriptions', { application: a.application, service: `${o.tenant}/${o.service}` }, [{ kind: 'tenant', value: o.tenant }, { kind: 'service', value: o.service }])],
      ['route to a service', (o) => post('/routes', { name: 'probe-x', service: o.service, paths: ['/probe-x'] }, [{ kind: 'service', value: o.service }])],
      ['domain with a certificate', (o) => post('/domains', { name: 'probe-x', hosts: ['probe-x.example.test'], certificate: o.certificate }, [{ kind: 'certificate', value: o.certificate }])],
      ['application with a jwt-issuer', (o) => post('/applications', { name: 'probe-x', jwt: [{ issuer: o['jwt-issuer'], subject: 's' }] }, [{ kind: 'jwt-issuer', value: o['jwt-issuer'] }])],
    ];
    for (const [what, make] of rows) {
      const [r, g, n] = [await send(call, make(b)), await send(call, make(ghost)), await send(call, make(nowhere))];
      assert.ok(r.status === 404 || r.status === 400, `${what}: ${r.status} ${r.text}`);
      assert.equal(r.normal, g.normal, `${what}: beta's object differs from a nonexistent one`);
      assert.equal(r.normal, n.normal, `${what}: beta's object differs from one in no tenant`);
      assert.deepEqual(leaked(r.text, make(b).sent, beta.secrets), [], `${what}: ${r.text}`);
    }
    // Hosts and routes are global (one domain per host, one route per match): a clash is refused
    // without naming the other tenant or its objects.
    const clashes: Array<[string, PreparedCall]> = [
      ['domain on beta host', post('/domains', { name: 'probe-y', hosts: [b.host], certificate: a.certificate }, [])],
      ['route over beta route', post('/routes', { name: 'probe-y', service: a.service, hosts: [b.host], paths: [beta.routePath] }, [])],
    ];
    for (const [what, p] of clashes) {
      const r = await send(call, p);
      assert.ok(r.status === 400 || r.status === 409, `${what}: ${r.status} ${r.text}`);
      const leaks = leaked(r.text, [], beta.secrets.filter((s) => s !== b.host));
      assert.deepEqual(leaks, [], `${what}: ${r.text}`);
    }
  });

  it("positive control: every tenant-scoped probe reaches its handler on alpha's own objects", async () => {
    const call = calls['tenant-admin'];
    const scoped = ops.filter((o) => o.params.some((p) => p.kind === 'tenant'));
    const rank = (op: Operation) => DELETE_ORDER.indexOf(op.params.at(-1)!.kind);
    const ordered = [...scoped.filter((o) => o.method !== 'DELETE'), ...scoped.filter((o) => o.method === 'DELETE').sort((x, y) => rank(x) - rank(y))];
    const problems: string[] = [];
    for (const op of ordered) {
      const p = prepare(op, alpha.objects, pki, op.query.includes('dryRun') ? { dryRun: 'true' } : {});
      const r = await send(call, p);
      // Understood and found: a success, a state conflict, or (deleteTenant) a permission tenant admins
      // lack. Deleting a certificate a domain still uses is refused with 400 (dangling reference), not 409.
      const inUse = op.method === 'DELETE' && r.status === 400 && r.text.includes('does not exist');
      // The probe's chain was not signed for alpha's request key: refused by the checks, so found.
      const checked = op.operationId === 'installCertificateChain' && r.status === 400 && r.text.includes('Cannot install this chain');
      const ok = r.status < 300 || r.status === 409 || inUse || checked || (r.status === 403 && op.operationId === 'deleteTenant');
      if (!ok) problems.push(describeCall(op, p, r));
    }
    assert.deepEqual(problems, []);
  });

  it("leaves every beta object as it was: versions, credentials, subscriptions, tokens, audit", async () => {
    assert.deepEqual(await tenantState(gw, 'beta'), betaBefore);
  });
});
