/**
 * `portcullis export [--format yaml|json] [--tenant NAME]`: prints the tenant's services and routes in
 * the format `apply` reads (secrets redacted), so export → apply changes nothing.
 */

import { stringify } from 'yaml';
import type { AdminClient } from '../admin-client.js';
import { AdminApiError } from '../admin-client.js';

export interface ExportCommandOptions {
  tenant: string;
  format: 'yaml' | 'json';
  client: Pick<AdminClient, 'getConfig'>;
  out: (line: string) => void;
}

const YAML_HEADER = [
  '# Portcullis configuration, exported. Apply with: portcullis apply -f <file>',
  '# Secret values show as "<redacted>"; applying "<redacted>" keeps the stored value.',
];

/** Returns the exit code: 0 printed, 1 on any error. */
export async function runExport(opts: ExportCommandOptions): Promise<number> {
  let doc: unknown;
  try {
    doc = await opts.client.getConfig(opts.tenant);
  } catch (err) {
    opts.out(`error: ${(err as Error).message}`);
    if (err instanceof AdminApiError) for (const d of err.details) opts.out(`  ${d.path}: ${d.message}`);
    return 1;
  }
  const text = opts.format === 'json' ? JSON.stringify(doc, null, 2) : [...YAML_HEADER, stringify(doc, { lineWidth: 0 })].join('\n');
  for (const line of text.replace(/\n+$/, '').split('\n')) opts.out(line);
  return 0;
}
