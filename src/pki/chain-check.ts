/**
 * Pre-install checks for a certificate chain and key, e.g. what a public CA returned for a CSR the
 * gateway made. Structural only: it proves the chain is complete and in order, not that any client
 * trusts its root.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { keyMatchesCertificate } from './keys.js';
import { splitPemCertificates } from './pem.js';
import { x509 } from './x509.js';

export interface CheckCertificateChainOptions {
  /** PEM bundle, leaf first, then each certificate's issuer in turn; the root may be omitted. */
  chainPem: string;
  /** The leaf's private key, PEM. */
  keyPem: string;
  /** Default: now. */
  now?: Date;
  /**
   * PEM certificates that may have issued the last certificate of the chain when that one is not
   * self-signed. Default: Node's bundled Mozilla root store (`tls.rootCertificates`).
   */
  roots?: readonly string[];
}

interface ChainCert {
  pem: string;
  node: NodeX509Certificate;
  cert: x509.X509Certificate;
  label: string;
}

function signedBy(child: NodeX509Certificate, parent: NodeX509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function issuerAmong(last: NodeX509Certificate, roots: readonly string[]): boolean {
  for (const pem of roots) {
    let root: NodeX509Certificate;
    try {
      root = new NodeX509Certificate(pem);
    } catch {
      continue;
    }
    if (signedBy(last, root)) return true;
  }
  return false;
}

/**
 * Checks a chain and key before installation. Returns one message per problem, `[]` when the chain
 * is usable:
 *  - the bundle holds no certificate, or a certificate does not parse (no further checks then);
 *  - the key is not a valid PEM private key, or does not belong to the leaf;
 *  - a certificate is not yet valid or has expired at `now`;
 *  - a certificate is not signed by the next one (an intermediate is missing or the order is
 *    wrong), or a certificate that signs another is not a CA;
 *  - the last certificate is neither self-signed nor issued by one of `roots` (chain incomplete).
 *
 * Never throws; messages contain no key material.
 */
export function checkCertificateChain(opts: CheckCertificateChainOptions): string[] {
  const now = (opts.now ?? new Date()).getTime();
  const blocks = splitPemCertificates(opts.chainPem);
  if (blocks.length === 0) return ['the chain holds no PEM certificate'];
  const chain: ChainCert[] = [];
  for (const [i, pem] of blocks.entries()) {
    try {
      const cert = new x509.X509Certificate(pem);
      chain.push({ pem, cert, node: new NodeX509Certificate(pem), label: `certificate ${i + 1} (${cert.subject || 'empty subject'})` });
    } catch {
      return [`certificate ${i + 1} of the chain is not a valid certificate`];
    }
  }
  const problems: string[] = [];
  const leaf = chain[0] as ChainCert;
  try {
    if (!keyMatchesCertificate(opts.keyPem, leaf.pem)) problems.push(`the private key does not belong to the leaf ${leaf.label}`);
  } catch {
    problems.push('the private key is not a valid PEM private key');
  }

  for (const c of chain) {
    if (c.cert.notBefore.getTime() > now) problems.push(`${c.label} is not valid before ${c.cert.notBefore.toISOString()}`);
    if (c.cert.notAfter.getTime() <= now) problems.push(`${c.label} expired on ${c.cert.notAfter.toISOString()}`);
  }

  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as ChainCert;
    const parent = chain[i + 1] as ChainCert;
    if (!parent.cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
      problems.push(`${parent.label} is not a CA certificate, so it cannot have issued ${child.label}`);
    } else if (!child.node.checkIssued(parent.node)) {
      problems.push(`${child.label} was not issued by ${parent.label} (issuer is ${child.cert.issuer}): an intermediate is missing or the order is wrong (leaf first, then each issuer)`);
    } else if (!signedBy(child.node, parent.node)) {
      problems.push(`the signature of ${child.label} does not verify with the key of ${parent.label}`);
    }
  }

  const last = chain[chain.length - 1] as ChainCert;
  if (!signedBy(last.node, last.node) && !issuerAmong(last.node, opts.roots ?? rootCertificates)) {
    problems.push(`the chain is incomplete: ${last.label} was issued by ${last.cert.issuer}, which is neither included nor a known root; add the missing intermediate certificate`);
  }
  return problems;
}
