import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { clientHelloAlpn } from './client-hello-alpn.js';

/** The first bytes a real TLS client sends (its ClientHello), captured by a plain TCP server. */
async function clientHello(alpn: string[] | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const c = connect({ host: '127.0.0.1', port, servername: 'alpn.example.test', ...(alpn ? { ALPNProtocols: alpn } : {}) });
      c.on('error', () => undefined);
    });
  });
}

describe('ClientHello ALPN', () => {
  it("reads the protocols a real client offers, in order", async () => {
    assert.deepEqual(clientHelloAlpn(await clientHello(['acme-tls/1'])), ['acme-tls/1']);
    assert.deepEqual(clientHelloAlpn(await clientHello(['h2', 'http/1.1'])), ['h2', 'http/1.1']);
  });

  it('answers undefined without ALPN, for partial records and for bytes that are not TLS', async () => {
    const hello = await clientHello(undefined);
    assert.equal(clientHelloAlpn(hello), undefined);
    const withAlpn = await clientHello(['acme-tls/1']);
    for (let n = 0; n < withAlpn.length; n += 7) assert.equal(clientHelloAlpn(withAlpn.subarray(0, n)), undefined, `truncated at ${n}`);
    assert.equal(clientHelloAlpn(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
    assert.equal(clientHelloAlpn(Buffer.alloc(0)), undefined);
  });
});
