/**
 * Development PKI: a local root CA plus a server certificate for `localhost`, so Portcullis serves
 * HTTPS out of the box. Trust `<dataDir>/ca.pem` in a client (curl `--cacert`, NODE_EXTRA_CA_CERTS,
 * the OS store) and connections verify without `--insecure`.
 *
 * Files in the data directory (keys PKCS#8 PEM, everything written atomically):
 *  - `ca.pem` (0644)         "Portcullis Development CA", EC P-256, 10 years, pathLen 0.
 *  - `ca-key.pem` (0600)     its private key.
 *  - `server.pem` (0644)     the server leaf only, no chain: the CA is a root that clients must
 *                            trust directly, so sending it would add nothing.
 *  - `server-key.pem` (0600) the leaf's private key.
 *
 * Later runs reuse the files. The CA is never replaced automatically (that would break every
 * client that trusts it); the leaf is re-issued when it is missing, unreadable, not matching its
 * key, not signed by the current CA, not yet valid, expiring within 30 days, or missing a requested
 * host. Concurrent calls (threads or processes sharing the data directory) are serialised by a
 * lock file, `.dev-pki.lock`.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gatewayError } from '../core/errors.js';
import { withLockFile, writeFileAtomic } from '../secrets/atomic-file.js';
import { fileError, hasErrorCode, readPrivateFile } from '../secrets/file-mode.js';
import { CLOCK_SKEW_MS, createRootCa, issueCertificate, type CertificateIssuer } from './issue-certificate.js';
import { keyMatchesCertificate } from './keys.js';
import { missingSubjectAltNames, parseSubjectAltNames, sanKey, type SubjectAltName } from './san.js';
import { x509 } from './x509.js';

export const DEV_CA_COMMON_NAME = 'Portcullis Development CA';
/** Hosts every development server certificate covers; `hosts` options are added to these. */
export const DEFAULT_DEV_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
export const DEV_PKI_FILES = Object.freeze({
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  lock: '.dev-pki.lock',
});
export const CA_VALIDITY_YEARS = 10;
export const SERVER_CERT_VALIDITY_DAYS = 397;
/** A server certificate expiring within this many days is re-issued. */
export const SERVER_CERT_RENEW_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DevPkiLogger {
  info(obj: object, msg: string): void;
}

export interface EnsureDevPkiOptions {
  /** Directory holding the PKI files; created (0700) if missing. */
  dataDir: string;
  /** Extra host names / IP literals for the server certificate (DNS vs IP detected). */
  hosts?: string[];
  /** Clock, for tests. Default: `() => new Date()`. */
  now?: () => Date;
  logger?: DevPkiLogger;
}

export interface DevPki {
  caCertPath: string;
  caCertPem: string;
  serverCertPath: string;
  serverCertPem: string;
  serverKeyPath: string;
  serverKeyPem: string;
  /** True when this call generated a new CA (first run); false when an existing CA was reused. */
  created: boolean;
  /** True when this call (re-)issued the server certificate; always true when `created` is. */
  serverCertIssued: boolean;
}

interface Paths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

async function readOptional(path: string, what: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) return null;
    throw fileError(`read ${what}`, path, err);
  }
}

async function readOptionalKey(path: string, what: string): Promise<string | null> {
  const buf = await readPrivateFile(path, what);
  return buf === null ? null : buf.toString('utf8');
}

/** Writes a key/certificate pair: key first, so a published certificate always has its key. */
async function writePair(keyPath: string, keyPem: string, certPath: string, certPem: string): Promise<void> {
  await writeFileAtomic(keyPath, keyPem, { mode: 0o600 });
  await writeFileAtomic(certPath, certPem, { mode: 0o644 });
}

function regenerateHint(paths: Paths): string {
  return `delete ${paths.caCert} and ${paths.caKey} to generate a new development CA (clients must then trust the new ca.pem)`;
}

async function loadOrCreateCa(paths: Paths, now: Date, logger?: DevPkiLogger): Promise<CertificateIssuer & { created: boolean }> {
  const certPem = await readOptional(paths.caCert, 'development CA certificate');
  const keyPem = await readOptionalKey(paths.caKey, 'development CA key');

  if (certPem === null) {
    // The key is written before the certificate, so a key alone is a creation that never finished.
    const notAfter = new Date(now);
    notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
    const ca = await createRootCa({ commonName: DEV_CA_COMMON_NAME, notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter });
    await writePair(paths.caKey, ca.keyPem, paths.caCert, ca.certPem);
    logger?.info({ caCertPath: paths.caCert, notAfter: notAfter.toISOString() }, 'created development CA; trust ca.pem in clients to verify the gateway');
    return { ...ca, created: true };
  }
  if (keyPem === null) {
    throw gatewayError('CONFIG_INVALID', `${paths.caCert} exists but its key ${paths.caKey} is missing: restore the key, or ${regenerateHint(paths)}`);
  }
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', `${paths.caCert} is not a valid PEM certificate; ${regenerateHint(paths)}`, undefined, err);
  }
  if (!keyMatchesCertificate(keyPem, certPem, `development CA key ${paths.caKey}`)) {
    throw gatewayError('CONFIG_INVALID', `${paths.caKey} is not the key of ${paths.caCert}; ${regenerateHint(paths)}`);
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw gatewayError('CONFIG_INVALID', `development CA ${paths.caCert} expired on ${cert.notAfter.toISOString()}; ${regenerateHint(paths)}`);
  }
  return { certPem, keyPem, created: false };
}

/** Why the existing server certificate cannot be reused, or `null` when it can. */
function leafProblem(certPem: string | null, keyPem: string | null, caCertPem: string, wanted: SubjectAltName[], now: Date): string | null {
  if (certPem === null || keyPem === null) return 'missing';
  let cert: x509.X509Certificate;
  let nodeCert: NodeX509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
    nodeCert = new NodeX509Certificate(certPem);
    if (!keyMatchesCertificate(keyPem, certPem)) return 'key does not match certificate';
  } catch {
    return 'unreadable';
  }
  const ca = new NodeX509Certificate(caCertPem);
  if (!nodeCert.checkIssued(ca) || !nodeCert.verify(ca.publicKey)) return 'not issued by the current development CA';
  if (cert.notBefore.getTime() > now.getTime()) return 'not yet valid';
  if (cert.notAfter.getTime() - now.getTime() < SERVER_CERT_RENEW_DAYS * DAY_MS) return `expires within ${SERVER_CERT_RENEW_DAYS} days`;
  const missing = missingSubjectAltNames(cert, wanted);
  if (missing.length > 0) return `does not cover ${missing.map((s) => s.value).join(', ')}`;
  return null;
}

/**
 * Makes sure the development CA and a current server certificate exist in `opts.dataDir`, creating
 * or renewing what is needed, and returns their paths and PEMs.
 *
 * @throws GatewayError CONFIG_INVALID when
 *  - a key file (`ca-key.pem`, `server-key.pem`) is accessible by group or others (the message says
 *    to `chmod 600` it; the file is not replaced);
 *  - `ca.pem` exists without its key, is unparseable, does not match `ca-key.pem`, or has expired
 *    (the message says how to regenerate; the CA is never replaced silently);
 *  - a requested host is not a valid host name or IP address;
 *  - the data directory cannot be created, read or written, or the lock is held too long.
 */
export async function ensureDevPki(opts: EnsureDevPkiOptions): Promise<DevPki> {
  const clock = opts.now ?? (() => new Date());
  const wanted = parseSubjectAltNames([...DEFAULT_DEV_HOSTS, ...(opts.hosts ?? [])]);
  const paths: Paths = {
    caCert: join(opts.dataDir, DEV_PKI_FILES.caCert),
    caKey: join(opts.dataDir, DEV_PKI_FILES.caKey),
    serverCert: join(opts.dataDir, DEV_PKI_FILES.serverCert),
    serverKey: join(opts.dataDir, DEV_PKI_FILES.serverKey),
  };
  try {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fileError('create data directory', opts.dataDir, err);
  }

  return withLockFile(join(opts.dataDir, DEV_PKI_FILES.lock), async () => {
    const now = clock();
    const ca = await loadOrCreateCa(paths, now, opts.logger);

    // Read the key first: an insecure key file is an error even if the leaf would be replaced.
    const existingKey = await readOptionalKey(paths.serverKey, 'development server key');
    const existingCert = await readOptional(paths.serverCert, 'development server certificate');
    const problem = ca.created ? 'new CA' : leafProblem(existingCert, existingKey, ca.certPem, wanted, now);
    if (problem === null && existingCert !== null && existingKey !== null) {
      return { ...pkiPaths(paths), caCertPem: ca.certPem, serverCertPem: existingCert, serverKeyPem: existingKey, created: false, serverCertIssued: false };
    }

    const caNotAfter = new x509.X509Certificate(ca.certPem).notAfter.getTime();
    const notAfter = new Date(Math.min(now.getTime() + SERVER_CERT_VALIDITY_DAYS * DAY_MS, caNotAfter));
    const leaf = await issueCertificate({
      issuer: ca,
      subjectCN: 'localhost',
      sans: wanted.map((san) => san.value),
      usage: 'server',
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter,
    });
    await writePair(paths.serverKey, leaf.keyPem, paths.serverCert, leaf.certPem);
    opts.logger?.info(
      { serverCertPath: paths.serverCert, reason: problem, sans: wanted.map(sanKey), notAfter: notAfter.toISOString() },
      'issued development server certificate',
    );
    return { ...pkiPaths(paths), caCertPem: ca.certPem, serverCertPem: leaf.certPem, serverKeyPem: leaf.keyPem, created: ca.created, serverCertIssued: true };
  });
}

function pkiPaths(paths: Paths): Pick<DevPki, 'caCertPath' | 'serverCertPath' | 'serverKeyPath'> {
  return { caCertPath: paths.caCert, serverCertPath: paths.serverCert, serverKeyPath: paths.serverKey };
}
