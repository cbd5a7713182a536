/**
 * Runtime settings of one gateway process: where it listens, where it keeps data, its limits.
 * Sources, later winning: defaults < settings file (`--config` / PORTCULLIS_CONFIG) < environment < flags.
 * Routes and services are not settings: they live in storage and change at runtime.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { gatewayError } from '../core/errors.js';
import { ByteSizeSchema, DurationSchema } from '../model/common.js';
import { parseYamlSource, validateYamlSource } from './yaml-source.js';

const PortSchema = z.number().int().min(0).max(65535);

const ListenerSchema = (port: number, host: string) =>
  z
    .object({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default(host),
      port: PortSchema.default(port),
    })
    .strict();

const CidrSchema = z
  .string()
  .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or CIDR such as 10.0.0.0/8');

export const SettingsSchema = z
  .object({
    dataDir: z.string().min(1).default('.portcullis').describe('Data directory (SQLite database, keys, development CA)'),
    databaseUrl: z.string().optional().describe('postgres://… for PostgreSQL; default is SQLite in the data directory'),
    https: ListenerSchema(8443, '0.0.0.0').default({ enabled: true, host: '0.0.0.0', port: 8443 }).describe('HTTPS data plane'),
    http: ListenerSchema(8080, '0.0.0.0')
      .default({ enabled: true, host: '0.0.0.0', port: 8080 })
      .describe('Plain HTTP listener; answers every request with a 308 redirect to HTTPS'),
    admin: ListenerSchema(9443, '127.0.0.1').default({ enabled: true, host: '127.0.0.1', port: 9443 }).describe('Admin API (HTTPS)'),
    tls: z
      .object({
        certFile: z.string().optional().describe('PEM certificate chain for the listeners; default: a development certificate'),
        keyFile: z.string().optional(),
        hosts: z.array(z.string()).default([]).describe('Extra names for the development server certificate'),
      })
      .strict()
      .default({ hosts: [] }),
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
