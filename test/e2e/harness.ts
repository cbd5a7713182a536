/**
 * End-to-end harness: starts a whole gateway in-process on loopback with a fresh data directory, its
 * own development CA and ephemeral ports, plus real upstream servers. Nothing is mocked.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Agent, request } from 'undici';
import { loadSettings, type SettingsInput } from '../../src/config/settings.js';
import { Gateway, type StartedGateway } from '../../src/gateway.js';

export interface TestGateway {
  gateway: Gateway;
  started: StartedGateway;
  dataDir: string;
  token: string;
  caPem: string;
  /** An undici agent trusting the gateway's CA. */
  agent: Agent;
  httpsUrl: string;
  adminUrl: string;
  /** Access-log lines written so far, parsed. */
  accessLog: Array<Record<string, any>>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Applies a declarative document to a tenant and waits for the data plane to serve it. */
  apply(doc: unknown, tenant?: string): Promise<void>;
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = 'pca_test-token-for-e2e-tests-only-0123456789abcdef';

export async function startGateway(opts: { settings?: Record<string, unknown>; env?: NodeJS.ProcessEnv; dataDir?: string } = {}): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'portcullis-e2e-')));
  const env: NodeJS.ProcessEnv = { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, ...opts.env };
  const file = join(dataDir, 'settings.json');
  const base: SettingsInput = {
    dataDir,
    https: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    shutdownTimeout: 5000,
    configPollInterval: 200,
  };
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, JSON.stringify({ ...base, ...opts.settings }));
  const settings = await loadSettings({ env: {}, flags: { configFile: file } });
  const accessLog: Array<Record<string, any>> = [];
  let partial = '';
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line) accessLog.push(JSON.parse(line));
      cb();
    },
  });
  const gateway = new Gateway({ settings, env, logger: pino({ level: process.env.PORTCULLIS_TEST_LOG ?? 'silent' }, pino.destination(2)), accessLogDestination: dest, databaseSchema: env.PORTCULLIS_TEST_SCHEMA });
  const started = await gateway.start();
  // No development CA when the settings name their own certificate files.
  const caPem = await readFile(join(dataDir, 'ca.pem'), 'utf8').catch(() => '');
  const agent = new Agent({ connect: { ca: caPem }, keepAliveTimeout: 1000 });
  const adminUrl = started.adminUrl!;
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await request(`${adminUrl}${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, body: text ? JSON.parse(text) : undefined };
  };
  return {
    gateway,
    started,
    dataDir,
    token: ADMIN_TOKEN,
    caPem,
    agent,
    httpsUrl: started.httpsUrl!,
    adminUrl,
    accessLog,
    admin,
    async apply(doc, tenant = 'default') {
      const r = await admin('POST', `/admin/v1/tenants/${tenant}/config`, doc);
      if (r.status !== 200) throw new Error(`apply failed: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async stop() {
      await gateway.stop();
      await agent.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestUpstream {
  url: string;
  server: Server;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A real HTTP upstream on loopback. The default handler echoes method, url and headers as JSON. */
export async function startUpstream(handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestUpstream> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An SSE upstream: five events, 150 ms apart, each `data: {"n":…,"sentAt":<ms>}`, so a client can tell
 * whether events arrive one by one or batched.
 */
export function startSseUpstream(extraHeaders: Record<string, string> = {}): Promise<TestUpstream> {
  return startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...extraHeaders });
    let n = 0;
    const timer = setInterval(() => {
      n++;
      res.write(`data: {"n":${n},"sentAt":${Date.now()}}\n\n`);
      if (n === 5) {
        clearInterval(timer);
        res.end();
      }
    }, 150);
  });
}

/** A document with one service and one prefix route. */
export function simpleDoc(upstreamUrl: string, extra: { service?: Record<string, unknown>; route?: Record<string, unknown> } = {}) {
  return {
    services: [
      {
        name: 'echo',
        upstream: { targets: [{ url: upstreamUrl }], ...((extra.service?.upstream as object) ?? {}) },
        ...Object.fromEntries(Object.entries(extra.service ?? {}).filter(([k]) => k !== 'upstream')),
        routes: [{ name: 'echo', paths: ['/echo'], ...extra.route }],
      },
    ],
  };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs a command from the repository root (stdin: `input`); resolves with its exit code and output (never rejects). */
export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: new URL('../..', import.meta.url).pathname, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input closes the pipe first (EPIPE): not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}
