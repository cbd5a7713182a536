import { z } from 'zod';

/** Object names: lower-case DNS-label-like, unique per tenant and kind. They are the stable key for apply/export. */
export const NameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/, 'must be lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
  .describe('Unique name within the tenant');

export const DEFAULT_TENANT = 'default';

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "5s", "2m", "1h", "90d" or a number of milliseconds. Returns undefined when malformed. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** A duration in config: a number of milliseconds or a string such as "5s"; always stored as milliseconds. */
export const DurationSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be milliseconds or a duration such as "500ms", "5s", "2m", "7d"' });
      return z.NEVER;
    }
    return ms;
  })
  .describe('Milliseconds, or a duration string such as "500ms", "5s", "2m", "1h", "90d"');

/** A byte size: a number of bytes or "512kb", "10mb", "1gb". */
export const ByteSizeSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)(b|kb|mb|gb)$/i.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'must be bytes or a size such as "64kb", "10mb"' });
      return z.NEVER;
    }
    const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[m[2]!.toLowerCase() as 'b'];
    return Number(m[1]) * mult;
  })
  .describe('Bytes, or a size such as "64kb", "10mb"');

/** Per-object plugin configuration: plugin name → that plugin's config, validated by the plugin's schema at apply time. */
export const PluginConfigMapSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.unknown())
  .describe('Plugin name → per-object plugin configuration');
