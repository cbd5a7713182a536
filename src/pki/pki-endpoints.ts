/**
 * The gateway's PKI endpoints, for relying parties checking certificates its CAs issued. Served on
 * the data plane and on the plain-HTTP listener (RFC 5280 and 6960 expect http:// for CRLs and OCSP:
 * the answers are signed, and fetching them must not itself need TLS to a certificate being checked):
 *
 *   GET  /_portcullis/pki/{tenant}/{ca}/crl        the issuing CA's CRL, DER (application/pkix-crl)
 *   GET  /_portcullis/pki/{tenant}/{ca}/crl.pem    the same, PEM
 *   GET  /_portcullis/pki/{tenant}/{ca}/root.crl   the root's CRL, DER (generated hierarchies)
 *   GET  /_portcullis/pki/{tenant}/{ca}/ca.pem     the CA chain (issuing, then root)
 *   POST /_portcullis/pki/{tenant}/{ca}/ocsp       OCSP (RFC 6960), application/ocsp-request
 *   GET  /_portcullis/pki/{tenant}/{ca}/ocsp/{b64} OCSP by GET (RFC 6960 appendix A.1)
 *
 * Unknown tenants and CAs answer 404 like any unknown path. OCSP says `good` only for certificates the
 * CA issued and did not revoke (for its own tenant or one it is shared with), `unknown` for serials
 * it never issued.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Store } from '../storage/store.js';
import { normaliseSerial } from '../storage/sql/pki.js';
import { buildOcspResponse, matchesIssuer, ocspError, OCSP_REQUEST_CONTENT_TYPE, OCSP_RESPONSE_CONTENT_TYPE, parseOcspRequest, type OcspResponseEntry, type OcspRevocationReason } from './ocsp-responder.js';
import type { CaState } from './pki-state.js';

export const PKI_PREFIX = '/_portcullis/pki/';
const PATH_RE = /^\/_portcullis\/pki\/([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)\/([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)\/(crl|crl\.pem|root\.crl|ca\.pem|ocsp)(?:\/([A-Za-z0-9+/=%_-]+))?$/;
const MAX_OCSP_REQUEST = 10_000;
/** How long OCSP answers may be cached by clients. */
const OCSP_VALIDITY_MS = 3_600_000;

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, cache = 'max-age=300'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': cache });
  res.end(body);
}

function notFound(res: ServerResponse): void {
  send(res, 404, 'application/json', JSON.stringify({ error: { type: 'route_not_found', code: 'PC_ERR_ROUTE_NOT_FOUND', message: 'No route matches this request' } }), 'no-store');
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(undefined);
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

export class PkiEndpoints {
  constructor(
    private readonly store: Pick<Store, 'tenant'>,
    private readonly logger: Logger,
  ) {}

  /** Answers when `path` is a PKI endpoint of a known CA (or a malformed one under the prefix); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, snapshot: Snapshot | undefined): boolean {
    if (!path.startsWith(PKI_PREFIX)) return false;
    const m = PATH_RE.exec(path);
    const ca = m && snapshot?.pki?.ca(m[1]!, m[2]!);
    if (!m || !ca) {
      notFound(res);
      return true;
    }
    const what = m[3]!;
    const method = req.method ?? 'GET';
    if (what === 'ocsp') {
      if (method === 'POST' && m[4] === undefined) this.#ocspPost(req, res, ca);
      else if ((method === 'GET' || method === 'HEAD') && m[4] !== undefined) this.#ocsp(res, ca, Buffer.from(decodeURIComponent(m[4]), 'base64'));
      else notFound(res);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      notFound(res);
      return true;
    }
    if (what === 'crl') send(res, 200, 'application/pkix-crl', ca.crl.der);
    else if (what === 'crl.pem') send(res, 200, 'application/x-pem-file', ca.crl.pem);
    else if (what === 'root.crl' && ca.rootCrl) send(res, 200, 'application/pkix-crl', ca.rootCrl.der);
    else if (what === 'ca.pem') send(res, 200, 'application/x-pem-file', [ca.certPem, ca.rootCertPem].filter(Boolean).map((p) => p!.trimEnd()).join('\n') + '\n');
    else notFound(res);
    return true;
  }

  #ocspPost(req: IncomingMessage, res: ServerResponse, ca: CaState): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== OCSP_REQUEST_CONTENT_TYPE) {
      send(res, 400, OCSP_RESPONSE_CONTENT_TYPE, ocspError('malformedRequest'), 'no-store');
      return;
    }
    void readBody(req, MAX_OCSP_REQUEST).then((body) => {
      if (!body) send(res, 400, OCSP_RESPONSE_CONTENT_TYPE, ocspError('malformedRequest'), 'no-store');
      else this.#ocsp(res, ca, body);
    });
  }

  #ocsp(res: ServerResponse, ca: CaState, der: Buffer): void {
    let request;
    try {
      request = parseOcspRequest(der);
    } catch {
      send(res, 200, OCSP_RESPONSE_CONTENT_TYPE, ocspError('malformedRequest'), 'no-store');
      return;
    }
    void this.#entries(ca, request.certIds).then(
      (entries) => {
        const now = new Date();
        const body = buildOcspResponse({
          responder: { certPem: ca.certPem, keyPem: ca.keyPem },
          issuerCertPem: ca.certPem,
          entries,
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + OCSP_VALIDITY_MS),
          ...(request.nonce ? { nonce: request.nonce } : {}),
        });
        send(res, 200, OCSP_RESPONSE_CONTENT_TYPE, body, request.nonce ? 'no-store' : `max-age=${OCSP_VALIDITY_MS / 1000}`);
      },
      (err: unknown) => {
        this.logger.error({ err, tenant: ca.tenant, ca: ca.name }, 'OCSP responder failed');
        send(res, 200, OCSP_RESPONSE_CONTENT_TYPE, ocspError('internalError'), 'no-store');
      },
    );
  }

  async #entries(ca: CaState, certIds: ReturnType<typeof parseOcspRequest>['certIds']): Promise<OcspResponseEntry[]> {
    const scope = await this.store.tenant(ca.tenant);
    const out: OcspResponseEntry[] = [];
    for (const certId of certIds) {
      const serial = normaliseSerial(certId.serialNumber);
      const revoked = ca.revoked.get(serial);
      if (!matchesIssuer(certId, ca.certPem)) out.push({ certId, status: 'unknown' });
      else if (revoked) out.push({ certId, status: 'revoked', revokedAt: revoked.revokedAt, reason: revoked.reason as OcspRevocationReason });
      else {
        out.push({ certId, status: (await scope.pki.caIssued(ca.name, serial)) ? 'good' : 'unknown' });
      }
    }
    return out;
  }
}
