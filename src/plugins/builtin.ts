import type { Plugin } from '../pipeline/plugin.js';
import { clientCertPlugin } from './client-cert/client-cert.js';
import { forwardClientCertPlugin } from './forward-client-cert/forward-client-cert.js';
import { headersPlugin } from './headers/headers.js';

/** Plugins available to routes and services by name. Global plugins (the access log) are wired by the gateway. */
export function builtinPlugins(): Plugin<any>[] {
  return [headersPlugin, clientCertPlugin, forwardClientCertPlugin];
}
