// Access scenarios of `npm run bench`: a tenant with three services on the same upstream, one open,
// one requiring an API key, one requiring a JWT of a trusted issuer, plus BENCH_APPS applications
// and BENCH_APPS API keys (default 100,000 each) so that lookups run at the size the issue names.
//
// The measured application and its key are made through the admin API like a user would; the bulk
// of applications and keys is written straight into the gateway's SQLite database (the admin API
// makes keys one at a time, each a transaction and a snapshot rebuild), then the config revision is
// bumped so the gateway reloads, as it would after any change.

import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const AUTH_TENANT = 'bench-auth';
export const AUTH_PATHS = { none: '/auth/open/chat', apikey: '/auth/key/chat', jwt: '/auth/jwt/chat' };
const ISSUER = 'https://idp.bench.invalid/';
const AUDIENCE = 'portcullis-bench';

const service = (name, upstream, path, access) => ({
  name,
  upstream: { targets: [{ url: upstream }] },
  ...(access ? { access } : {}),
  routes: [{ name, paths: [{ path, match: 'exact' }], methods: ['POST'] }],
});

/**
 * Configures the access tenant and bulk identities. `admin(method, path, body)` calls the admin API
 * and returns {status, body}. Returns the headers each scenario sends and setup timings.
 */
export async function setupAccess({ admin, upstream, dataPath, apps, log }) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
  const doc = {
    services: [
      service('open', upstream, AUTH_PATHS.none),
      service('keyed', upstream, AUTH_PATHS.apikey, { methods: ['api-key'], approval: 'auto' }),
      service('jwt', upstream, AUTH_PATHS.jwt, { methods: ['jwt'], approval: 'auto' }),
    ],
    jwtIssuers: [{ name: 'idp', issuer: ISSUER, audiences: [AUDIENCE], keys: [jwk], algorithms: ['ES256'] }],
    applications: [{ name: 'bench-app', jwt: [{ issuer: 'idp', subject: 'bench-client' }] }],
  };
  const must = async (what, p) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  };
  await must('apply the access tenant', admin('POST', `/admin/v1/tenants/${AUTH_TENANT}/config`, doc));
  const key = (await must('create an API key', admin('POST', `/admin/v1/tenants/${AUTH_TENANT}/applications/bench-app/credentials`, {}))).secret;
  for (const svc of ['keyed', 'jwt']) await must(`subscribe to ${svc}`, admin('POST', `/admin/v1/tenants/${AUTH_TENANT}/subscriptions`, { application: 'bench-app', service: svc }));
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench-client')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);

  const t0 = performance.now();
  const revision = bulkIdentities(join(dataPath, 'portcullis.db'), apps);
  const insertMs = Math.round(performance.now() - t0);
  log(`wrote ${apps.toLocaleString('en-US')} applications and ${apps.toLocaleString('en-US')} API keys in ${insertMs} ms (revision ${revision})`);
  return { headers: { none: {}, apikey: { 'x-api-key': key }, jwt: { authorization: `Bearer ${token}` } }, revision, insertMs };
}

/** Inserts `n` applications and `n` keys into the tenant; bumps and returns the config revision. */
function bulkIdentities(file, n) {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    const tenantId = db.prepare('select id from tenants where name = ?').get(AUTH_TENANT).id;
    const now = new Date().toISOString();
    const app = db.prepare(`insert into config_objects (id, tenant_id, kind, name, spec, version, created_at, updated_at) values (?, ?, 'application', ?, ?, 1, ?, ?)`);
    const cred = db.prepare(
      `insert into credentials (id, tenant_id, application, type, prefix, secret_hash, description, scopes, bound_certificate, expires_at, revoked_at, created_at, last_used_at)
       values (?, ?, ?, 'api-key', ?, ?, null, '{}', null, null, null, ?, null)`,
    );
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const prefix = () => `pck_${Array.from(randomBytes(10), (b) => alphabet[b & 31]).join('')}`;
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const name = `bulk-${i}`;
        app.run(randomUUID(), tenantId, name, JSON.stringify({ name }), now, now);
        cred.run(randomUUID(), tenantId, name, prefix(), randomBytes(32).toString('hex'), now);
      }
      db.prepare('update config_revision set revision = revision + 1 where id = 1').run();
    })();
    return db.prepare('select revision from config_revision where id = 1').get().revision;
  } finally {
    db.close();
  }
}
