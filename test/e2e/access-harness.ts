/**
 * Helpers shared by the access-control end-to-end suites (test/e2e/access-*.test.ts): documents with
 * guarded services, credentials and subscriptions through the admin API, real clients (undici and
 * curl, optionally with client certificates and a chosen loopback source address), client PKI, and
 * small loopback servers (JWKS, webhooks). Nothing here mocks the gateway.
 */

import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import { runCommand, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';

const DAY = 86_400_000;

/** Settings that keep the failure limiter out of the way of suites that are not about it. */
export const LENIENT_FAILURES = { perSource: 100_000, perTenant: 1_000_000, window: '1m' } as const;

// --- documents -------------------------------------------------------------------------------------

export interface GuardedServiceDef {
  name: string;
  /** The service's `access` block; absent: a public service. */
  access?: Record<string, unknown>;
}

/** The route path of a service made by {@link accessDoc}: unique per tenant and service. */
export function servicePath(tenant: string, service: string): string {
  return `/${tenant}/${service}`;
}

/**
 * A tenant document: one prefix route per service at {@link servicePath}, all to `upstreamUrl`, plus
 * applications and JWT issuers.
 */
export function accessDoc(tenant: string, upstreamUrl: string, services: GuardedServiceDef[], extra: { applications?: unknown[]; jwtIssuers?: unknown[] } = {}) {
  return {
    services: services.map((s) => ({
      name: s.name,
      upstream: { targets: [{ url: upstreamUrl }] },
      ...(s.access ? { access: s.access } : {}),
      routes: [{ name: s.name, paths: [servicePath(tenant, s.name)] }],
    })),
    applications: extra.applications ?? [],
    jwtIssuers: extra.jwtIssuers ?? [],
  };
}

// --- admin API -------------------------------------------------------------------------------------

export interface Issued {
  id: string;
  prefix: string;
  /** The API key or client_secret. */
  secret: string;
  clientId: string | undefined;
  credential: Record<string, any>;
}

async function ok(gw: TestGateway, method: string, path: string, body: unknown, want: number): Promise<any> {
  const r = await gw.admin(method, path, body);
  if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function createCredential(gw: TestGateway, tenant: string, application: string, input: Record<string, unknown> = {}): Promise<Issued> {
  const b = await ok(gw, 'POST', `/admin/v1/tenants/${tenant}/applications/${application}/credentials`, input, 201);
  return { id: b.credential.id, prefix: b.credential.prefix, secret: b.secret, clientId: b.clientId, credential: b.credential };
}

export async function getCredential(gw: TestGateway, tenant: string, id: string): Promise<Record<string, any>> {
  return ok(gw, 'GET', `/admin/v1/tenants/${tenant}/credentials/${id}`, undefined, 200);
}

export async function revokeCredential(gw: TestGateway, tenant: string, id: string): Promise<Record<string, any>> {
  return ok(gw, 'POST', `/admin/v1/tenants/${tenant}/credentials/${id}/revoke`, { reason: 'test' }, 200);
}

/** Requests a subscription for `tenant`'s application; `service` is "name" or "tenant/name". */
export async function subscribe(gw: TestGateway, tenant: string, application: string, service: string): Promise<Record<string, any>> {
  return ok(gw, 'POST', `/admin/v1/tenants/${tenant}/subscriptions`, { application, service }, 201);
}

/** A provider's decision (`approve`, `reject`) or either side's `revoke`, as `tenant`. */
export async function decide(gw: TestGateway, tenant: string, id: string, verb: 'approve' | 'reject' | 'revoke'): Promise<Record<string, any>> {
  return ok(gw, 'POST', `/admin/v1/tenants/${tenant}/subscriptions/${id}/${verb}`, { comment: `${verb} in test` }, 200);
}

/** An approved subscription: requested, then approved by the service's tenant when still pending. */
export async function grant(gw: TestGateway, tenant: string, application: string, service: string): Promise<Record<string, any>> {
  const sub = await subscribe(gw, tenant, application, service);
  return sub.status === 'approved' ? sub : decide(gw, sub.serviceTenant, sub.id, 'approve');
}

/** Every audit entry (all tenants and platform-wide), oldest first. */
export async function auditEntries(gw: TestGateway): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let after: string | undefined;
  for (;;) {
    const page = await ok(gw, 'GET', `/admin/v1/audit?limit=1000${after ? `&after=${after}` : ''}`, undefined, 200);
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}

/** Waits for an audit entry with `action` matching `match` (security events are appended in batches). */
export async function waitForAudit(gw: TestGateway, action: string, match: (e: Record<string, any>) => boolean = () => true): Promise<Record<string, any>> {
  let found: Record<string, any> | undefined;
  await waitFor(async () => {
    found = (await auditEntries(gw)).find((e) => e.action === action && match(e));
    return found !== undefined;
  }, 5000, `audit entry ${action}`);
  return found!;
}

// --- data-plane clients ----------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The data plane's origin under the name `localhost` (which the development certificate covers), for
 * clients that must send SNI; {@link curl} pins the name to 127.0.0.1.
 */
export function namedOrigin(gw: TestGateway): string {
  return `https://localhost:${new URL(gw.httpsUrl).port}`;
}

/**
 * One request to the data plane with undici (through `dispatcher`, default the gateway's agent), to
 * `origin` (default the gateway's https URL).
 */
export async function call(
  gw: TestGateway,
  path: string,
  opts: { headers?: Record<string, string>; method?: string; body?: string; dispatcher?: Dispatcher; origin?: string } = {},
): Promise<Reply> {
  const r = await request(`${opts.origin ?? gw.httpsUrl}${path}`, {
    method: (opts.method ?? 'GET') as 'GET',
    headers: opts.headers ?? {},
    body: opts.body,
    dispatcher: opts.dispatcher ?? gw.agent,
  });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: parseJson(text) };
}

/** An undici agent trusting the gateway, presenting `cert` and/or connecting from `localAddress`. */
export function clientAgent(gw: TestGateway, opts: { cert?: ClientCert; localAddress?: string } = {}): Agent {
  return new Agent({
    connect: { ca: gw.caPem, ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}) },
    // A client option: undici overrides `connect.localAddress` with it.
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    keepAliveTimeout: 1000,
  });
}

export function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCommand(cmd, args, {}, 20_000, input);
}

export interface CurlReply extends Reply {
  /** Response header names lower-cased; repeated headers keep the last value. */
  headers: Record<string, string>;
}

/**
 * One request with curl against the gateway's CA (`<dataDir>/ca.pem`), HTTP/1.1 (or HTTP/2),
 * optionally with a client certificate and from a given loopback source address. Rejects when curl
 * itself fails.
 */
export async function curl(
  gw: TestGateway,
  path: string,
  opts: { headers?: Record<string, string>; cert?: ClientCert; from?: string; origin?: string; http2?: boolean } = {},
): Promise<CurlReply> {
  const origin = new URL(opts.origin ?? gw.httpsUrl);
  const args = ['-sS', '-i', opts.http2 ? '--http2' : '--http1.1', '--max-time', '10', '--cacert', join(gw.dataDir, 'ca.pem')];
  if (!/^[\d.]+$/.test(origin.hostname)) args.push('--resolve', `${origin.hostname}:${origin.port}:127.0.0.1`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.cert) args.push('--cert', opts.cert.certFile, '--key', opts.cert.keyFile);
  if (opts.from) args.push('--interface', opts.from);
  args.push(`${origin.origin}${path}`);
  const r = await run('curl', args);
  if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, split).split('\r\n');
  const text = r.stdout.slice(split + 4);
  const status = Number(/^HTTP\/\S+ (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, text, json: parseJson(text) };
}

// --- client PKI ------------------------------------------------------------------------------------

export interface ClientCert {
  certPem: string;
  keyPem: string;
  /** Files for curl. */
  certFile: string;
  keyFile: string;
  /** SHA-256 of the DER certificate, lower-case hex without separators (as the gateway logs it). */
  fingerprint: string;
  /** The same with colons, upper case (as `openssl x509 -fingerprint` prints it). */
  fingerprintColons: string;
  /** base64url SHA-256 of the DER certificate (RFC 8705 `x5t#S256`). */
  thumbprint: string;
}

export async function clientCa(name: string): Promise<CertificateIssuer> {
  const now = Date.now();
  return createRootCa({ commonName: name, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
}

/** A client certificate from `issuer`, written to `dir` as `<cn>.pem` and `<cn>-key.pem`. */
export async function clientCert(issuer: CertificateIssuer, cn: string, sans: string[], dir: string): Promise<ClientCert> {
  const c = await issueCertificate({ issuer, subjectCN: cn, sans, usage: 'client', notAfter: new Date(Date.now() + 30 * DAY) });
  const certFile = join(dir, `${cn}.pem`);
  const keyFile = join(dir, `${cn}-key.pem`);
  await writeFile(certFile, c.certPem);
  await writeFile(keyFile, c.keyPem, { mode: 0o600 });
  const x = new X509Certificate(c.certPem);
  return {
    certPem: c.certPem,
    keyPem: c.keyPem,
    certFile,
    keyFile,
    fingerprint: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    fingerprintColons: x.fingerprint256,
    thumbprint: Buffer.from(x.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'),
  };
}

// --- loopback servers ------------------------------------------------------------------------------

export interface JwksServer {
  upstream: TestUpstream;
  /** `<base>/<name>/jwks.json`. */
  url(name: string): string;
  /** Replaces the key set served under `name`. */
  set(name: string, keys: object[]): void;
  /** How many times `name`'s set was fetched. */
  fetches(name: string): number;
  close(): Promise<void>;
}

/** A JWKS server on 127.0.0.1 (plain HTTP, allowed for loopback issuers), one key set per name. */
export async function startJwksServer(): Promise<JwksServer> {
  const sets = new Map<string, object[]>();
  const counts = new Map<string, number>();
  const upstream = await startUpstream((req, res) => {
    const name = /^\/([^/]+)\/jwks\.json$/.exec(req.url ?? '')?.[1];
    const keys = name === undefined ? undefined : sets.get(name);
    if (name === undefined || keys === undefined) {
      res.writeHead(404).end();
      return;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys }));
  });
  return {
    upstream,
    url: (name) => `${upstream.url}/${name}/jwks.json`,
    set: (name, keys) => void sets.set(name, keys),
    fetches: (name) => counts.get(name) ?? 0,
    close: () => upstream.close(),
  };
}

export interface WebhookServer {
  url: string;
  received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records every POST and answers 204. */
export async function startWebhookServer(): Promise<WebhookServer> {
  const received: WebhookServer['received'] = [];
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  return { url: `${upstream.url}/hook`, received, close: () => upstream.close() };
}
