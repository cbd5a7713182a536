import type { z } from 'zod';
import type { ErrorDetail } from '../core/errors.js';
import type { ConfigRecord } from '../storage/store.js';

/** Validates a stored object's spec; problems go to `details` with paths `kinds.tenant/name.field`. */
export function parseSpec<S extends z.ZodType>(schema: S, rec: ConfigRecord, details: ErrorDetail[]): z.output<S> | undefined {
  const r = schema.safeParse(rec.spec);
  if (r.success) return r.data;
  for (const i of r.error.issues) details.push({ path: [`${rec.kind}s.${rec.tenant}/${rec.name}`, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message });
  return undefined;
}
