/**
 * CLI commands for applications, credentials, subscriptions, admin tokens and the audit trail. Each
 * is a thin layer over one admin API endpoint; `--json` prints the API's answer as is.
 */

import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { AdminClient } from '../admin-client.js';

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface AccessCommandContext {
  readonly client: Pick<AdminClient, 'request' | 'requestText'>;
  readonly tenant: string;
  readonly out: (line: string) => void;
}

export class CliUsageError extends Error {}

const enc = encodeURIComponent;

function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

function need(v: Values, name: string, what: string): string {
  const x = str(v, name);
  if (x === undefined) throw new CliUsageError(`${what} needs --${name}`);
  return x;
}

function arg(positionals: readonly string[], i: number, what: string): string {
  const x = positionals[i];
  if (x === undefined) throw new CliUsageError(`missing ${what}`);
  return x;
}

export function printTable(out: (line: string) => void, rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void {
  if (rows.length === 0) {
    out('(none)');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  out(columns.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join('  ').trimEnd());
  for (const row of cells) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function print(ctx: AccessCommandContext, v: Values, body: unknown, human: () => void): number {
  if (v.json === true) ctx.out(JSON.stringify(body, null, 2));
  else human();
  return 0;
}

/** SHA-256 fingerprint of a PEM certificate file, for `--bind-cert-file`. */
async function fingerprintOf(file: string): Promise<string> {
  return new X509Certificate(await readFile(file)).fingerprint256.replace(/:/g, '').toLowerCase();
}

export async function runApp(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const base = `/admin/v1/tenants/${enc(ctx.tenant)}/applications`;
  switch (p[0]) {
    case 'create': {
      const name = arg(p, 1, 'application name');
      const body: Record<string, unknown> = { name };
      if (str(v, 'description')) body.description = str(v, 'description');
      const r = await ctx.client.request<{ name: string }>('POST', base, { body });
      return print(ctx, v, r, () => ctx.out(`created application ${r.name} in tenant ${ctx.tenant}`));
    }
    case 'list': {
      const r = await ctx.client.request<{ items: Array<{ name: string; spec: { description?: string } }> }>('GET', base, { query: { limit: '1000' } });
      return print(ctx, v, r, () => printTable(ctx.out, r.items.map((a) => ({ name: a.name, description: a.spec.description })), ['name', 'description']));
    }
    case 'delete': {
      const name = arg(p, 1, 'application name');
      await ctx.client.request('DELETE', `${base}/${enc(name)}`);
      ctx.out(`deleted application ${name} (and its credentials and subscriptions)`);
      return 0;
    }
    default:
      throw new CliUsageError('app needs a subcommand: create | list | delete');
  }
}

interface Issued {
  credential: { id: string; prefix: string; type: string; application: string; expiresAt: string | null };
  secret: string;
  clientId?: string;
  previous?: { id: string; expiresAt: string | null };
}

function printIssued(ctx: AccessCommandContext, r: Issued): void {
  const c = r.credential;
  ctx.out(`credential ${c.id} (${c.type}) for application ${c.application}, expires ${c.expiresAt ?? 'never'}`);
  if (r.previous) ctx.out(`previous credential ${r.previous.id} now expires ${r.previous.expiresAt ?? 'never'}`);
  if (r.clientId) ctx.out(`client_id:     ${r.clientId}\nclient_secret: ${r.secret}`);
  else ctx.out(`api key: ${r.secret}`);
  ctx.out('This secret is shown once and cannot be retrieved later.');
}

export async function runKey(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const t = `/admin/v1/tenants/${enc(ctx.tenant)}`;
  switch (p[0]) {
    case 'create': {
      const app = need(v, 'app', 'key create');
      const body: Record<string, unknown> = { type: str(v, 'type') ?? 'api-key' };
      if (str(v, 'description')) body.description = str(v, 'description');
      if (str(v, 'expires-in')) body.expiresIn = str(v, 'expires-in');
      const services = v.service;
      if (Array.isArray(services) && services.length > 0) body.scopes = { services };
      if (str(v, 'bind-cert')) body.boundCertificate = str(v, 'bind-cert');
      if (str(v, 'bind-cert-file')) body.boundCertificate = await fingerprintOf(str(v, 'bind-cert-file')!);
      const r = await ctx.client.request<Issued>('POST', `${t}/applications/${enc(app)}/credentials`, { body });
      return print(ctx, v, r, () => printIssued(ctx, r));
    }
    case 'list': {
      const app = str(v, 'app');
      const r = await ctx.client.request<{ items: Array<Record<string, unknown>> }>('GET', `${t}/credentials`, { query: app ? { application: app } : {} });
      return print(ctx, v, r, () => printTable(ctx.out, r.items, ['id', 'application', 'type', 'prefix', 'expiresAt', 'revokedAt', 'lastUsedAt']));
    }
    case 'rotate': {
      const id = arg(p, 1, 'credential id');
      const r = await ctx.client.request<Issued>('POST', `${t}/credentials/${enc(id)}/rotate`, { body: str(v, 'overlap') ? { overlap: str(v, 'overlap') } : {} });
      return print(ctx, v, r, () => printIssued(ctx, r));
    }
    case 'revoke': {
      const id = arg(p, 1, 'credential id');
      const r = await ctx.client.request('POST', `${t}/credentials/${enc(id)}/revoke`, { body: str(v, 'reason') ? { reason: str(v, 'reason') } : {} });
      return print(ctx, v, r, () => ctx.out(`revoked credential ${id}`));
    }
    default:
      throw new CliUsageError('key needs a subcommand: create | list | rotate | revoke');
  }
}

export async function runSubscription(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const t = `/admin/v1/tenants/${enc(ctx.tenant)}`;
  const columns = ['id', 'tenant', 'application', 'serviceTenant', 'service', 'status', 'comment'];
  switch (p[0]) {
    case 'request': {
      const body: Record<string, unknown> = { application: need(v, 'app', 'subscription request'), service: need(v, 'service', 'subscription request') };
      if (str(v, 'comment')) body.comment = str(v, 'comment');
      const r = await ctx.client.request<{ id: string; status: string }>('POST', `${t}/subscriptions`, { body });
      return print(ctx, v, r, () => ctx.out(`subscription ${r.id}: ${r.status}`));
    }
    case 'list': {
      const incoming = v.incoming === true;
      const query: Record<string, string> = {};
      if (incoming && str(v, 'status')) query.status = str(v, 'status')!;
      if (!incoming && str(v, 'app')) query.application = str(v, 'app')!;
      const r = await ctx.client.request<{ items: Array<Record<string, unknown>> }>('GET', `${t}/${incoming ? 'subscription-requests' : 'subscriptions'}`, { query });
      return print(ctx, v, r, () => printTable(ctx.out, r.items, columns));
    }
    case 'approve':
    case 'reject':
    case 'revoke': {
      const id = arg(p, 1, 'subscription id');
      const r = await ctx.client.request<{ status: string }>('POST', `${t}/subscriptions/${enc(id)}/${p[0]}`, { body: str(v, 'comment') ? { comment: str(v, 'comment') } : {} });
      return print(ctx, v, r, () => ctx.out(`subscription ${id}: ${r.status}`));
    }
    default:
      throw new CliUsageError('subscription needs a subcommand: request | list | approve | reject | revoke');
  }
}

export async function runToken(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  switch (p[0]) {
    case 'create': {
      const body: Record<string, unknown> = { name: need(v, 'name', 'token create'), role: need(v, 'role', 'token create') };
      if (str(v, 'tenant')) body.tenant = str(v, 'tenant');
      if (str(v, 'expires-in')) body.expiresIn = str(v, 'expires-in');
      const r = await ctx.client.request<{ token: string; record: { id: string; role: string; tenant: string | null; expiresAt: string } }>('POST', '/admin/v1/admin-tokens', { body });
      return print(ctx, v, r, () => {
        ctx.out(`admin token ${r.record.id}: ${r.record.role}${r.record.tenant ? ` of tenant ${r.record.tenant}` : ''}, expires ${r.record.expiresAt}`);
        ctx.out(`token: ${r.token}`);
        ctx.out('This token is shown once and cannot be retrieved later.');
      });
    }
    case 'list': {
      const r = await ctx.client.request<{ items: Array<Record<string, unknown>> }>('GET', '/admin/v1/admin-tokens');
      return print(ctx, v, r, () => printTable(ctx.out, r.items, ['id', 'name', 'role', 'tenant', 'expiresAt', 'revokedAt']));
    }
    case 'revoke': {
      const id = arg(p, 1, 'token id');
      await ctx.client.request('DELETE', `/admin/v1/admin-tokens/${enc(id)}`);
      ctx.out(`revoked admin token ${id}`);
      return 0;
    }
    default:
      throw new CliUsageError('token needs a subcommand: create | list | revoke');
  }
}

interface AuditPage {
  items: Array<{ seq: number; at: string; tenant: string | null; actor: { name: string }; action: string; object: { kind: string; name: string } | null; sourceIp: string | null }>;
  next?: string;
}

export async function runAudit(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const tenantFilter = str(v, 'tenant');
  switch (p[0]) {
    case 'list': {
      const query: Record<string, string> = { limit: str(v, 'limit') ?? '100' };
      if (str(v, 'after')) query.after = str(v, 'after')!;
      if (tenantFilter) query.tenant = tenantFilter;
      const r = await ctx.client.request<AuditPage>('GET', '/admin/v1/audit', { query });
      return print(ctx, v, r, () =>
        printTable(
          ctx.out,
          r.items.map((e) => ({ seq: e.seq, at: e.at, tenant: e.tenant, actor: e.actor.name, action: e.action, object: e.object ? `${e.object.kind}/${e.object.name}` : null, source: e.sourceIp })),
          ['seq', 'at', 'tenant', 'actor', 'action', 'object', 'source'],
        ),
      );
    }
    case 'export': {
      const lines: string[] = [];
      let after = 0;
      for (;;) {
        const query: Record<string, string> = { limit: '1000', after: String(after) };
        if (tenantFilter) query.tenant = tenantFilter;
        const page = await ctx.client.request<AuditPage>('GET', '/admin/v1/audit', { query });
        for (const e of page.items) lines.push(JSON.stringify(e));
        if (!page.next || page.items.length === 0) break;
        after = page.items.at(-1)!.seq;
      }
      const file = str(v, 'out');
      if (file) {
        await writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
        ctx.out(`wrote ${lines.length} entries to ${file}`);
      } else {
        for (const l of lines) ctx.out(l);
      }
      return 0;
    }
    case 'verify': {
      const r = await ctx.client.request<{ ok: boolean; entries: number; head: { seq: number; hash: string } | null; problem: { seq: number; kind: string; message: string } | null }>('GET', '/admin/v1/audit/verify');
      const expect = str(v, 'expect-head');
      let ok = r.ok;
      if (v.json === true) ctx.out(JSON.stringify(r, null, 2));
      else if (r.ok) ctx.out(`audit chain intact: ${r.entries} entries${r.head ? `, head ${r.head.seq}:${r.head.hash}` : ''}`);
      else ctx.out(`audit chain BROKEN at entry ${r.problem!.seq} (${r.problem!.kind}): ${r.problem!.message}`);
      if (ok && expect) {
        const [seq, hash] = expect.split(':');
        const head = r.head;
        if (!head || head.seq < Number(seq)) {
          ok = false;
          ctx.out(`audit chain is SHORTER than the expected head ${expect}: entries were removed from the end`);
        } else {
          const at = await ctx.client.request<AuditPage & { items: Array<{ hash: string }> }>('GET', '/admin/v1/audit', { query: { after: String(Number(seq) - 1), limit: '1' } });
          if (at.items[0]?.hash !== hash) {
            ok = false;
            ctx.out(`audit entry ${seq} does not have the expected hash: the chain was rewritten`);
          }
        }
      }
      return ok ? 0 : 1;
    }
    default:
      throw new CliUsageError('audit needs a subcommand: list | export | verify');
  }
}
