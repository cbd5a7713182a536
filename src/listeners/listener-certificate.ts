/**
 * The HTTPS listeners' own certificate and default TLS domain, from settings: the configured files
 * (key file permissions checked), or the development PKI in the data directory.
 */

import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import { gatewayError } from '../core/errors.js';
import { ensureDevPki } from '../pki/dev-ca.js';
import { keyMatchesCertificate } from '../pki/keys.js';
import { readPrivateFile } from '../secrets/file-mode.js';
import type { TlsDomainInput } from '../tls/tls-snapshot.js';

export interface ListenerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** The development CA's certificate file, when the development PKI is in use. */
  readonly caPath: string | undefined;
}

/** The listeners' certificate. Throws CONFIG_INVALID for unreadable, mismatched or unsafe files. */
export async function listenerCertificate(settings: Settings, logger: Logger): Promise<ListenerCertificate> {
  const { certFile, keyFile } = settings.tls;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw gatewayError('CONFIG_INVALID', 'tls.certFile and tls.keyFile must be set together');
    const certPem = await readFile(certFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw gatewayError('CONFIG_INVALID', `cannot read tls.certFile ${certFile}: ${err.code ?? 'error'}`);
    });
    const allowInsecureMode = settings.tls.allowInsecureKeyFile;
    if (allowInsecureMode) logger.warn({ keyFile }, 'tls.allowInsecureKeyFile is set: the private key file permissions are not checked');
    const key = await readPrivateFile(keyFile, 'TLS private key', { allowInsecureMode });
    if (!key) throw gatewayError('CONFIG_INVALID', `tls.keyFile ${keyFile} does not exist`);
    const keyPem = key.toString('utf8');
    if (!keyMatchesCertificate(keyPem, certPem)) throw gatewayError('CONFIG_INVALID', `tls.keyFile does not match the certificate in ${certFile}`);
    return { certPem, keyPem, caPath: undefined };
  }
  const pki = await ensureDevPki({ dataDir: settings.dataDir, hosts: settings.tls.hosts, logger });
  return { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, caPath: pki.caCertPath };
}

/** The listener's default TLS domain: its certificate and its client-auth policy (`https.clientAuth`). */
export async function defaultTlsDomain(settings: Settings, tls: { certPem: string; keyPem: string }): Promise<TlsDomainInput> {
  const { clientAuth } = settings.https;
  let trustedCas: string | undefined;
  if (clientAuth.mode !== 'off' && clientAuth.caFile) {
    trustedCas = await readFile(clientAuth.caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw gatewayError('CONFIG_INVALID', `cannot read https.clientAuth.caFile ${clientAuth.caFile}: ${err.code ?? 'error'}`);
    });
  }
  return { tenant: undefined, name: 'default', hosts: [], certPem: tls.certPem, keyPem: tls.keyPem, clientAuth: { mode: clientAuth.mode, depth: clientAuth.depth, trustedCas } };
}
