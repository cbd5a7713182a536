import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { ErrorDetail } from '../core/errors.js';
import { redactSecrets, sealSecrets } from '../config/secret-sealing.js';
import { secretAad } from '../config/secret-fields.js';
import { REDACTED, ServiceSpecSchema } from '../model/service.js';
import { createRootCa, issueCertificate, type RootCa } from '../pki/issue-certificate.js';
import { PluginRegistry } from '../pipeline/plugin.js';
import { SecretBox } from '../secrets/secret-box.js';
import { planSnapshot } from '../snapshot/plan.js';
import { materializeSnapshot } from '../snapshot/snapshot.js';
import type { ConfigRecord } from '../storage/store.js';
import { PoolRegistry, type PoolSettings } from './pool-registry.js';
import { mapUpstreamError } from './upstream-errors.js';
import { DEFAULT_UPSTREAM_TLS, tlsSettingsKey, UPSTREAM_TLS_CODES } from './upstream-tls.js';

const HOUR = 3_600_000;

interface Material {
  ca: RootCa;
  certPem: string;
  keyPem: string;
  otherKeyPem: string;
  pin: string;
}

let m: Material;

before(async () => {
  const now = Date.now();
  const ca = await createRootCa({ commonName: 'Unit CA', notBefore: new Date(now - HOUR), notAfter: new Date(now + 24 * HOUR) });
  const client = await issueCertificate({ issuer: ca, subjectCN: 'gw', sans: [], usage: 'client', notAfter: new Date(now + HOUR) });
  const other = await issueCertificate({ issuer: ca, subjectCN: 'other', sans: [], usage: 'client', notAfter: new Date(now + HOUR) });
  const pin = createHash('sha256').update(new X509Certificate(client.certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  m = { ca, certPem: client.certPem, keyPem: client.keyPem, otherKeyPem: other.keyPem, pin };
});

function spec(tls: Record<string, unknown> | undefined, url = 'https://api.internal:8443') {
  return { name: 'svc', upstream: { targets: [{ url }], ...(tls === undefined ? {} : { tls }) } };
}

/** Issue paths of a failed parse, dotted. */
function issuePaths(input: unknown): string[] {
  const r = ServiceSpecSchema.safeParse(input);
  assert.equal(r.success, false, 'expected the spec to be refused');
  return r.error!.issues.map((i) => i.path.join('.')).sort();
}

describe('upstream.tls schema', () => {
  it('accepts a full configuration and fills the defaults', () => {
    const r = ServiceSpecSchema.parse(spec({ ca: m.ca.certPem, servername: 'API.internal', clientCert: m.certPem, clientKey: m.keyPem, spkiPins: [m.pin] }));
    assert.equal(r.upstream!.tls?.verify, true);
    assert.equal(r.upstream!.tls?.sessionReuse, true);
    assert.equal(r.upstream!.tls?.servername, 'api.internal');
    assert.equal(ServiceSpecSchema.parse(spec(undefined)).upstream!.tls, undefined, 'no tls block: none is added');
  });

  it('refuses PEMs that do not parse, with field paths', () => {
    assert.deepEqual(issuePaths(spec({ ca: 'not a pem' })), ['upstream.tls.ca']);
    const broken = m.ca.certPem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n');
    assert.deepEqual(issuePaths(spec({ ca: `${m.ca.certPem}${broken}` })), ['upstream.tls.ca']);
    assert.deepEqual(issuePaths(spec({ clientCert: 'nope', clientKey: m.keyPem })), ['upstream.tls.clientCert']);
    assert.deepEqual(issuePaths(spec({ clientCert: m.certPem, clientKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' })), ['upstream.tls.clientKey']);
    assert.deepEqual(issuePaths(spec({ clientCert: m.certPem, clientKey: 'plain text' })), ['upstream.tls.clientKey']);
  });

  it('refuses a private key pasted into a non-secret field', () => {
    const r = ServiceSpecSchema.safeParse(spec({ ca: `${m.ca.certPem}${m.keyPem}` }));
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')), ['upstream.tls.ca']);
    assert.match(r.error!.issues[0]!.message, /private key/);
    assert.ok(!JSON.stringify(r.error!.issues).includes(m.keyPem.split('\n')[1]!), 'no key material in the message');
  });

  it('refuses a key that does not belong to the certificate, and one without the other', () => {
    assert.deepEqual(issuePaths(spec({ clientCert: m.certPem, clientKey: m.otherKeyPem })), ['upstream.tls.clientKey']);
    assert.deepEqual(issuePaths(spec({ clientCert: m.certPem })), ['upstream.tls.clientKey']);
    assert.deepEqual(issuePaths(spec({ clientKey: m.keyPem })), ['upstream.tls.clientCert']);
  });

  it('accepts a redacted or sealed key (checked when sealing instead)', () => {
    assert.ok(ServiceSpecSchema.safeParse(spec({ clientCert: m.certPem, clientKey: REDACTED })).success);
    assert.ok(ServiceSpecSchema.safeParse(spec({ clientCert: m.certPem, clientKey: 'pcenc:v1:k1:AAAA' })).success);
  });

  it('refuses malformed pins with the index in the path', () => {
    assert.deepEqual(issuePaths(spec({ spkiPins: [m.pin, 'abc'] })), ['upstream.tls.spkiPins.1']);
    assert.deepEqual(issuePaths(spec({ spkiPins: [m.pin.replace(/=$/, 'A')] })), ['upstream.tls.spkiPins.0']);
    assert.deepEqual(issuePaths(spec({ spkiPins: [`${m.pin.slice(0, 42)}B=`] })), ['upstream.tls.spkiPins.0'], 'non-canonical base64');
    assert.deepEqual(issuePaths(spec({ spkiPins: [] })), ['upstream.tls.spkiPins']);
  });

  it('needs an explicit boolean to turn verification off, a host name as servername, and an https target', () => {
    assert.deepEqual(issuePaths(spec({ verify: 'false' })), ['upstream.tls.verify']);
    assert.deepEqual(issuePaths(spec({ verify: 0 })), ['upstream.tls.verify']);
    assert.deepEqual(issuePaths(spec({ servername: '10.0.0.1' })), ['upstream.tls.servername']);
    assert.deepEqual(issuePaths(spec({ servername: 'bad_name!' })), ['upstream.tls.servername']);
    assert.deepEqual(issuePaths(spec({ verify: true }, 'http://api.internal')), ['upstream.tls']);
    assert.deepEqual(issuePaths(spec({ ciphers: 'ALL' })), ['upstream.tls'], 'strict: unknown keys are refused');
  });
});

describe('upstream.tls.clientKey sealing', () => {
  const box = new SecretBox({ current: { id: 'k1', key: randomBytes(32) } });
  const aad = () => secretAad('service', 'default', 'svc', 'upstream.tls.clientKey');

  function seal(input: Record<string, unknown>, existing?: Record<string, unknown>) {
    const problems: ErrorDetail[] = [];
    const parsed = ServiceSpecSchema.parse(input) as unknown as Record<string, unknown>;
    const out = sealSecrets(box, 'service', 'default', parsed, existing, ['services', 0], problems);
    return { out: out as any, problems };
  }

  it('seals the key with its own AAD, redacts it, and keeps it on a "<redacted>" round trip', () => {
    const { out, problems } = seal(spec({ clientCert: m.certPem, clientKey: m.keyPem }));
    assert.deepEqual(problems, []);
    const sealed = out.upstream.tls.clientKey as string;
    assert.match(sealed, /^pcenc:v1:k1:/);
    assert.equal(box.open(sealed, aad()), m.keyPem);
    assert.ok(!JSON.stringify(out).includes(m.keyPem.split('\n')[1]!));
    assert.equal(out.upstream.tls.clientCert, m.certPem, 'the certificate is not secret');

    const redacted = redactSecrets('service', out) as any;
    assert.equal(redacted.upstream.tls.clientKey, REDACTED);
    assert.equal(out.upstream.tls.clientKey, sealed, 'redaction copies');

    const again = seal(redacted, out);
    assert.deepEqual(again.problems, []);
    assert.equal(again.out.upstream.tls.clientKey, sealed, 'kept as stored');
    const clearAgain = seal(spec({ clientCert: m.certPem, clientKey: m.keyPem }), out);
    assert.equal(clearAgain.out.upstream.tls.clientKey, sealed, 'the same clear value is not a change');
  });

  it('checks a kept key against a new certificate', async () => {
    const { out } = seal(spec({ clientCert: m.certPem, clientKey: m.keyPem }));
    const other = await issueCertificate({ issuer: m.ca, subjectCN: 'new', sans: [], usage: 'client', notAfter: new Date(Date.now() + HOUR) });
    const r = seal(spec({ clientCert: other.certPem, clientKey: REDACTED }), out);
    assert.deepEqual(r.problems.map((p) => p.path), ['services.0.upstream.tls.clientKey']);
    assert.match(r.problems[0]!.message, /does not match/);
  });

  it('refuses "<redacted>" with nothing stored, and a value that looks already encrypted', () => {
    assert.deepEqual(seal(spec({ clientCert: m.certPem, clientKey: REDACTED })).problems.map((p) => p.path), ['services.0.upstream.tls.clientKey']);
    const { out } = seal(spec({ clientCert: m.certPem, clientKey: m.keyPem }));
    const r = seal(spec({ clientCert: m.certPem, clientKey: out.upstream.tls.clientKey }), out);
    assert.deepEqual(r.problems.map((p) => p.path), ['services.0.upstream.tls.clientKey']);
  });
});

describe('upstream TLS pools', () => {
  const base: PoolSettings = { origin: 'https://127.0.0.1:9', connections: 1, connectTimeout: 1000, idleTimeout: 1000, headersTimeout: 1000, bodyTimeout: 1000 };
  const pools = new PoolRegistry();
  after(() => pools.closeAll(100));

  it('keys pools by a hash of the TLS settings: equal settings share, changed ones do not, no key in clear', () => {
    const tls = { ...DEFAULT_UPSTREAM_TLS, ca: m.ca.certPem, cert: m.certPem, key: m.keyPem, spkiPins: [m.pin] };
    const a = { ...base, tls };
    const b = { ...base, tls: { ...tls, spkiPins: [m.pin] } };
    assert.equal(tlsSettingsKey(a.tls), tlsSettingsKey(b.tls), 'equal settings in other objects');
    const key = PoolRegistry.key(a);
    assert.ok(!key.includes(m.keyPem.split('\n')[1]!) && !key.includes('PRIVATE KEY'), 'no key material in the pool key');
    assert.ok(!key.includes(m.certPem.split('\n')[1]!), 'PEMs are hashed');
    assert.equal(pools.acquire(a), pools.acquire(b));
    assert.equal(pools.size, 1);
    for (const changed of [{ sessionReuse: false }, { verify: false }, { key: m.otherKeyPem }, { servername: 'x.test' }, { spkiPins: undefined }]) {
      assert.notEqual(PoolRegistry.key({ ...base, tls: { ...tls, ...changed } }), key, JSON.stringify(Object.keys(changed)));
    }
    assert.notEqual(PoolRegistry.key({ ...base, tls: DEFAULT_UPSTREAM_TLS }), PoolRegistry.key(base), 'https and plain http differ');
    pools.release(a);
    pools.release(b);
    assert.equal(pools.size, 0);
  });
});

describe('upstream TLS failures', () => {
  const reason = (err: unknown) => {
    const e = mapUpstreamError(err);
    return `${e.type}: ${e.message}`;
  };
  const coded = (code: string) => Object.assign(new Error('x'), { code });

  it('maps verification failures, pins and client-certificate alerts to clear reasons', () => {
    assert.equal(reason(coded('ERR_TLS_CERT_ALTNAME_INVALID')), 'upstream_tls_error: TLS to the upstream failed: hostname mismatch');
    assert.equal(reason(coded(UPSTREAM_TLS_CODES.PIN_MISMATCH)), 'upstream_tls_error: TLS to the upstream failed: certificate pin mismatch');
    assert.equal(reason(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'upstream_tls_error: TLS to the upstream failed: unknown certificate authority');
    assert.equal(reason(coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')), 'upstream_tls_error: TLS to the upstream failed: upstream requires a client certificate');
    assert.equal(reason(coded(UPSTREAM_TLS_CODES.CLIENT_CERT_REQUIRED)), 'upstream_tls_error: TLS to the upstream failed: upstream requires a client certificate');
    assert.equal(reason(coded('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')), 'upstream_tls_error: TLS to the upstream failed: upstream rejected the client certificate');
    assert.equal(reason(coded('ERR_SSL_SOMETHING_NEW')), 'upstream_tls_error: TLS to the upstream failed: ERR_SSL_SOMETHING_NEW');
    assert.equal(reason(Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET', cause: coded('CERT_HAS_EXPIRED') })), 'upstream_tls_error: TLS to the upstream failed: certificate expired');
    assert.equal(reason(coded('ECONNRESET')), 'upstream_error: Upstream failed to answer');
  });
});

describe('upstream TLS in snapshots', () => {
  it('opens the client key for the pool and warns when hostname verification is off, without key material', () => {
    const box = new SecretBox({ current: { id: 'k1', key: randomBytes(32) } });
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    const problems: ErrorDetail[] = [];
    const stored = sealSecrets(
      box,
      'service',
      'default',
      ServiceSpecSchema.parse(spec({ ca: m.ca.certPem, verify: false, clientCert: m.certPem, clientKey: m.keyPem })) as unknown as Record<string, unknown>,
      undefined,
      [],
      problems,
    );
    assert.deepEqual(problems, []);
    const record = (kind: 'service' | 'route', name: string, s: Record<string, unknown>): ConfigRecord => ({
      id: `${kind}-${name}`,
      tenant: 'default',
      kind,
      name,
      spec: s,
      version: 1,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    const dump = {
      credentials: [],
      subscriptions: [],
      pki: { cas: [], revoked: [] },
      revision: 1,
      tenants: [{ id: 't', name: 'default', displayName: null, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' }],
      objects: [record('service', 'svc', stored), record('route', 'r', { name: 'r', service: 'svc', paths: ['/r'] })],
    };
    const plugins = new PluginRegistry([]);
    const pools = new PoolRegistry();
    const snapshot = materializeSnapshot(planSnapshot(dump, plugins), {
      plugins,
      pools,
      secrets: box,
      logger,
      proxy: { maxBodyBytes: 1024, isTrustedPeer: () => false },
      globalInstances: [],
    });
    try {
      assert.equal(pools.size, 1);
      // The pool was keyed with the opened key: acquiring with the clear settings finds it.
      const expected: PoolSettings = {
        origin: 'https://api.internal:8443',
        connections: 256,
        connectTimeout: 5000,
        idleTimeout: 60_000,
        headersTimeout: 60_000,
        bodyTimeout: 300_000,
        tls: { ca: m.ca.certPem, servername: undefined, verify: false, cert: m.certPem, key: m.keyPem, spkiPins: undefined, sessionReuse: true },
      };
      pools.acquire(expected);
      assert.equal(pools.size, 1);
      pools.release(expected);
      assert.equal(lines.length, 1);
      const line = JSON.parse(lines[0]!);
      assert.equal(line.service, 'svc');
      assert.match(line.msg, /verification is off/);
      assert.ok(!lines.join('').includes(m.keyPem.split('\n')[1]!));
    } finally {
      snapshot.retire();
    }
    return pools.closeAll(100);
  });
});
