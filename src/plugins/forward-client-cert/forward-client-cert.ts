import { z } from 'zod';
import type { Plugin } from '../../pipeline/plugin.js';
import type { ClientCertificate } from '../../tls/client-certificate.js';

export const FORWARDED_CLIENT_CERT_HEADER = 'x-forwarded-client-cert';

const FIELDS = ['hash', 'subject', 'uri', 'dns', 'email', 'serial', 'cert'] as const;

export const ForwardClientCertConfigSchema = z
  .object({
    fields: z
      .array(z.enum(FIELDS))
      .min(1)
      .default(['hash', 'subject', 'uri', 'dns'])
      .describe('What to include: hash (SHA-256), subject, uri/dns/email SANs, serial, cert (URL-encoded PEM)'),
  })
  .strict();

export type ForwardClientCertConfig = z.output<typeof ForwardClientCertConfigSchema>;

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Renders an `x-forwarded-client-cert` element in Envoy's format: `Hash=…;Subject="…";URI=…`. */
export function renderForwardedClientCert(cert: ClientCertificate, fields: readonly (typeof FIELDS)[number][]): string {
  const parts: string[] = [];
  for (const f of fields) {
    if (f === 'hash') parts.push(`Hash=${cert.fingerprint256}`);
    else if (f === 'subject') parts.push(`Subject=${quote(cert.subjectText)}`);
    else if (f === 'uri') for (const u of cert.sanUris) parts.push(`URI=${u}`);
    else if (f === 'dns') for (const d of cert.sanDns) parts.push(`DNS=${d}`);
    else if (f === 'email') for (const e of cert.sanEmails) parts.push(`Email=${e}`);
    else if (f === 'serial') parts.push(`Serial=${cert.serialNumber}`);
    else if (f === 'cert') parts.push(`Cert=${quote(encodeURIComponent(cert.pem))}`);
  }
  return parts.join(';');
}

/**
 * Passes the verified client certificate's identity upstream in `x-forwarded-client-cert`. The gateway
 * always strips that header from client requests (see forward-headers.ts), so upstreams can trust it
 * whether or not this plugin is on.
 */
export const forwardClientCertPlugin: Plugin<ForwardClientCertConfig> = {
  name: 'forward-client-cert',
  description: 'Send the verified client certificate identity upstream (x-forwarded-client-cert)',
  configSchema: ForwardClientCertConfigSchema,
  create(config) {
    return {
      transformRequest(ctx) {
        const cert = ctx.clientCert;
        if (cert) ctx.setUpstreamHeader(FORWARDED_CLIENT_CERT_HEADER, renderForwardedClientCert(cert, config.fields));
      },
    };
  },
};
