/**
 * The admin API's operations as the OpenAPI document lists them, and how to call each one against
 * a given set of objects: path parameters filled by the kind named in the segment before them,
 * query parameters that name objects, and a plausible valid request body per body schema. Anything
 * unknown (a new path segment, a new body schema) throws, so new endpoints cannot be skipped.
 */

import { OBJECT_KINDS, type ObjectKind, type Pki, type TenantObjects } from './bola-fixtures.js';

export interface Operation {
  readonly operationId: string;
  readonly method: string;
  /** Template, e.g. `/admin/v1/tenants/{tenant}/services/{name}`. */
  readonly path: string;
  /** Path parameters in order, with the object kind each names. */
  readonly params: ReadonlyArray<{ readonly name: string; readonly kind: ObjectKind }>;
  /** Names of the query parameters. */
  readonly query: readonly string[];
  /** Component name of the JSON request body schema, when there is one. */
  readonly bodySchema: string | undefined;
}

/** Path segment before a `{param}` → the kind of object the parameter names. */
const SEGMENT_KIND: Readonly<Record<string, ObjectKind>> = {
  tenants: 'tenant',
  certificates: 'certificate',
  domains: 'domain',
  services: 'service',
  routes: 'route',
  applications: 'application',
  'jwt-issuers': 'jwt-issuer',
  'llm-providers': 'llm-provider',
  'llm-policies': 'llm-policy',
  credentials: 'credential',
  subscriptions: 'subscription',
  'admin-tokens': 'admin-token',
  cas: 'ca',
  'issued-certificates': 'issued-certificate',
  'certificate-requests': 'certificate-request',
};

/** Query parameters whose value names an object (filled like path parameters). */
const QUERY_KIND: Readonly<Record<string, ObjectKind>> = { application: 'application', tenant: 'tenant', ca: 'ca' };

function deref(doc: any, obj: any): any {
  if (typeof obj?.$ref !== 'string') return obj;
  return obj.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: any, key: string) => node?.[key], doc);
}

/** Every operation of the document. Throws for a path parameter whose object kind is unknown. */
export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const segments = path.split('/');
      const params = segments.flatMap((seg, i) => {
        const m = /^\{(.+)\}$/.exec(seg);
        if (!m) return [];
        const kind = SEGMENT_KIND[segments[i - 1] ?? ''];
        if (!kind) throw new Error(`${op.operationId}: cannot tell which object {${m[1]}} names in ${path}; add its segment to SEGMENT_KIND`);
        return [{ name: m[1]!, kind }];
      });
      const all = (op.parameters ?? []).map((p: unknown) => deref(doc, p));
      const query = all.filter((p: any) => p.in === 'query').map((p: any) => p.name as string);
      const ref: string | undefined = op.requestBody?.content?.['application/json']?.schema?.$ref;
      if (op.requestBody && !ref) throw new Error(`${op.operationId}: request body without a named JSON schema`);
      ops.push({ operationId: op.operationId, method: method.toUpperCase(), path, params, query, bodySchema: ref?.split('/').pop() });
    }
  }
  return ops;
}

type BodyFor = (o: TenantObjects, pki: Pki) => unknown;

const upstream = (port: number) => ({ targets: [{ url: `http://127.0.0.1:${port}` }] });
const issuerSpec = (o: TenantObjects, pki: Pki, label: string) => ({ issuer: `https://${label}-${o.host}`, audiences: ['probe'], keys: [pki.jwk], algorithms: ['ES256'] });

/**
 * A valid request body per body schema name, for the tenant whose objects are `o` (valid meaning: it
 * would succeed against that tenant's own objects, as far as the body goes). Probe objects are named
 * `probe-*` and never collide with fixtures.
 */
export const BODIES: Readonly<Record<string, BodyFor>> = {
  TenantInput: () => ({ name: 'probe-tenant' }),
  CertificateInput: (_o, pki) => ({ name: 'probe-cert', ...pki.wildcard }),
  CertificateReplaceInput: (_o, pki) => ({ ...pki.wildcard }),
  DomainInput: (o) => ({ name: 'probe-dom', hosts: [`probe-${o.host}`], certificate: o.certificate }),
  DomainReplaceInput: (o) => ({ hosts: [o.host], certificate: o.certificate, clientAuth: { mode: 'off' } }),
  ServiceInput: () => ({ name: 'probe-svc', upstream: upstream(9) }),
  ServiceReplaceInput: () => ({ upstream: upstream(10), access: { methods: ['api-key'], approval: 'auto' } }),
  RouteInput: (o) => ({ name: 'probe-rt', service: o.service, hosts: [o.host], paths: ['/probe'] }),
  RouteReplaceInput: (o) => ({ service: o.service, hosts: [o.host], paths: ['/probe-replaced'] }),
  ApplicationInput: () => ({ name: 'probe-app' }),
  ApplicationReplaceInput: () => ({ description: 'replaced by a probe' }),
  JwtIssuerInput: (o, pki) => ({ name: 'probe-iss', ...issuerSpec(o, pki, 'probe-new') }),
  JwtIssuerReplaceInput: (o, pki) => issuerSpec(o, pki, 'probe-replaced'),
  LlmProviderInput: () => ({ name: 'probe-llmp', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/probe', models: [{ name: 'probe-model' }] }),
  LlmProviderReplaceInput: (o) => ({ type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/probe-replaced', models: [{ name: `model-${o['llm-provider'].slice('llmp-'.length)}` }] }),
  LlmPolicyInput: (o) => ({ name: 'probe-llmpol', targets: [{ provider: o['llm-provider'], model: `model-${o['llm-provider'].slice('llmp-'.length)}` }] }),
  LlmPolicyReplaceInput: (o) => ({ strategy: 'least-busy', targets: [{ provider: o['llm-provider'], model: `model-${o['llm-provider'].slice('llmp-'.length)}` }] }),
  ConfigDocumentInput: (o) => ({ services: [{ name: 'probe-doc', upstream: upstream(11), routes: [{ name: 'probe-doc', hosts: [o.host], paths: ['/probe-doc'] }] }] }),
  CredentialInput: () => ({ description: 'probe', scopes: {} }),
  RotateInput: () => ({ overlap: '1m' }),
  RevokeInput: () => ({ reason: 'probe' }),
  SubscriptionInput: (o) => ({ application: o.application, service: o.service, comment: 'probe' }),
  DecisionInput: () => ({ comment: 'probe' }),
  AdminTokenInput: (o) => ({ name: 'probe-token', role: 'viewer', tenant: o.tenant }),
  CertificateAuthorityInput: () => ({ name: 'probe-ca' }),
  CaSharingInput: () => ({ sharedWith: [] }),
  CaRevokeInput: (o) => ({ serial: o['issued-certificate'], reason: 'superseded' }),
  CertificateAuthorityImport: (_o, pki) => ({ name: 'probe-imported', certificate: pki.ca.certPem, key: pki.ca.keyPem }),
  IssueInput: (o) => ({ usage: 'client', application: o.application }),
  PkiRevokeInput: () => ({ reason: 'superseded' }),
  CertificateRequestInput: (o) => ({ name: 'probe-req', hosts: [`probe-${o.host}`] }),
  ChainInstallInput: (_o, pki) => ({ chain: pki.wildcard.cert }),
};

export interface PreparedCall {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly body: unknown;
  /** Every object value the request carries (path, query, body): the caller knows these already. */
  readonly sent: ReadonlyArray<{ readonly kind: ObjectKind | 'host'; readonly value: string }>;
}

/**
 * The request for `op` against objects `o`. Throws when the operation has a request body this file
 * does not know (add it to {@link BODIES}). `extraQuery` is appended as is.
 */
export function prepare(op: Operation, o: TenantObjects, pki: Pki, extraQuery: Record<string, string> = {}): PreparedCall {
  let url = op.path;
  for (const p of op.params) url = url.replace(`{${p.name}}`, encodeURIComponent(o[p.kind]));
  if (url.includes('{')) throw new Error(`${op.operationId}: path parameters left unfilled in ${url}`);
  const query = new URLSearchParams(extraQuery);
  for (const q of op.query) {
    const kind = QUERY_KIND[q];
    if (kind) query.set(q, o[kind]);
  }
  const qs = query.toString();
  let body: unknown;
  if (op.bodySchema !== undefined) {
    const make = BODIES[op.bodySchema];
    if (!make) throw new Error(`${op.operationId}: no probe body for schema "${op.bodySchema}"; add one to BODIES in test/e2e/bola-operations.ts`);
    body = make(o, pki);
  }
  const text = `${url}?${qs} ${JSON.stringify(body ?? null)}`;
  const sent = [...OBJECT_KINDS, 'host' as const].filter((k) => text.includes(o[k])).map((k) => ({ kind: k, value: o[k] }));
  return { method: op.method, url: qs ? `${url}?${qs}` : url, body, sent };
}

/** Headers that legitimately differ between two identical answers. */
const VOLATILE_HEADERS = new Set(['x-request-id', 'date', 'content-length', 'connection', 'keep-alive']);

/**
 * A reply with every value the caller sent replaced by `<kind>`, longest first (so two calls that
 * differ only in which names they sent compare equal), and without volatile headers.
 */
export function normalise(r: { status: number; headers: Readonly<Record<string, string>>; text: string }, sent: PreparedCall['sent']): string {
  const sub = (s: string) => [...sent].sort((a, b) => b.value.length - a.value.length).reduce((acc, { kind, value }) => acc.split(value).join(`<${kind}>`), s);
  const headers = Object.entries(r.headers)
    .filter(([k]) => !VOLATILE_HEADERS.has(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${sub(v)}`);
  return `${r.status}\n${headers.join('\n')}\n\n${sub(r.text)}`;
}

/** The identifiers of `secrets` that appear in `text` once the values the caller sent are removed. */
export function leaked(text: string, sent: PreparedCall['sent'], secrets: readonly string[]): string[] {
  const stripped = [...sent].sort((a, b) => b.value.length - a.value.length).reduce((acc, { value }) => acc.split(value).join(''), text);
  return secrets.filter((s) => stripped.includes(s));
}
