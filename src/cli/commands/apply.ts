/**
 * `portcullis apply -f gateway.yaml [--dry-run] [--tenant NAME]`: validates the file locally (errors
 * point at file:line:column), sends it to the admin API, and prints the diff.
 */

import { readFile } from 'node:fs/promises';
import { formatChanges } from '../../config/config-diff.js';
import { ConfigDocumentSchema } from '../../config/config-document.js';
import { parseYamlSource, validateYamlSource, type YamlSource } from '../../config/yaml-source.js';
import { GatewayError, type ErrorDetail } from '../../core/errors.js';
import { DEFAULT_TENANT } from '../../model/common.js';
import { AdminApiError, type AdminClient } from '../admin-client.js';

export interface ApplyCommandOptions {
  /** YAML or JSON file; "-" reads standard input. */
  file: string;
  dryRun: boolean;
  /** Overrides the file's `tenant` (default: the file's, else "default"). */
  tenant?: string | undefined;
  client: Pick<AdminClient, 'applyConfig'>;
  out: (line: string) => void;
}

async function readSource(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function pathSegments(path: string): (string | number)[] {
  return path === '' ? [] : path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `file:line:column: path: message` when the position is known. */
function describeDetail(file: string, d: ErrorDetail, source?: YamlSource): string {
  const pos = d.line !== undefined ? { line: d.line, column: d.column ?? 1 } : source?.locate(pathSegments(d.path));
  const where = pos ? `${file}:${pos.line}:${pos.column}: ` : '';
  return `${where}${d.path ? `${d.path}: ` : ''}${d.message}`;
}

function printError(out: (line: string) => void, file: string, message: string, details: readonly ErrorDetail[], source?: YamlSource): void {
  out(`error: ${message}`);
  if (details.length > 1 || (details.length === 1 && source)) for (const d of details) out(`  ${describeDetail(file, d, source)}`);
}

/** Returns the exit code: 0 applied (or dry run done), 1 on any error. */
export async function runApply(opts: ApplyCommandOptions): Promise<number> {
  const { file, out } = opts;
  let text: string;
  try {
    text = await readSource(file);
  } catch (err) {
    out(`error: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }

  let source: YamlSource;
  let tenant: string;
  try {
    source = parseYamlSource(text, file);
    const doc = validateYamlSource(source, ConfigDocumentSchema, file);
    tenant = opts.tenant ?? doc.tenant ?? DEFAULT_TENANT;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    // Local errors already carry file:line:column in their message and details.
    out(`error: ${err.message}`);
    const details = err.details ?? [];
    if (details.length > 1) for (const d of details) out(`  ${describeDetail(file, d)}`);
    return 1;
  }

  // The file as written (the server validates it again), for the tenant chosen.
  const document = { ...(source.value as Record<string, unknown> | null | undefined), tenant };
  let result: Awaited<ReturnType<ApplyCommandOptions['client']['applyConfig']>>;
  try {
    result = await opts.client.applyConfig(tenant, document, { dryRun: opts.dryRun });
  } catch (err) {
    if (err instanceof AdminApiError) printError(out, file, err.message, err.details, source);
    else out(`error: ${(err as Error).message}`);
    return 1;
  }
  for (const line of formatChanges(result.changes)) out(line);
  if (opts.dryRun) out('(dry run: nothing applied)');
  return 0;
}
