/**
 * What the PKI end-to-end tests share: a gateway and an upstream, a scratch directory, the CLI's
 * environment, and a server certificate for an mTLS test host from a CA of its own (a public CA, in
 * real life), with `curl` through that host presenting a client certificate from a directory that
 * `cert issue --out DIR` wrote.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueCertificate } from '../../src/pki/issue-certificate.js';
import { runCommand, startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')];
const DAY = 86_400_000;

export interface PkiTestBed {
  readonly gw: TestGateway;
  readonly up: TestUpstream;
  readonly work: string;
  /** The HTTPS port of the data plane. */
  readonly port: number;
  /** The plain-HTTP listener (CRL and OCSP endpoints), on 127.0.0.1. */
  readonly httpBase: string;
  /** The server certificate and key of `host`. */
  readonly server: { certPem: string; keyPem: string };
  /** `portcullis …` against the gateway. */
  cli(...args: string[]): ReturnType<typeof runCommand>;
  /** curl to `https://<host><path>` with `dir`/cert.pem and key.pem: the HTTP status, or 0 when the handshake was refused. */
  curl(dir: string, path: string): Promise<number>;
  close(): Promise<void>;
}

export async function startPkiTestBed(host: string): Promise<PkiTestBed> {
  const work = await mkdtemp(join(tmpdir(), 'portcullis-pki-'));
  const gw = await startGateway();
  const up = await startUpstream();
  const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: gw.token, PORTCULLIS_CA_FILE: join(gw.dataDir, 'ca.pem') };
  const port = Number(new URL(gw.httpsUrl).port);
  const now = Date.now();
  const serverCa = await createRootCa({ commonName: 'server ca', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
  const server = await issueCertificate({ issuer: serverCa, subjectCN: host, sans: [host], usage: 'server', notAfter: new Date(now + 10 * DAY) });
  await writeFile(join(work, 'server-ca.pem'), serverCa.certPem);
  return {
    gw,
    up,
    work,
    port,
    httpBase: gw.started.httpUrl!.replace('localhost', '127.0.0.1'),
    server,
    cli: (...args) => runCommand(process.execPath, [...BIN, ...args], env),
    async curl(dir, path) {
      const r = await runCommand('curl', ['-sS', '--max-time', '10', '--resolve', `${host}:${port}:127.0.0.1`, '--cacert', join(work, 'server-ca.pem'), '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), '-o', '/dev/null', '-w', '%{http_code}', `https://${host}:${port}${path}`]);
      return Number(r.stdout) || 0;
    },
    async close() {
      await gw.stop();
      await up.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
