// The mutual-TLS part of `npm run bench`: certificates, the gateway's tenant document, and the nginx
// configuration the handshake comparison runs against. Pure helpers (files and strings); bench/run.mjs
// starts and stops the processes. See docs/benchmarks.md, "Mutual TLS".

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The two tenant domains: one requires client certificates, the other has the same shape without. */
export const MTLS_HOST = 'bench.mtls.test';
export const PLAIN_HOST = 'bench.plain.test';
/** The tenant the bench's domains live in (the other scenarios use `default`, which this leaves alone). */
export const MTLS_TENANT = 'bench';

/**
 * The gateway's strict listener policy (src/listeners/tls-policy.ts: STRICT_TLS12_CIPHERS,
 * TLS13_CIPHERSUITES, STRICT_CURVES), repeated here so that nginx gets exactly the same suites and
 * groups. run.mjs uses dist/listeners/tls-policy.js's values when it exists (and says so if they differ).
 */
export const STRICT_TLS12_CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';
export const TLS13_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
export const STRICT_CURVES = 'X25519:P-256:P-384';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Two throw-away CAs and their leaves, all EC P-256, valid for two days, made with openssl in `dir`:
 * - a server CA and a server certificate for MTLS_HOST and PLAIN_HOST (EKU serverAuth), served by
 *   both the gateway (as the tenant's certificate) and nginx;
 * - a client CA (the domain's `trustedCas`, nginx's `ssl_client_certificate`) and a client
 *   certificate (EKU clientAuth) that the load client presents.
 * Returns the file names and the PEM texts.
 */
export function makePki(dir) {
  mkdirSync(dir, { recursive: true });
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  const f = (name) => join(dir, name);
  // CAs: self-signed.
  openssl(['req', '-x509', ...EC, '-days', '2', '-subj', '/O=Portcullis bench/CN=bench server CA', ...caExt, '-keyout', f('server-ca-key.pem'), '-out', f('server-ca.pem')], dir);
  openssl(['req', '-x509', ...EC, '-days', '2', '-subj', '/O=Portcullis bench/CN=bench client CA', ...caExt, '-keyout', f('client-ca-key.pem'), '-out', f('client-ca.pem')], dir);
  // Leaves: a key and CSR, then signed by the CA with the extensions from a small file.
  const leaf = (name, subject, ca, ext) => {
    writeFileSync(f(`${name}.ext`), `${ext.join('\n')}\n`);
    openssl(['req', '-new', ...EC, '-subj', subject, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`)], dir);
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}-key.pem`), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)], dir);
  };
  leaf('server', `/CN=${MTLS_HOST}`, 'server-ca', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:${MTLS_HOST},DNS:${PLAIN_HOST}`,
  ]);
  leaf('client', '/O=Portcullis bench/CN=bench-load-client', 'client-ca', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
    'subjectAltName=URI:spiffe://bench.mtls.test/load-client',
  ]);
  const files = {
    serverCa: f('server-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server-key.pem'),
    clientCa: f('client-ca.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client-key.pem'),
  };
  const pem = Object.fromEntries(Object.entries(files).map(([k, file]) => [k, readFileSync(file, 'utf8')]));
  return { files, pem };
}

/**
 * The `bench` tenant's declarative document: one certificate for both names, the mTLS domain
 * (clientAuth required, trusting the client CA), the plain domain (clientAuth off), and one service
 * to the fake upstream with the same chat route on each host.
 */
export function tenantDocument(pki, upstreamOrigin, chatPath) {
  return {
    certificates: [{ name: 'bench', cert: pki.pem.serverCert, key: pki.pem.serverKey }],
    domains: [
      { name: 'mtls', hosts: [MTLS_HOST], certificate: 'bench', clientAuth: { mode: 'required', trustedCas: pki.pem.clientCa } },
      { name: 'plain', hosts: [PLAIN_HOST], certificate: 'bench', clientAuth: { mode: 'off' } },
    ],
    services: [
      {
        name: 'llm',
        upstream: { targets: [{ url: upstreamOrigin }] },
        routes: [
          { name: 'chat-mtls', hosts: [MTLS_HOST], paths: [chatPath], methods: ['POST'] },
          { name: 'chat-plain', hosts: [PLAIN_HOST], paths: [chatPath], methods: ['POST'] },
        ],
      },
    ],
  };
}

/**
 * nginx for the handshake comparison: one process (no master, no daemon: the bench owns its pid and
 * measures its CPU), one worker's worth of event loop like the gateway, on 127.0.0.1:<port>, with the
 * gateway's server certificate, protocols, suites, groups and client CA; no session cache and no
 * tickets (the gateway's data plane does not resume sessions either); answering every request itself.
 * Everything it writes (pid, logs, temp dirs) stays in `dir`.
 */
export function nginxConf({ dir, port, pki, policy = { tls12: STRICT_TLS12_CIPHERS, tls13: TLS13_CIPHERSUITES, curves: STRICT_CURVES } }) {
  const p = (name) => join(dir, name);
  return `# generated by bench/run.mjs (npm run bench); run with: nginx -p ${dir} -e ${p('error.log')} -c ${p('nginx.conf')}
daemon off;
master_process off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;

events {
    worker_connections 1024;
}

http {
    access_log ${p('access.log')};
    client_body_temp_path ${p('client_body')};
    proxy_temp_path ${p('proxy')};
    fastcgi_temp_path ${p('fastcgi')};
    uwsgi_temp_path ${p('uwsgi')};
    scgi_temp_path ${p('scgi')};
    default_type application/json;

    server {
        listen 127.0.0.1:${port} ssl;
        server_name ${MTLS_HOST};

        ssl_certificate ${pki.files.serverCert};
        ssl_certificate_key ${pki.files.serverKey};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ${policy.tls12};
        ssl_conf_command Ciphersuites ${policy.tls13};
        ssl_prefer_server_ciphers on;
        ssl_ecdh_curve ${policy.curves};
        ssl_session_cache off;
        ssl_session_tickets off;

        ssl_verify_client on;
        ssl_client_certificate ${pki.files.clientCa};
        ssl_verify_depth 3;

        location / {
            return 200 '{"ok":true}';
        }
    }
}
`;
}
