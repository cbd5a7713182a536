/**
 * The `portcullis` command. Exit codes: 0 success, 1 failure (bad config, unreachable admin API…),
 * 2 usage error.
 */

import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GatewayError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { AdminClient } from './admin-client.js';
import { runApply } from './commands/apply.js';
import { runExport } from './commands/export.js';
import { runStart } from './commands/start.js';
import { CliUsageError, runApp, runAudit, runKey, runSubscription, runToken, type Values } from './commands/access.js';
import { runCa, runCert } from './commands/pki.js';
import { runUsage } from './commands/llm-usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const ADMIN_OPTIONS: Options = {
  'admin-url': { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
  'data-dir': { type: 'string' },
  tenant: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const ADMIN_HELP = `Connection options:
  --admin-url URL   Admin API base URL (env PORTCULLIS_ADMIN_URL; default https://127.0.0.1:9443)
  --token TOKEN     Admin token (env PORTCULLIS_ADMIN_TOKEN; prefer the env var: flags show in ps)
  --cacert FILE     CA certificate to trust (env PORTCULLIS_CA_FILE; default <data-dir>/ca.pem)
  --data-dir DIR    Data directory (env PORTCULLIS_DATA_DIR; default ./.portcullis)
  --tenant NAME     Tenant (default: the file's "tenant", else "default")`;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  /** Takes a subcommand and arguments after the command name. */
  positionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

function adminClient(values: Record<string, string | boolean | undefined>): AdminClient {
  const env = process.env;
  const dataDir = resolve((values['data-dir'] as string | undefined) ?? env.PORTCULLIS_DATA_DIR ?? '.portcullis');
  const token = (values.token as string | undefined) ?? env.PORTCULLIS_ADMIN_TOKEN;
  if (!token) throw new UsageError('an admin token is required: set PORTCULLIS_ADMIN_TOKEN or pass --token');
  return new AdminClient({
    adminUrl: (values['admin-url'] as string | undefined) ?? env.PORTCULLIS_ADMIN_URL ?? 'https://127.0.0.1:9443',
    token,
    caFile: (values.cacert as string | undefined) ?? env.PORTCULLIS_CA_FILE ?? resolve(dataDir, 'ca.pem'),
  });
}

class UsageError extends Error {}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

type AccessRunner = (ctx: { client: AdminClient; tenant: string; out: typeof out }, v: Values, p: readonly string[]) => Promise<number>;

/** A command over the access endpoints: connection options plus its own. */
function accessCommand(summary: string, usage: string, options: Options, runner: AccessRunner): Command {
  return {
    summary,
    usage: `${usage}\n\n  --json            Print the API's JSON answer\n\n${ADMIN_HELP}`,
    options: { ...ADMIN_OPTIONS, json: { type: 'boolean' }, ...options },
    positionals: true,
    run: async (values, positionals) => {
      const client = adminClient(values);
      try {
        return await runner({ client, tenant: (values.tenant as string | undefined) ?? 'default', out }, values as Values, positionals);
      } finally {
        await client.close();
      }
    },
  };
}

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'Run the gateway',
    usage: `Usage: portcullis start [options]

Runs the gateway in the foreground. With no options it needs no config file: it creates ./.portcullis
with a SQLite database, a development CA and a server certificate, and listens on
HTTPS :8443 (data plane), HTTP :8080 (redirects to HTTPS) and HTTPS 127.0.0.1:9443 (admin API).

Options (each also settable by env or in the settings file):
  --config FILE          Settings file, YAML (env PORTCULLIS_CONFIG)
  --data-dir DIR         Data directory (env PORTCULLIS_DATA_DIR; default ./.portcullis)
  --database-url URL     postgres://… for PostgreSQL (env PORTCULLIS_DATABASE_URL; default SQLite)
  --https-port N         Data-plane HTTPS port (env PORTCULLIS_HTTPS_PORT; default 8443)
  --http-port N          Plain HTTP redirect port (env PORTCULLIS_HTTP_PORT; default 8080)
  --admin-port N         Admin API port (env PORTCULLIS_ADMIN_PORT; default 9443)
  --host ADDR            Data-plane bind address (env PORTCULLIS_HOST; default 0.0.0.0)
  --admin-host ADDR      Admin bind address (env PORTCULLIS_ADMIN_HOST; default 127.0.0.1)
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent (env PORTCULLIS_LOG_LEVEL)

Environment only:
  PORTCULLIS_ADMIN_TOKEN   Admin token to accept (otherwise one is generated and printed once)
  PORTCULLIS_MASTER_KEY    32-byte key (base64 or hex) encrypting secrets at rest
                           (otherwise generated into <data-dir>/master.key, mode 0600)`,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'https-port': { type: 'string' },
      'http-port': { type: 'string' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
      'admin-host': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    run: (values) => runStart(values),
  },
  apply: {
    summary: 'Apply a declarative config file (services and routes) to a running gateway',
    usage: `Usage: portcullis apply -f gateway.yaml [--dry-run] [options]

Makes the tenant's services and routes exactly what the file says: creates, updates and deletes
(objects absent from the file are removed). Prints the diff. Idempotent: applying the same file again
prints "No changes.". The whole file applies in one transaction, or nothing does.

  -f, --file FILE   The YAML (or JSON) file
  --dry-run         Print the diff without applying

${ADMIN_HELP}`,
    options: { ...ADMIN_OPTIONS, file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } },
    run: async (values) => {
      if (typeof values.file !== 'string') throw new UsageError('apply needs -f FILE');
      return runApply({ file: values.file, dryRun: values['dry-run'] === true, tenant: values.tenant as string | undefined, client: adminClient(values), out });
    },
  },
  export: {
    summary: "Print a tenant's services and routes as a declarative file",
    usage: `Usage: portcullis export [--format yaml|json] [options]

Prints the tenant's current services and routes in the format 'apply' reads (secrets redacted), so
that 'portcullis export > gateway.yaml && portcullis apply -f gateway.yaml' changes nothing.

  --format yaml|json   Output format (default yaml)

${ADMIN_HELP}`,
    options: { ...ADMIN_OPTIONS, format: { type: 'string' } },
    run: async (values) => {
      const format = (values.format as string | undefined) ?? 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new UsageError('--format must be yaml or json');
      return runExport({ tenant: (values.tenant as string | undefined) ?? 'default', format, client: adminClient(values), out });
    },
  },
  app: accessCommand(
    'Manage applications (the consumers of services)',
    `Usage: portcullis app create NAME [--description TEXT] | app list | app delete NAME`,
    { description: { type: 'string' } },
    runApp,
  ),
  key: accessCommand(
    "Manage applications' credentials: API keys and OAuth2 clients",
    `Usage: portcullis key create --app NAME [--type api-key|oauth-client] [--expires-in 90d]
                              [--service NAME]... [--bind-cert FINGERPRINT | --bind-cert-file cert.pem]
       portcullis key list [--app NAME]
       portcullis key rotate ID [--overlap 24h]
       portcullis key revoke ID [--reason TEXT]

The secret (API key or client_secret) is printed once by create and rotate.`,
    {
      app: { type: 'string' },
      type: { type: 'string' },
      'expires-in': { type: 'string' },
      service: { type: 'string', multiple: true },
      'bind-cert': { type: 'string' },
      'bind-cert-file': { type: 'string' },
      overlap: { type: 'string' },
      reason: { type: 'string' },
      description: { type: 'string' },
    },
    runKey,
  ),
  subscription: accessCommand(
    'Request, list, approve, reject and revoke subscriptions',
    `Usage: portcullis subscription request --app NAME --service NAME|TENANT/NAME [--comment TEXT]
       portcullis subscription list [--app NAME] | list --incoming [--status pending]
       portcullis subscription approve|reject|revoke ID [--comment TEXT]`,
    { app: { type: 'string' }, service: { type: 'string' }, comment: { type: 'string' }, incoming: { type: 'boolean' }, status: { type: 'string' } },
    runSubscription,
  ),
  token: accessCommand(
    'Manage admin tokens (roles: platform-admin, tenant-admin, developer, viewer)',
    `Usage: portcullis token create --name NAME --role ROLE [--tenant NAME] [--expires-in 90d]
       portcullis token list
       portcullis token revoke ID`,
    { name: { type: 'string' }, role: { type: 'string' }, 'expires-in': { type: 'string' } },
    runToken,
  ),
  audit: accessCommand(
    'Read, export and verify the tamper-evident audit trail',
    `Usage: portcullis audit list [--after SEQ] [--limit N] [--tenant NAME]
       portcullis audit export [--out FILE] [--tenant NAME]     (JSON lines)
       portcullis audit verify [--expect-head SEQ:HASH]

verify exits 1 when an entry was edited, inserted or deleted (and says where), or when the chain
does not reach the head you recorded earlier with --expect-head.`,
    { after: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string' }, 'expect-head': { type: 'string' } },
    runAudit,
  ),
  usage: accessCommand(
    "The tenant's LLM spend and token usage, and its latest LLM calls",
    `Usage: portcullis usage [summary] [--since 30d] [--group-by application,model,...] [--interval hour|day]
                         [--application NAME] [--model MODEL] [--provider NAME] [--deployment P/M]
       portcullis usage calls [--limit 20]

--group-by takes application, credential, model, provider, deployment, service, outcome.
Cost is in US dollars at the catalogue or built-in prices (docs/llm.md).`,
    {
      since: { type: 'string' },
      'group-by': { type: 'string' },
      interval: { type: 'string' },
      application: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      deployment: { type: 'string' },
      limit: { type: 'string' },
    },
    runUsage,
  ),
  ca: accessCommand(
    "Manage the tenant's built-in certificate authorities",
    `Usage: portcullis ca create NAME [--key-type ec-p256|rsa-2048|rsa-3072] [--trust-domain DOMAIN]
                                [--client-days 90] [--server-days 90] [--share-with TENANT...]
                                [--share-server-certificates]
       portcullis ca import NAME --cert FILE --key FILE [--root FILE] [--share-with TENANT...]
       portcullis ca share NAME [--with TENANT...] [--server-certificates]
                                                     (replaces the list; none: shared with nobody)
       portcullis ca revoke NAME SERIAL [--reason keyCompromise|…]
                                                     (any certificate the CA issued, whoever asked)
       portcullis ca list                            (own CAs, then those shared with this tenant)
       portcullis ca export NAME [--out FILE]        (the CA chain, PEM)

A CA another tenant shares is named OWNER/NAME (e.g. cert issue --ca platform/clients): it issues
client certificates for this tenant's own applications (server certificates for its own hosts only
when the owner allows it), and domains may trust it.`,
    {
      'share-with': { type: 'string', multiple: true },
      'share-server-certificates': { type: 'boolean' },
      with: { type: 'string', multiple: true },
      'server-certificates': { type: 'boolean' },
      reason: { type: 'string' },
      'key-type': { type: 'string' },
      'trust-domain': { type: 'string' },
      'client-days': { type: 'string' },
      'server-days': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      root: { type: 'string' },
      out: { type: 'string' },
    },
    runCa,
  ),
  cert: accessCommand(
    'Issue, list and revoke certificates of the built-in CAs; the certificate inventory',
    `Usage: portcullis cert issue --ca NAME|OWNER/NAME (--client APP | --server HOST...) --out DIR [--csr FILE]
                            [--days N] [--p12-password PASSWORD]
       portcullis cert list [--expiring 30d] [--ca NAME] [--app NAME]
       portcullis cert inventory [--expiring 30d] [--kind served|trusted|issued] [--all]
       portcullis cert revoke SERIAL [--reason keyCompromise|superseded|cessationOfOperation|…]
       portcullis cert request NAME --host HOST... [--key-type ec-p256] [--out FILE]   (key + CSR for a public CA)
       portcullis cert install NAME --chain FILE                                       (the CA's answer)

--out DIR writes cert.pem (leaf and issuing CA), key.pem (0600), ca.pem (the chain to trust) and
bundle.p12 (password printed once): curl --cert DIR/cert.pem --key DIR/key.pem works as is.
--csr FILE keeps the key with you: only cert.pem and ca.pem are written (in the current directory).
inventory lists every certificate the tenant serves, trusts or issued with the days left, soonest
first; --all lists every tenant's and the gateway's own (platform administrators).`,
    {
      ca: { type: 'string' },
      client: { type: 'string' },
      server: { type: 'string', multiple: true },
      csr: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
      'p12-password': { type: 'string' },
      expiring: { type: 'string' },
      app: { type: 'string' },
      reason: { type: 'string' },
      host: { type: 'string', multiple: true },
      'key-type': { type: 'string' },
      chain: { type: 'string' },
      kind: { type: 'string' },
      all: { type: 'boolean' },
    },
    runCert,
  ),
  version: {
    summary: 'Print the version',
    usage: 'Usage: portcullis version',
    options: { help: { type: 'boolean', short: 'h' } },
    run: async () => {
      out(`portcullis ${VERSION} (node ${process.version})`);
      return 0;
    },
  },
};

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(13)}${c.summary}`);
  return `Portcullis ${VERSION}: a zero-trust gateway for REST APIs and LLM providers.

Usage: portcullis <command> [options]

Commands:
${lines.join('\n')}

Run 'portcullis <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') return COMMANDS.version!.run({}, []);
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`portcullis: unknown command "${name}"\n\n${mainHelp()}\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: command.positionals === true, strict: true });
    if (values.help) {
      out(command.usage);
      return 0;
    }
    return await command.run(values as Record<string, string | boolean | undefined>, positionals);
  } catch (err) {
    if (err instanceof UsageError || err instanceof CliUsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`portcullis ${name}: ${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`portcullis ${name}: ${describeError(err)}\n`);
    return 1;
  }
}

/** One readable paragraph for an error, with field details; never a stack for expected errors. */
export function describeError(err: unknown): string {
  if (err instanceof GatewayError) {
    const details = (err.details ?? []).map((d) => `\n  - ${d.path}${d.line ? ` (line ${d.line}, column ${d.column})` : ''}: ${d.message}`);
    return `${err.message}${details.join('')}`;
  }
  return err instanceof Error ? err.message : String(err);
}
