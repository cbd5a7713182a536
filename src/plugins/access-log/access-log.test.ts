import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../pipeline/context.js';
import { accessLogLine } from './access-log.js';

/** The fields accessLogLine reads, with the strings under test in the client-controlled ones. */
function context(path: string, host: string): RequestContext {
  return {
    res: { headersSent: true, statusCode: 200, writableFinished: true },
    req: { method: 'GET', httpVersion: '1.1' },
    requestId: 'req-1',
    host,
    path,
    startedAt: 10,
    startedAtEpoch: Date.UTC(2026, 10, 22, 23, 0, 0),
    upstreamStartedAt: 0,
    upstreamHeadersAt: 0,
    route: { tenant: 'acme', name: 'r', service: 's' },
    caller: undefined,
    upstreamTarget: 'http://127.0.0.1:9',
    bytesIn: 1,
    bytesOut: 2,
    clientIp: '192.0.2.1',
    tlsSocket: undefined,
    clientCert: undefined,
    error: undefined,
  } as unknown as RequestContext;
}

describe('accessLogLine', () => {
  it('writes one JSON line whose strings read back exactly, whatever they contain', () => {
    const tricky = ['/plain', '/a"quote', '/back\\slash', '/tab\there', '/nl\nline', '/ctl\u0001', '/é/日本', '/emoji\u{1F600}', '/lone\ud800', '/lone\udc00end', '/\u2028\u2029'];
    for (const path of tricky) {
      const line = accessLogLine(context(path, `${path.slice(1)}.example`), 12.5);
      assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'), `one line for ${JSON.stringify(path)}`);
      const parsed = JSON.parse(line);
      assert.equal(parsed.path, path);
      assert.equal(parsed.host, `${path.slice(1)}.example`);
      assert.equal(line.includes(JSON.stringify(path)), true, 'the same escapes as JSON.stringify');
    }
  });

  it('has every field, null when unknown', () => {
    const parsed = JSON.parse(accessLogLine(context('/x', 'h'), 12.5));
    assert.deepEqual(Object.keys(parsed), [
      'time', 'log', 'msg', 'requestId', 'method', 'httpVersion', 'host', 'path', 'status', 'aborted', 'durationMs', 'upstreamMs',
      'tenant', 'route', 'service', 'upstream', 'callerTenant', 'application', 'credential', 'authMethod', 'bytesIn', 'bytesOut',
      'clientIp', 'tlsVersion', 'tlsCipher', 'clientCert', 'clientCertFingerprint', 'error',
    ]);
    assert.equal(parsed.time, '2026-11-22T23:00:00.000Z');
    assert.equal(parsed.durationMs, 2.5);
    assert.equal(parsed.application, null);
  });
});
