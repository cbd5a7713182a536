import { z } from 'zod';
import type { Plugin } from '../../pipeline/plugin.js';

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name').transform((n) => n.toLowerCase());
const HeaderValue = z.string().max(8192).regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');
const Edits = z
  .object({
    set: z.record(HeaderName, HeaderValue).default({}),
    remove: z.array(HeaderName).default([]),
  })
  .strict()
  .default({ set: {}, remove: [] });

export const HeadersConfigSchema = z.object({ request: Edits, response: Edits }).strict();
export type HeadersConfig = z.output<typeof HeadersConfigSchema>;

/**
 * Sets and removes request headers (sent upstream) and response headers (sent to the client) on a
 * route or service. Joins `transformRequest` and `onResponse`.
 */
export const headersPlugin: Plugin<HeadersConfig> = {
  name: 'headers',
  description: 'Set or remove request and response headers',
  configSchema: HeadersConfigSchema,
  create(config) {
    const reqSet = Object.entries(config.request.set);
    const reqRemove = config.request.remove;
    const resSet = Object.entries(config.response.set);
    const resRemove = config.response.remove;
    return {
      transformRequest:
        reqSet.length + reqRemove.length === 0
          ? undefined
          : (ctx) => {
              for (const name of reqRemove) ctx.setUpstreamHeader(name, null);
              for (const [name, value] of reqSet) ctx.setUpstreamHeader(name, value);
            },
      onResponse:
        resSet.length + resRemove.length === 0
          ? undefined
          : (_ctx, head) => {
              for (const name of resRemove) delete head.headers[name];
              for (const [name, value] of resSet) head.headers[name] = value;
            },
    };
  },
};
