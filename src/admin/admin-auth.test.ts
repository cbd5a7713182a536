import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import type { AdminTokenRecord, AdminTokens } from '../storage/store.js';
import { AdminAuth, generateAdminToken, hashAdminToken } from './admin-auth.js';

function tokens(records: Record<string, AdminTokenRecord>): AdminTokens {
  return {
    findActiveByHash: async (hash) => records[hash],
    create: async () => assert.fail('not used'),
    list: async () => Object.values(records),
    revoke: async () => false,
  };
}

const record = (role: AdminTokenRecord['role'], tenant: string | null = role === 'platform-admin' ? null : 'default'): AdminTokenRecord => ({
  id: 'id-1',
  name: 'ci',
  tenant,
  role,
  createdAt: '',
  expiresAt: null,
  revokedAt: null,
});

function rejects401(p: Promise<unknown>) {
  return assert.rejects(p, (err: unknown) => err instanceof GatewayError && err.status === 401 && err.message === 'Missing or invalid credentials');
}

describe('admin tokens', () => {
  it('generates pca_ tokens of 43 base64url characters, all different', () => {
    const a = generateAdminToken();
    assert.match(a, /^pca_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, generateAdminToken());
  });

  it('hashes with SHA-256 hex', () => {
    assert.equal(hashAdminToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('AdminAuth', () => {
  const good = generateAdminToken();
  const viewer = generateAdminToken();
  const env = generateAdminToken();
  const auth = new AdminAuth({
    store: { adminTokens: tokens({ [hashAdminToken(good)]: record('platform-admin'), [hashAdminToken(viewer)]: record('viewer') }) },
    envTokenHash: hashAdminToken(env),
  });

  it('accepts stored and env tokens', async () => {
    assert.equal((await auth.authenticate(`Bearer ${good}`)).role, 'platform-admin');
    assert.equal((await auth.authenticate(`bearer  ${good}`)).name, 'ci');
    const p = await auth.authenticate(`Bearer ${env}`);
    assert.deepEqual([p.id, p.role, p.tenant], ['env', 'platform-admin', null]);
  });

  it('rejects missing, malformed and unknown tokens with one generic 401', async () => {
    await rejects401(auth.authenticate(undefined));
    await rejects401(auth.authenticate(''));
    await rejects401(auth.authenticate(`Basic ${good}`));
    await rejects401(auth.authenticate('Bearer'));
    await rejects401(auth.authenticate(`Bearer ${good} extra`));
    await rejects401(auth.authenticate('Bearer pca_unknown'));
    await rejects401(auth.authenticate(`Bearer ${'x'.repeat(5000)}`));
  });

  it('authorizes by role permissions', async () => {
    auth.authorize(await auth.authenticate(`Bearer ${good}`), { permission: 'config.write', tenant: 'default' });
    const v = await auth.authenticate(`Bearer ${viewer}`);
    auth.authorize(v, { permission: 'config.read' });
    assert.throws(() => auth.authorize(v, { permission: 'config.write' }), (err: unknown) => err instanceof GatewayError && err.status === 403);
  });

  it('hides other tenants from tenant-scoped tokens (404, as for unknown tenants)', () => {
    const p = { id: 'x', name: 'team', role: 'tenant-admin' as const, tenant: 'acme' };
    auth.authorize(p, { permission: 'config.write', tenant: 'acme' });
    auth.authorize(p, { permission: 'tokens.manage' });
    assert.throws(() => auth.authorize(p, { permission: 'config.read', tenant: 'globex' }), (err: unknown) => err instanceof GatewayError && err.status === 404);
    assert.throws(() => auth.authorize(p, { permission: 'tenants.write' }), (err: unknown) => err instanceof GatewayError && err.status === 403);
  });

  it('refuses a non-platform token without a tenant (fails closed on a corrupted record)', async () => {
    const orphan = generateAdminToken();
    const a = new AdminAuth({ store: { adminTokens: tokens({ [hashAdminToken(orphan)]: record('tenant-admin', null) }) } });
    await rejects401(a.authenticate(`Bearer ${orphan}`));
  });

  it('refuses a malformed env token hash', () => {
    assert.throws(() => new AdminAuth({ store: { adminTokens: tokens({}) }, envTokenHash: 'not-a-hash' }));
  });
});
