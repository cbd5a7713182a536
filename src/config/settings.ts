/**
 * Runtime settings of one gateway process: where it listens, where it keeps data, its limits.
 * Sources, later winning: defaults < settings file (`--config` / PORTCULLIS_CONFIG) < environment < flags.
 * Routes and services are not settings: they live in storage and change at runtime.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { gatewayError } from '../core/errors.js';
import { checkHsts, DEFAULT_HSTS } from '../listeners/hsts.js';
import { checkTlsPolicy, TLS_MIN_VERSIONS } from '../listeners/tls-policy.js';
import { ByteSizeSchema, DurationSchema } from '../model/common.js';
import { parseYamlSource, validateYamlSource } from './yaml-source.js';

const PortSchema = z.number().int().min(0).max(65535);

const listenerFields = (port: number, host: string) => ({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default(host),
  port: PortSchema.default(port),
});

const ListenerSchema = (port: number, host: string) => z.object(listenerFields(port, host)).strict();

/**
 * A TLS listener's policy (`https.tls`, `admin.tls`). Strict by default; it can be narrowed or
 * reordered, never widened: anything below TLS 1.2, any TLS 1.2 suite but ECDHE + AEAD, and weak
 * curves are refused here, at start (see listeners/tls-policy.ts).
 */
const TlsPolicySchema = z
  .object({
    minVersion: z
      .enum(TLS_MIN_VERSIONS, { error: 'must be TLSv1.2 or TLSv1.3 (TLS 1.0 and 1.1 are never enabled)' })
      .default('TLSv1.2')
      .describe('Lowest TLS version accepted (the highest is TLS 1.3)'),
    ciphers: z.string().optional().describe('Cipher suites in order of preference, colon-separated (ECDHE + AEAD only)'),
    curves: z.string().optional().describe('Key exchange groups in order of preference, colon-separated'),
  })
  .strict()
  .superRefine((policy, ctx) => {
    for (const p of checkTlsPolicy(policy)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  });
const defaultTlsPolicy = () => ({ minVersion: 'TLSv1.2' as const });

/** HSTS on every response of the TLS listeners (data plane and admin): one policy, as HSTS is per host. */
const HstsSchema = z
  .object({
    enabled: z.boolean().default(DEFAULT_HSTS.enabled),
    maxAge: z.number().int().min(0).max(2 ** 31 - 1).default(DEFAULT_HSTS.maxAge).describe('Seconds'),
    includeSubDomains: z.boolean().default(DEFAULT_HSTS.includeSubDomains),
    preload: z.boolean().default(DEFAULT_HSTS.preload),
  })
  .strict()
  .superRefine((hsts, ctx) => {
    for (const p of checkHsts(hsts)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  });

/**
 * Client certificates for connections that match no tenant domain (no SNI, or an unknown name):
 * the listener's default policy. Tenant domains carry their own.
 */
const ListenerClientAuthSchema = z
  .object({
    mode: z.enum(['off', 'optional', 'required']).default('off'),
    caFile: z.string().optional().describe('PEM bundle of trusted client CAs (required unless mode is off)'),
    depth: z.number().int().min(1).max(10).default(3),
  })
  .strict()
  .refine((v) => v.mode === 'off' || v.caFile !== undefined, { path: ['caFile'], message: 'is required when mode is not off' });

/** Alert thresholds, in days before expiry, of certificate expiry monitoring (`pki.expiry.thresholds`). */
export const DEFAULT_EXPIRY_THRESHOLDS: readonly number[] = [30, 14, 7, 1];

/**
 * Certificate expiry monitoring (`pki.expiry`): which thresholds alert, how often certificates are
 * checked, and the webhook alerts are POSTed to (signed with `secret`, required with a `url`).
 */
const ExpirySchema = z
  .object({
    thresholds: z
      .array(z.number().int().min(1).max(3650))
      .max(20)
      .default(() => [...DEFAULT_EXPIRY_THRESHOLDS])
      .describe('Days before expiry at which a certificate alerts, once per threshold (default 30, 14, 7, 1); [] turns threshold alerts off')
      .transform((days) => [...new Set(days)].sort((a, b) => b - a)),
    checkInterval: DurationSchema.default(3_600_000).describe('How often certificates are checked (default 1h; also once at start)'),
    webhook: z
      .object({
        url: z.url({ protocol: /^https?$/ }).describe('Where alerts are POSTed as JSON'),
        secret: z.string().min(16, 'must be at least 16 characters').max(1024).describe('HMAC-SHA-256 key of the x-portcullis-signature header'),
      })
      .strict()
      .optional()
      .describe('Alerts as signed JSON POSTs, besides the log'),
  })
  .strict()
  .refine((e) => e.checkInterval >= 1000, { path: ['checkInterval'], message: 'must be at least 1s' });
const defaultExpiry = () => ({ thresholds: [...DEFAULT_EXPIRY_THRESHOLDS], checkInterval: 3_600_000 });

const CidrSchema = z
  .string()
  .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or CIDR such as 10.0.0.0/8');

export const SettingsSchema = z
  .object({
    dataDir: z.string().min(1).default('.portcullis').describe('Data directory (SQLite database, keys, development CA)'),
    databaseUrl: z.string().optional().describe('postgres://… for PostgreSQL; default is SQLite in the data directory'),
    https: z
      .object({
        ...listenerFields(8443, '0.0.0.0'),
        tls: TlsPolicySchema.default(defaultTlsPolicy),
        hsts: HstsSchema.default(() => ({ ...DEFAULT_HSTS })),
        clientAuth: ListenerClientAuthSchema.default(() => ({ mode: 'off' as const, depth: 3 })).describe('Client certificates for names that match no domain'),
        unknownSni: z.enum(['default', 'refuse']).default('default').describe('A server name that matches no domain (or none): serve the default certificate, or refuse the handshake'),
      })
      .strict()
      .default(() => ({ enabled: true, host: '0.0.0.0', port: 8443, tls: defaultTlsPolicy(), hsts: { ...DEFAULT_HSTS }, clientAuth: { mode: 'off' as const, depth: 3 }, unknownSni: 'default' as const }))
      .describe('HTTPS data plane'),
    http: ListenerSchema(8080, '0.0.0.0')
      .default({ enabled: true, host: '0.0.0.0', port: 8080 })
      .describe('Plain HTTP listener; answers every request with a 308 redirect to HTTPS'),
    admin: z
      .object({ ...listenerFields(9443, '127.0.0.1'), tls: TlsPolicySchema.default(defaultTlsPolicy) })
      .strict()
      .default(() => ({ enabled: true, host: '127.0.0.1', port: 9443, tls: defaultTlsPolicy() }))
      .describe('Admin API (HTTPS; HSTS as https.hsts)'),
    tls: z
      .object({
        certFile: z.string().optional().describe('PEM certificate chain for the listeners; default: a development certificate'),
        keyFile: z.string().optional(),
        hosts: z.array(z.string()).default([]).describe('Extra names for the development server certificate'),
        allowInsecureKeyFile: z.boolean().default(false).describe('Accept a keyFile readable by group or others (refused by default)'),
      })
      .strict()
      .default({ hosts: [], allowInsecureKeyFile: false }),
    limits: z
      .object({
        maxHeaderSize: ByteSizeSchema.default(16 * 1024).describe('Largest request head; larger gets 431'),
        maxBodySize: ByteSizeSchema.default(10 * 1024 * 1024).describe('Largest request body; larger gets 413'),
        headersTimeout: DurationSchema.default(30_000).describe('Time a client has to send the request head'),
        requestTimeout: DurationSchema.default(300_000).describe('Time a client has to send the whole request'),
        keepAliveTimeout: DurationSchema.default(65_000).describe('Idle keep-alive time of client connections'),
      })
      .strict()
      .default({ maxHeaderSize: 16 * 1024, maxBodySize: 10 * 1024 * 1024, headersTimeout: 30_000, requestTimeout: 300_000, keepAliveTimeout: 65_000 }),
    trustedProxies: z.array(CidrSchema).default([]).describe('Peers whose X-Forwarded-* headers are kept; others are overwritten'),
    accessLog: z
      .object({
        enabled: z.boolean().default(true),
        path: z.string().default('stdout').describe('"stdout" or a file path'),
      })
      .strict()
      .default({ enabled: true, path: 'stdout' }),
    auth: z
      .object({
        failures: z
          .object({
            perSource: z.number().int().min(1).default(20).describe('Failed authentications from one client address per window before it gets 429'),
            perTenant: z.number().int().min(1).default(1000).describe("Failed authentications against one tenant's services per window before failures answer 429"),
            window: DurationSchema.default(60_000),
          })
          .strict()
          .default({ perSource: 20, perTenant: 1000, window: 60_000 }),
        tokenTtl: DurationSchema.default(900_000).describe('Lifetime of access tokens issued by the OAuth2 token endpoint (default 15m, at most 24h)'),
        lastUsedFlushInterval: DurationSchema.default(10_000).describe('How often credential last-used times are written'),
      })
      .strict()
      .refine((a) => a.tokenTtl >= 60_000 && a.tokenTtl <= 86_400_000, { message: 'tokenTtl must be between 1m and 24h', path: ['tokenTtl'] })
      .default({ failures: { perSource: 20, perTenant: 1000, window: 60_000 }, tokenTtl: 900_000, lastUsedFlushInterval: 10_000 }),
    pki: z
      .object({
        baseUrl: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe('Base URL written into issued certificates for CRLs and OCSP, e.g. http://pki.example.com (default: http://localhost:<http port>)'),
        expiry: ExpirySchema.default(defaultExpiry).describe('Certificate expiry monitoring: alert thresholds, check interval, webhook'),
        acme: z
          .object({
            checkInterval: DurationSchema.default(60_000).describe('How often ACME certificates are checked for renewal (default 1m)'),
            retryBase: DurationSchema.default(300_000).describe('First retry after a failed ACME order (default 5m); doubles per failure, with jitter'),
            retryMax: DurationSchema.default(21_600_000).describe('Longest retry delay (default 6h)'),
          })
          .strict()
          .refine((a) => a.checkInterval >= 100, { path: ['checkInterval'], message: 'must be at least 100ms' })
          .default({ checkInterval: 60_000, retryBase: 300_000, retryMax: 21_600_000 })
          .describe('Automatic certificates (domains with an `acme` block)'),
      })
      .strict()
      .default(() => ({ expiry: defaultExpiry(), acme: { checkInterval: 60_000, retryBase: 300_000, retryMax: 21_600_000 } })),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    shutdownTimeout: DurationSchema.default(30_000).describe('How long in-flight requests may drain on SIGTERM'),
    configPollInterval: DurationSchema.default(1000).describe('How often to look for config changes made by other nodes'),
  })
  .strict();

export type Settings = z.output<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;

/** Flag/env overrides, already split into a partial settings object. */
export interface SettingsOverrides {
  configFile?: string | undefined;
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  httpsPort?: number | undefined;
  httpPort?: number | undefined;
  adminPort?: number | undefined;
  host?: string | undefined;
  adminHost?: string | undefined;
  logLevel?: string | undefined;
}

function envPort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw gatewayError('CONFIG_INVALID', `${name} must be a port number (0-65535)`);
  return n;
}

/** Reads overrides from the environment (PORTCULLIS_*). */
export function envOverrides(env: NodeJS.ProcessEnv): SettingsOverrides {
  return {
    configFile: env.PORTCULLIS_CONFIG || undefined,
    dataDir: env.PORTCULLIS_DATA_DIR || undefined,
    databaseUrl: env.PORTCULLIS_DATABASE_URL || undefined,
    httpsPort: envPort(env, 'PORTCULLIS_HTTPS_PORT'),
    httpPort: envPort(env, 'PORTCULLIS_HTTP_PORT'),
    adminPort: envPort(env, 'PORTCULLIS_ADMIN_PORT'),
    host: env.PORTCULLIS_HOST || undefined,
    adminHost: env.PORTCULLIS_ADMIN_HOST || undefined,
    logLevel: env.PORTCULLIS_LOG_LEVEL || undefined,
  };
}

function apply(base: Record<string, any>, o: SettingsOverrides): void {
  if (o.dataDir !== undefined) base.dataDir = o.dataDir;
  if (o.databaseUrl !== undefined) base.databaseUrl = o.databaseUrl;
  if (o.logLevel !== undefined) base.logLevel = o.logLevel;
  const listener = (key: string, port: number | undefined, host: string | undefined) => {
    if (port === undefined && host === undefined) return;
    base[key] = { ...(base[key] ?? {}) };
    if (port !== undefined) base[key].port = port;
    if (host !== undefined) base[key].host = host;
  };
  listener('https', o.httpsPort, o.host);
  listener('http', o.httpPort, o.host);
  listener('admin', o.adminPort, o.adminHost);
}

/**
 * Resolves settings from file, environment and flags. Throws CONFIG_INVALID with file:line:column for
 * a bad settings file, and with the field path for a bad override. `dataDir` comes back absolute.
 */
export async function loadSettings(opts: { env: NodeJS.ProcessEnv; flags: SettingsOverrides; cwd?: string }): Promise<Settings> {
  const env = envOverrides(opts.env);
  const file = opts.flags.configFile ?? env.configFile;
  let base: Record<string, any> = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw gatewayError('CONFIG_INVALID', `cannot read settings file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const source = parseYamlSource(text, file);
    validateYamlSource(source, SettingsSchema, file); // positions for file errors
    base = (source.value ?? {}) as Record<string, any>;
  }
  apply(base, env);
  apply(base, opts.flags);
  const r = SettingsSchema.safeParse(base);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw gatewayError('CONFIG_INVALID', `invalid settings: ${details[0]!.path}: ${details[0]!.message}`, details);
  }
  return { ...r.data, dataDir: resolve(opts.cwd ?? process.cwd(), r.data.dataDir) };
}
