/**
 * Fixtures for the cross-tenant (BOLA) and RBAC end-to-end tests: a tenant populated through the
 * admin API with one object of every kind, admin tokens per role, and a raw admin-API caller that
 * keeps status, headers and the exact body text (so responses can be compared byte for byte).
 */

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import type { TestGateway } from './harness.js';

/** Every kind of object an admin-API path parameter can name. */
export const OBJECT_KINDS = [
  'tenant',
  'certificate',
  'domain',
  'service',
  'route',
  'application',
  'jwt-issuer',
  'llm-provider',
  'llm-policy',
  'credential',
  'subscription',
  'admin-token',
  'ca',
  'issued-certificate',
  'certificate-request',
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** One value per kind (names, or record ids for credentials, subscriptions and admin tokens), plus a host. */
export type TenantObjects = Record<ObjectKind, string> & { readonly host: string };

/** A tenant's objects and the identifiers that must never reach another tenant. */
export interface PopulatedTenant {
  readonly objects: TenantObjects;
  /** The path of the route (on `objects.host`). */
  readonly routePath: string;
  /** Every name, id, prefix and host of the tenant (its name included). */
  readonly secrets: readonly string[];
}

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

/** Lower-case hex: never contains a tenant name such as "alpha" or "beta". */
export function hex(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

/** An admin-API caller with `token` (no token: anonymous). */
export function caller(gw: TestGateway, token?: string): Call {
  return async (method, path, body, headers = {}) => {
    const r = await request(`${gw.adminUrl}${path}`, {
      method: method as 'GET',
      dispatcher: gw.agent,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: r.statusCode, headers: flat, text: await r.body.text() };
  };
}

/** Parses a reply's JSON body; throws with the reply when the status is not `expected`. */
export function expectJson(r: Reply, expected: number, what: string): any {
  if (r.status !== expected) throw new Error(`${what}: expected ${expected}, got ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : undefined;
}

/** Key material shared by the probes: a CA, a wildcard server certificate and a JWT verification key. */
export interface Pki {
  readonly ca: CertificateIssuer;
  /** Certificate for `*.example.test` (covers every fixture host). */
  readonly wildcard: { readonly cert: string; readonly key: string };
  readonly jwk: Record<string, unknown>;
  readonly pem: string;
}

export async function makePki(): Promise<Pki> {
  const now = Date.now();
  const ca = await createRootCa({ commonName: 'BOLA test CA', notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 7 * 86_400_000) });
  const c = await issueCertificate({ issuer: ca, subjectCN: '*.example.test', sans: ['*.example.test'], usage: 'server', notAfter: new Date(now + 86_400_000) });
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ca,
    wildcard: { cert: c.certPem, key: c.keyPem },
    jwk: { ...publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: `k-${hex()}` },
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** An admin token for `role` (and `tenant`), created by the bootstrap platform admin. */
export async function createToken(gw: TestGateway, role: string, tenant?: string, expiresIn?: string | number): Promise<{ token: string; id: string; expiresAt: string }> {
  const r = await gw.admin('POST', '/admin/v1/admin-tokens', { name: `${role}-${tenant ?? 'platform'}-${hex(2)}`, role, ...(tenant ? { tenant } : {}), ...(expiresIn !== undefined ? { expiresIn } : {}) });
  if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, id: r.body.record.id, expiresAt: r.body.record.expiresAt };
}

/**
 * Creates `tenant` and, through the admin API as the platform admin, one object of every kind: a
 * certificate (issued by `pki.ca`), a domain, a service with an `access` block, a route, a jwt-issuer
 * (static keys: a public JWK and a PEM), an application, a credential, a pending subscription and a
 * viewer admin token. Object names are random hex, so they never contain a tenant's name.
 */
export async function populateTenant(gw: TestGateway, tenant: string, pki: Pki): Promise<PopulatedTenant> {
  const id = hex(3);
  const host = `h${id}.example.test`;
  const post = async (path: string, body: unknown) => {
    const r = await gw.admin('POST', `/admin/v1${path}`, body);
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await post('/tenants', { name: tenant });
  const t = `/tenants/${tenant}`;
  // The wildcard also covers the probes' hosts (`probe-<host>`), so probe domains validate.
  const leaf = await issueCertificate({ issuer: pki.ca, subjectCN: host, sans: [host, '*.example.test'], usage: 'server', notAfter: new Date(Date.now() + 86_400_000) });
  const o = {
    tenant,
    certificate: `cert-${id}`,
    domain: `dom-${id}`,
    service: `svc-${id}`,
    route: `rt-${id}`,
    application: `app-${id}`,
    'jwt-issuer': `iss-${id}`,
    'llm-provider': `llmp-${id}`,
    'llm-policy': `llmpol-${id}`,
  };
  await post(`${t}/certificates`, { name: o.certificate, cert: leaf.certPem, key: leaf.keyPem });
  await post(`${t}/domains`, { name: o.domain, hosts: [host], certificate: o.certificate });
  await post(`${t}/services`, { name: o.service, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] }, access: { methods: ['api-key', 'jwt'], approval: 'manual' } });
  await post(`${t}/routes`, { name: o.route, service: o.service, hosts: [host], paths: [`/p-${id}`] });
  await post(`${t}/jwt-issuers`, { name: o['jwt-issuer'], issuer: `https://issuer-${id}.example.test`, audiences: [`aud-${id}`], keys: [pki.jwk, pki.pem], algorithms: ['ES256'] });
  await post(`${t}/llm-providers`, { name: o['llm-provider'], type: 'openai-compatible', baseUrl: `http://127.0.0.1:9/${id}`, keys: { main: `sk-${id}` }, models: [{ name: `model-${id}` }] });
  await post(`${t}/llm-policies`, { name: o['llm-policy'], targets: [{ provider: o['llm-provider'], model: `model-${id}` }] });
  await post(`${t}/applications`, { name: o.application, jwt: [{ issuer: o['jwt-issuer'], subject: `sub-${id}` }] });
  const cred = await post(`${t}/applications/${o.application}/credentials`, { description: `key-${id}` });
  const sub = await post(`${t}/subscriptions`, { application: o.application, service: o.service, comment: `c-${id}` });
  const token = await createToken(gw, 'viewer', tenant);
  const ca = `ca-${id}`;
  await post(`${t}/cas`, { name: ca, trustDomain: `td-${id}.example.test` });
  const issued = await post(`${t}/cas/${ca}/certificates`, { usage: 'client', application: o.application });
  const request = `req-${id}`;
  await post(`${t}/certificate-requests`, { name: request, hosts: [`csr-${host}`] });
  const objects: TenantObjects = { ...o, credential: cred.credential.id, subscription: sub.id, 'admin-token': token.id, ca, 'issued-certificate': issued.certificate.serial, 'certificate-request': request, host };
  const secrets = [...OBJECT_KINDS.map((k) => objects[k]), host, cred.credential.prefix, `issuer-${id}`, `aud-${id}`, `sub-${id}`, `key-${id}`, `model-${id}`, `c-${id}`, `td-${id}`, issued.certificate.fingerprint];
  return { objects, routePath: `/p-${id}`, secrets };
}

/** Objects that exist nowhere (fresh names and random ids) in `tenant`. */
export function ghostObjects(tenant: string): TenantObjects {
  const id = hex(3);
  return {
    tenant,
    certificate: `ghost-cert-${id}`,
    domain: `ghost-dom-${id}`,
    service: `ghost-svc-${id}`,
    route: `ghost-rt-${id}`,
    application: `ghost-app-${id}`,
    'jwt-issuer': `ghost-iss-${id}`,
    'llm-provider': `ghost-llmp-${id}`,
    'llm-policy': `ghost-llmpol-${id}`,
    credential: randomUUID(),
    subscription: randomUUID(),
    'admin-token': randomUUID(),
    ca: `ghost-ca-${id}`,
    'issued-certificate': randomBytes(16).toString('hex').toUpperCase(),
    'certificate-request': `ghost-req-${id}`,
    host: `ghost-${id}.example.test`,
  };
}

/**
 * A comparable view of everything a tenant owns, read as the platform admin: object versions,
 * credentials (revocation, expiry), subscriptions (status) and its admin tokens (revocation).
 */
export async function tenantState(gw: TestGateway, tenant: string): Promise<unknown> {
  const get = async (path: string) => {
    const r = await gw.admin('GET', `/admin/v1${path}`);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const t = `/tenants/${tenant}`;
  const kinds = ['certificates', 'domains', 'services', 'routes', 'applications', 'jwt-issuers', 'llm-providers', 'llm-policies'];
  const objects: Record<string, unknown> = {};
  for (const k of kinds) objects[k] = (await get(`${t}/${k}`)).items.map((i: any) => ({ name: i.name, version: i.version, updatedAt: i.updatedAt }));
  const tokens = (await get('/admin-tokens')).items.filter((i: any) => i.tenant === tenant);
  const audit = (await get(`/audit?tenant=${tenant}&limit=1000`)).items.length;
  return {
    cas: (await get(`${t}/cas`)).items.map((c: any) => c.fingerprint),
    issued: (await get(`${t}/issued-certificates`)).items.map((c: any) => ({ serial: c.serial, revokedAt: c.revokedAt })),
    certificateRequests: (await get(`${t}/certificate-requests`)).items,
    tenant: await get(t),
    objects,
    credentials: (await get(`${t}/credentials`)).items,
    subscriptions: (await get(`${t}/subscriptions`)).items,
    requests: (await get(`${t}/subscription-requests`)).items,
    tokens,
    audit,
  };
}
