import { isIP } from 'node:net';
import { z } from 'zod';
import { SEALED_PREFIX } from '../secrets/secret-box.js';
import { certificateBundleProblem, clientKeyProblem, spkiPinProblem } from '../tls/upstream/upstream-tls-checks.js';
import { ServiceAccessSchema } from './access.js';
import { DurationSchema, NameSchema, PluginConfigMapSchema } from './common.js';
import { LlmServiceSchema } from '../llm/model/llm-service-spec.js';

/** Marks a string field as a secret: encrypted at rest, redacted on read. */
export const REDACTED = '<redacted>';

const HeaderNameSchema = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name');
const HeaderValueSchema = z.string().max(8192).regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');

export const UpstreamTargetSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine((u) => {
        const p = new URL(u);
        return p.search === '' && p.hash === '' && p.username === '' && p.password === '';
      }, 'must not contain query, fragment or credentials')
      .describe('Origin of the target, optionally with a base path, e.g. http://10.0.0.5:8080/api'),
    weight: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const UpstreamTimeoutsSchema = z
  .object({
    connect: DurationSchema.default(5000).describe('TCP (and TLS) connect timeout'),
    headers: DurationSchema.default(60_000).describe('Time from sending the request to receiving response headers'),
    body: DurationSchema.default(300_000).describe('Longest gap between two response body chunks'),
    idle: DurationSchema.default(60_000).describe('How long an idle keep-alive connection is kept'),
  })
  .strict();

/** Longest accepted PEM bundle (`ca`, `clientCert`). */
const MAX_PEM_BUNDLE = 1_000_000;
/** Longest accepted `clientKey` in clear; the stored (sealed) form is about 4/3 of that, plus a header. */
const MAX_CLIENT_KEY_LENGTH = 16_384;
const MAX_SEALED_CLIENT_KEY_LENGTH = 24_576;

const ServerNameSchema = z
  .string()
  .max(253)
  .toLowerCase()
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/, 'must be a DNS host name')
  .refine((v) => isIP(v) === 0, 'must be a host name, not an IP address (IP-literal targets send no server name)');

/** TLS to `https://` targets. Every field is optional; the defaults are Node's (system roots, full verification). */
export const UpstreamTlsSchema = z
  .object({
    ca: z
      .string()
      .min(1)
      .max(MAX_PEM_BUNDLE)
      .optional()
      .describe("PEM bundle of the CA certificates that upstream certificates must chain to. Replaces the system roots (Node's bundled Mozilla store), which are the default."),
    servername: ServerNameSchema.optional().describe(
      'Server name (SNI) to send, and the name the certificate must carry. Default: the target host; none for an IP-literal target (its certificate must then carry the IP address).',
    ),
    verify: z
      .boolean()
      .default(true)
      .describe(
        'Hostname verification: the certificate must name `servername` (or the target host). Only an explicit `false` turns it off, and the gateway logs a warning when it does; the chain is still verified against `ca` and pins still apply.',
      ),
    clientCert: z
      .string()
      .min(1)
      .max(MAX_PEM_BUNDLE)
      .optional()
      .describe('PEM client certificate chain (leaf first) presented to upstreams that require mutual TLS. Needs `clientKey`.'),
    clientKey: z
      .string()
      .min(1)
      .max(MAX_SEALED_CLIENT_KEY_LENGTH)
      .optional()
      .describe(`PEM private key of \`clientCert\` (unencrypted PKCS#8, SEC1 or PKCS#1). Secret: encrypted at rest, shown as "${REDACTED}"; sending "${REDACTED}" back keeps the stored value.`),
    spkiPins: z
      .array(
        z.string().superRefine((pin, ctx) => {
          const problem = spkiPinProblem(pin);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1)
      .max(64)
      .optional()
      .describe(
        "Base64 SHA-256 hashes of SubjectPublicKeyInfo (as HPKP and Envoy's verify_certificate_spki): the connection fails unless the upstream's leaf public key is one of them. Checked in addition to chain and hostname verification.",
      ),
    sessionReuse: z
      .boolean()
      .default(true)
      .describe('Resume TLS sessions on new connections to a target (an abbreviated handshake). `false`: every connection does a full handshake.'),
  })
  .strict()
  .superRefine((tls, ctx) => {
    let chainOk = false;
    if (typeof tls.ca === 'string') {
      const problem = certificateBundleProblem(tls.ca, 'certificate bundle');
      if (problem) ctx.addIssue({ code: 'custom', path: ['ca'], message: problem });
    }
    if (typeof tls.clientCert === 'string') {
      const problem = certificateBundleProblem(tls.clientCert, 'certificate chain');
      if (problem) ctx.addIssue({ code: 'custom', path: ['clientCert'], message: problem });
      chainOk = problem === undefined;
      if (tls.clientKey === undefined) ctx.addIssue({ code: 'custom', path: ['clientKey'], message: 'is required with clientCert' });
    }
    if (typeof tls.clientKey === 'string') {
      if (tls.clientCert === undefined) {
        ctx.addIssue({ code: 'custom', path: ['clientCert'], message: 'is required with clientKey' });
        return;
      }
      // A redacted or sealed key cannot be read here; secret sealing checks a kept key against the chain.
      if (tls.clientKey === REDACTED || tls.clientKey.startsWith(SEALED_PREFIX)) return;
      if (tls.clientKey.length > MAX_CLIENT_KEY_LENGTH) {
        ctx.addIssue({ code: 'custom', path: ['clientKey'], message: `is longer than ${MAX_CLIENT_KEY_LENGTH} characters` });
        return;
      }
      const problem = clientKeyProblem(tls.clientKey, chainOk ? tls.clientCert : undefined);
      if (problem) ctx.addIssue({ code: 'custom', path: ['clientKey'], message: problem });
    }
  });

export const UpstreamSpecSchema = z
  .object({
    targets: z.array(UpstreamTargetSchema).min(1).max(256),
    timeouts: UpstreamTimeoutsSchema.default(() => UpstreamTimeoutsSchema.parse({})),
    connections: z.number().int().min(1).max(10_000).default(256).describe('Connection pool size per target'),
    preserveHost: z.boolean().default(false).describe('Send the client Host header upstream instead of the target host'),
    headers: z.record(HeaderNameSchema, HeaderValueSchema).default({}).describe('Headers added to every upstream request'),
    secretHeaders: z
      .record(HeaderNameSchema, HeaderValueSchema)
      .default({})
      .describe(`Headers added to every upstream request whose values are credentials: encrypted at rest, shown as "${REDACTED}". Sending "${REDACTED}" back keeps the stored value.`),
    tls: UpstreamTlsSchema.optional().describe('TLS to https:// targets: trusted CAs, server name, verification, client certificate (mutual TLS), pins, session reuse'),
  })
  .strict()
  .superRefine((u, ctx) => {
    if (u.tls !== undefined && Array.isArray(u.targets) && !u.targets.some((t) => typeof t?.url === 'string' && /^https:/i.test(t.url))) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'applies to https:// targets, and this upstream has none' });
    }
  });

/** A service: a named upstream that routes send traffic to. */
export const ServiceSpecSchema = z
  .object({
    name: NameSchema,
    upstream: UpstreamSpecSchema.optional().describe('Where requests are proxied to. A service has `upstream` or `llm`, not both'),
    llm: LlmServiceSchema.optional().describe('Makes the service an OpenAI- and Anthropic-compatible LLM API over the tenant\'s llm-providers and llm-policies'),
    access: ServiceAccessSchema.optional().describe('Who may call the service (authentication, subscriptions, sharing). Absent: the service is public'),
    plugins: PluginConfigMapSchema.default({}),
  })
  .strict();

/** A service proxies (`upstream`) or is an LLM API (`llm`): exactly one. Checked at planning (the schema stays refinement-free, so PUT bodies can omit `name`). */
export function serviceKindProblem(s: { upstream?: unknown; llm?: unknown }): string | undefined {
  if ((s.upstream === undefined) === (s.llm === undefined)) return s.upstream ? 'a service has `upstream` or `llm`, not both' : 'is required (or `llm`, for an LLM API service)';
  return undefined;
}

export type UpstreamTarget = z.output<typeof UpstreamTargetSchema>;
export type UpstreamSpec = z.output<typeof UpstreamSpecSchema>;
export type UpstreamTls = z.output<typeof UpstreamTlsSchema>;
export type ServiceSpec = z.output<typeof ServiceSpecSchema>;
export type ServiceSpecInput = z.input<typeof ServiceSpecSchema>;
