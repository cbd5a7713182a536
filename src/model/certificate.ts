import { z } from 'zod';
import { keyMatchesCertificate } from '../pki/keys.js';
import { parseCertificateBundle } from '../pki/pem.js';
import { NameSchema } from './common.js';
import { REDACTED } from './service.js';

const PemSchema = z.string().min(1).max(200_000);

/**
 * A server certificate the gateway presents: the chain (leaf first, then intermediates) and its private
 * key. The key is a secret: sealed at rest, shown as "<redacted>". Domains refer to certificates by name.
 */
export const CertificateSpecSchema = z
  .object({
    name: NameSchema,
    cert: PemSchema.describe('PEM chain: the leaf first, then intermediates'),
    key: PemSchema.describe(`PEM private key (PKCS#8, SEC1 or PKCS#1). Secret: encrypted at rest, shown as "${REDACTED}"`),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const chain = parseCertificateBundle(spec.cert);
    if (!chain) {
      ctx.addIssue({ code: 'custom', path: ['cert'], message: 'is not a PEM certificate chain' });
      return;
    }
    const leaf = chain[0]!;
    for (let i = 1; i < chain.length; i++) {
      if (!chain[i - 1]!.checkIssued(chain[i]!)) {
        ctx.addIssue({ code: 'custom', path: ['cert'], message: `certificate ${i + 1} of the chain did not issue certificate ${i}: order the chain leaf first` });
        return;
      }
    }
    // A sealed or redacted key is checked when it was stored; only a clear key can be matched here.
    if (spec.key === REDACTED || spec.key.startsWith('pcenc:')) return;
    try {
      if (!keyMatchesCertificate(spec.key, leaf.toString())) ctx.addIssue({ code: 'custom', path: ['key'], message: 'does not match the leaf certificate' });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'is not a PEM private key' });
    }
  });

export type CertificateSpec = z.output<typeof CertificateSpecSchema>;
