import { loadSettings } from '../../config/settings.js';
import { Gateway, type StartedGateway } from '../../gateway.js';
import { VERSION } from '../../version.js';

function port(values: Record<string, string | boolean | undefined>, name: string): number | undefined {
  const v = values[name];
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number (0-65535)`);
  return n;
}

/** The human-readable start-up banner (stderr; stdout carries JSON logs). */
export function banner(s: StartedGateway): string {
  const lines = [`Portcullis ${VERSION} is running (storage: ${s.storage})`, ''];
  if (s.httpsUrl) lines.push(`  HTTPS data plane   ${s.httpsUrl}`);
  if (s.httpUrl) lines.push(`  HTTP (redirects)   ${s.httpUrl}`);
  if (s.adminUrl) lines.push(`  Admin API          ${s.adminUrl}/admin/v1   (OpenAPI: ${s.adminUrl}/admin/v1/openapi.json)`);
  if (s.caPath) lines.push(`  CA certificate     ${s.caPath}`);
  lines.push('');
  if (s.generatedAdminToken) {
    lines.push('  Admin token (shown only this once; it is stored as a hash):', `    ${s.generatedAdminToken}`, '');
  }
  const token = s.generatedAdminToken ? s.generatedAdminToken : '$PORTCULLIS_ADMIN_TOKEN';
  const ca = s.caPath ? `--cacert ${s.caPath} ` : '';
  if (s.adminUrl) {
    lines.push('  Try it:');
    lines.push(`    curl ${ca}${s.adminUrl}/readyz`);
    lines.push(`    curl ${ca}-H "Authorization: Bearer ${token}" ${s.adminUrl}/admin/v1/tenants/default/services`);
  }
  if (s.httpsUrl) lines.push(`    curl ${ca}${s.httpsUrl}/   # 404 route_not_found until you add a route`);
  return `${lines.join('\n')}\n`;
}

/** `portcullis start`: runs until SIGTERM/SIGINT, then drains and exits 0. A second signal exits at once. */
export async function runStart(values: Record<string, string | boolean | undefined>): Promise<number> {
  const settings = await loadSettings({
    env: process.env,
    flags: {
      configFile: values.config as string | undefined,
      dataDir: values['data-dir'] as string | undefined,
      databaseUrl: values['database-url'] as string | undefined,
      httpsPort: port(values, 'https-port'),
      httpPort: port(values, 'http-port'),
      adminPort: port(values, 'admin-port'),
      host: values.host as string | undefined,
      adminHost: values['admin-host'] as string | undefined,
      logLevel: values['log-level'] as string | undefined,
    },
  });
  const gateway = new Gateway({ settings, env: process.env });
  const started = await gateway.start();
  process.stderr.write(banner(started));
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        gateway.logger.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      signalled = true;
      gateway.logger.info({ signal, graceMs: settings.shutdownTimeout }, 'shutting down: draining in-flight requests');
      gateway.stop().then(
        () => {
          gateway.logger.info('stopped');
          resolve(0);
        },
        () => resolve(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
