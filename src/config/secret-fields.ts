/**
 * Which config fields hold secrets, and the additional authenticated data that binds each sealed
 * value to its place (so a ciphertext copied to another object or field does not decrypt).
 */

import type { ConfigKind } from '../storage/store.js';
import { clientKeyProblem } from '../tls/upstream/upstream-tls-checks.js';

/** AAD for a sealed field: `kind:tenant:name:field`. */
export function secretAad(kind: ConfigKind, tenant: string, name: string, field: string): string {
  return `${kind}:${tenant}:${name}:${field}`;
}

/**
 * Where secrets sit in each kind's spec, as paths. A path ending in "*" means every value of the map
 * at that path. Every such value is sealed before storage and redacted on read.
 */
export const SECRET_PATHS: Readonly<Record<ConfigKind, readonly (readonly string[])[]>> = {
  certificate: [['key']],
  domain: [['acme', 'eab', 'hmacKey']],
  service: [
    ['upstream', 'secretHeaders', '*'],
    ['upstream', 'tls', 'clientKey'],
    ['access', 'notify', 'secret'],
  ],
  route: [],
  application: [],
  'jwt-issuer': [],
  'llm-provider': [['keys', '*'], ['tls', 'clientKey']],
  'llm-policy': [],
};

function tlsClientKeyProblem(key: string, tls: { clientCert?: unknown } | undefined): string | undefined {
  return clientKeyProblem(key, typeof tls?.clientCert === 'string' ? tls.clientCert : undefined);
}

/** A check that needs a secret's clear value and its (non-secret) siblings; returns a problem message or undefined. */
export type SecretCheck = (clear: string, spec: Record<string, unknown>) => string | undefined;

/**
 * Checks of single secret fields, by kind and field path. A kind's schema checks a value sent in
 * clear, but cannot read one kept by sending "<redacted>" (it only sees that marker, or the sealed
 * value): sealing runs these checks on the stored value it keeps, so for example a new `clientCert`
 * sent with a redacted `clientKey` is still checked against that key.
 */
export const SECRET_CHECKS: Readonly<Partial<Record<ConfigKind, Readonly<Record<string, SecretCheck>>>>> = {
  certificate: {
    key: (key, spec) => clientKeyProblem(key, typeof spec.cert === 'string' ? spec.cert : undefined)?.replace('clientCert', 'cert'),
  },
  service: {
    'upstream.tls.clientKey': (key, spec) => tlsClientKeyProblem(key, (spec.upstream as { tls?: { clientCert?: unknown } } | undefined)?.tls),
  },
  'llm-provider': {
    'tls.clientKey': (key, spec) => tlsClientKeyProblem(key, spec.tls as { clientCert?: unknown } | undefined),
  },
};
