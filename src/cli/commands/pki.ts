/**
 * `portcullis ca …` and `portcullis cert …`: the built-in certificate authorities from the command
 * line. `cert issue --out DIR` writes files curl uses directly:
 *   curl --cert DIR/cert.pem --key DIR/key.pem --cacert <the gateway's CA> https://…
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliUsageError, type AccessCommandContext, type Values } from './access.js';

const enc = encodeURIComponent;

function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

function table(out: (line: string) => void, rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void {
  if (rows.length === 0) return out('(none)');
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  out(columns.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join('  ').trimEnd());
  for (const row of cells) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

const read = (file: string) => readFile(file, 'utf8');

/** Tenant names from repeated and/or comma-separated options ("--with a --with b,c"). */
function tenantList(values: readonly unknown[]): string[] {
  return values.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
}

export async function runCa(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const base = `/admin/v1/tenants/${enc(ctx.tenant)}/cas`;
  const name = p[1];
  switch (p[0]) {
    case 'create': {
      if (!name) throw new CliUsageError('ca create needs a NAME');
      const body: Record<string, unknown> = { name };
      if (str(v, 'key-type')) body.keyType = str(v, 'key-type');
      if (str(v, 'trust-domain')) body.trustDomain = str(v, 'trust-domain');
      if (str(v, 'client-days')) body.clientLifetimeDays = Number(str(v, 'client-days'));
      if (str(v, 'server-days')) body.serverLifetimeDays = Number(str(v, 'server-days'));
      if (Array.isArray(v['share-with'])) body.sharedWith = tenantList(v['share-with']);
      if (v['share-server-certificates'] === true) body.sharedServerCertificates = true;
      const r = await ctx.client.request<{ name: string; subject: string; notAfter: string; fingerprint: string }>('POST', base, { body });
      if (v.json === true) ctx.out(JSON.stringify(r, null, 2));
      else ctx.out(`created CA ${r.name} (${r.subject}), valid until ${r.notAfter}`);
      return 0;
    }
    case 'import': {
      if (!name) throw new CliUsageError('ca import needs a NAME');
      const cert = str(v, 'cert');
      const key = str(v, 'key');
      if (!cert || !key) throw new CliUsageError('ca import needs --cert FILE and --key FILE');
      const body: Record<string, unknown> = { name, certificate: await read(cert), key: await read(key) };
      if (str(v, 'root')) body.root = await read(str(v, 'root')!);
      if (str(v, 'trust-domain')) body.trustDomain = str(v, 'trust-domain');
      if (Array.isArray(v['share-with'])) body.sharedWith = tenantList(v['share-with']);
      if (v['share-server-certificates'] === true) body.sharedServerCertificates = true;
      const r = await ctx.client.request<{ name: string; subject: string }>('POST', `${base}/import`, { body });
      ctx.out(`imported CA ${r.name} (${r.subject})`);
      return 0;
    }
    case 'share': {
      if (!name) throw new CliUsageError('ca share needs a NAME');
      const sharedWith = tenantList(Array.isArray(v.with) ? v.with : []);
      const body = { sharedWith, sharedServerCertificates: v['server-certificates'] === true };
      const r = await ctx.client.request<{ name: string; settings: { sharedWith?: string[]; sharedServerCertificates: boolean } }>('PUT', `${base}/${enc(name)}/sharing`, { body });
      const list = r.settings.sharedWith ?? [];
      const what = r.settings.sharedServerCertificates ? 'client and server certificates' : 'client certificates';
      ctx.out(list.length > 0 ? `CA ${r.name} is shared with ${list.join(', ')} (${what})` : `CA ${r.name} is shared with no other tenant`);
      return 0;
    }
    case 'revoke': {
      const serial = p[2];
      if (!name || !serial) throw new CliUsageError('ca revoke needs a NAME and a SERIAL');
      const body: Record<string, unknown> = { serial };
      if (str(v, 'reason')) body.reason = str(v, 'reason');
      const r = await ctx.client.request<{ serial: string; tenant: string; revokedAt: string; revocationReason: string }>('POST', `${base}/${enc(name)}/revoke`, { body });
      ctx.out(`revoked ${r.serial} (issued to tenant ${r.tenant}) at ${r.revokedAt}: ${r.revocationReason}`);
      return 0;
    }
    case 'list': {
      const r = await ctx.client.request<{ items: Array<Record<string, unknown> & { settings: { source: string; trustDomain: string; sharedWith?: string[] } }> }>('GET', base);
      if (v.json === true) ctx.out(JSON.stringify(r, null, 2));
      else {
        const rows = r.items.map((c) => ({ ...c, owner: c.tenant, source: c.settings.source, trustDomain: c.settings.trustDomain, sharedWith: c.settings.sharedWith?.join(',') || undefined }));
        table(ctx.out, rows, ['name', 'owner', 'source', 'trustDomain', 'sharedWith', 'notAfter', 'subject']);
      }
      return 0;
    }
    case 'export': {
      if (!name) throw new CliUsageError('ca export needs a NAME');
      const pem = await ctx.client.requestText('GET', `${base}/${enc(name)}/chain`);
      const out = str(v, 'out');
      if (out) {
        await writeFile(out, pem);
        ctx.out(`wrote the CA chain of ${name} to ${out}`);
      } else for (const line of pem.trimEnd().split('\n')) ctx.out(line);
      return 0;
    }
    default:
      throw new CliUsageError('ca needs a subcommand: create | import | share | revoke | list | export');
  }
}

interface IssuedResult {
  certificate: { serial: string; notAfter: string; sans: string[]; certPem: string };
  chainPem: string;
  keyPem?: string;
  pkcs12?: string;
  pkcs12Password?: string;
}

export async function runCert(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const t = `/admin/v1/tenants/${enc(ctx.tenant)}`;
  switch (p[0]) {
    case 'issue': {
      const ca = str(v, 'ca');
      if (!ca) throw new CliUsageError('cert issue needs --ca NAME');
      const client = str(v, 'client');
      const servers = Array.isArray(v.server) ? v.server : [];
      if ((client === undefined) === (servers.length === 0)) throw new CliUsageError('cert issue needs --client APP or --server HOST (repeatable), not both');
      const csr = str(v, 'csr');
      const dir = str(v, 'out');
      if (dir === undefined) throw new CliUsageError('cert issue needs --out DIR (where cert.pem and ca.pem go; with no --csr, also the generated key.pem and bundle.p12)');
      const body: Record<string, unknown> = client !== undefined ? { usage: 'client', application: client } : { usage: 'server', hosts: servers };
      if (csr) body.csr = await read(csr);
      if (str(v, 'days')) body.lifetimeDays = Number(str(v, 'days'));
      if (str(v, 'p12-password')) body.pkcs12Password = str(v, 'p12-password');
      const r = await ctx.client.request<IssuedResult>('POST', `${t}/cas/${enc(ca)}/certificates`, { body });
      const chain = r.chainPem.trimEnd().split(/(?<=-----END CERTIFICATE-----)\n/);
      const target = dir;
      await mkdir(target, { recursive: true });
      // cert.pem: the leaf and the issuing CA (what a client sends); ca.pem: issuing CA and root (what peers trust).
      await writeFile(join(target, 'cert.pem'), `${chain.slice(0, 2).join('\n')}\n`);
      await writeFile(join(target, 'ca.pem'), `${chain.slice(1).join('\n')}\n`);
      if (r.keyPem) await writeFile(join(target, 'key.pem'), r.keyPem, { mode: 0o600 });
      if (r.pkcs12) await writeFile(join(target, 'bundle.p12'), Buffer.from(r.pkcs12, 'base64'), { mode: 0o600 });
      if (v.json === true) ctx.out(JSON.stringify({ ...r, keyPem: r.keyPem ? '<written>' : undefined, pkcs12: r.pkcs12 ? '<written>' : undefined }, null, 2));
      else {
        ctx.out(`issued certificate ${r.certificate.serial} for ${r.certificate.sans.join(', ')}, valid until ${r.certificate.notAfter}`);
        ctx.out(`wrote ${join(target, 'cert.pem')} and ${join(target, 'ca.pem')}${r.keyPem ? `, ${join(target, 'key.pem')} (mode 0600) and ${join(target, 'bundle.p12')}` : ''}`);
        if (r.pkcs12Password) ctx.out(`PKCS#12 password: ${r.pkcs12Password}  (shown once)`);
      }
      return 0;
    }
    case 'list': {
      const query: Record<string, string> = {};
      if (str(v, 'expiring')) query.expiring = str(v, 'expiring')!;
      if (str(v, 'ca')) query.ca = str(v, 'ca')!;
      if (str(v, 'app')) query.application = str(v, 'app')!;
      const r = await ctx.client.request<{ items: Array<Record<string, unknown> & { sans: string[] } > }>('GET', `${t}/issued-certificates`, { query });
      if (v.json === true) ctx.out(JSON.stringify(r, null, 2));
      else table(ctx.out, r.items.map((c) => ({ ...c, sans: c.sans.join(','), days: Math.floor((Date.parse(String(c.notAfter)) - Date.now()) / 86_400_000) })), ['serial', 'ca', 'usage', 'sans', 'notAfter', 'days', 'revokedAt']);
      return 0;
    }
    case 'revoke': {
      const serial = p[1];
      if (!serial) throw new CliUsageError('cert revoke needs a SERIAL');
      const body = str(v, 'reason') ? { reason: str(v, 'reason') } : {};
      const r = await ctx.client.request<{ serial: string; revokedAt: string; revocationReason: string }>('POST', `${t}/issued-certificates/${enc(serial)}/revoke`, { body });
      ctx.out(`revoked certificate ${r.serial} at ${r.revokedAt} (${r.revocationReason})`);
      return 0;
    }
    case 'request': {
      const name = p[1];
      const hosts = Array.isArray(v.host) ? v.host : [];
      if (!name || hosts.length === 0) throw new CliUsageError('cert request needs a NAME and --host HOST (repeatable)');
      const body: Record<string, unknown> = { name, hosts };
      if (str(v, 'key-type')) body.keyType = str(v, 'key-type');
      const r = await ctx.client.request<{ csr: string }>('POST', `${t}/certificate-requests`, { body });
      const out = str(v, 'out');
      if (out) {
        await writeFile(out, r.csr);
        ctx.out(`wrote the CSR for ${hosts.join(', ')} to ${out}; the key stays in the gateway. Install the CA's answer with: portcullis cert install ${name} --chain FILE`);
      } else for (const line of r.csr.trimEnd().split('\n')) ctx.out(line);
      return 0;
    }
    case 'install': {
      const name = p[1];
      const chain = str(v, 'chain');
      if (!name || !chain) throw new CliUsageError('cert install needs a NAME and --chain FILE');
      const r = await ctx.client.request<{ name: string; version: number }>('POST', `${t}/certificate-requests/${enc(name)}/install`, { body: { chain: await read(chain) } });
      ctx.out(`installed certificate ${r.name} (version ${r.version})`);
      return 0;
    }
    case 'inventory': {
      const query: Record<string, string> = {};
      if (str(v, 'expiring')) query.expiring = str(v, 'expiring')!;
      if (str(v, 'kind')) query.kind = str(v, 'kind')!;
      const all = v.all === true;
      const r = await ctx.client.request<{ items: Array<Record<string, unknown> & { sans: string[] }> }>('GET', all ? '/admin/v1/certificate-inventory' : `${t}/certificate-inventory`, { query });
      if (v.json === true) ctx.out(JSON.stringify(r, null, 2));
      else table(ctx.out, r.items.map((c) => ({ ...c, tenant: c.tenant ?? '(gateway)', sans: c.sans.join(','), days: c.daysLeft })), [...(all ? ['tenant'] : []), 'kind', 'name', 'source', 'sans', 'notAfter', 'days', 'renewal']);
      return 0;
    }
    default:
      throw new CliUsageError('cert needs a subcommand: issue | list | inventory | revoke | request | install');
  }
}
