/**
 * ACME with two nodes on one PostgreSQL database: the CA validates against node A only, while either
 * node may place the order (the challenge answer is in the shared store). A lease lets exactly one
 * node order; the other, re-checking storage after the lease, finds the certificate and does not
 * order again; both nodes serve the same certificate. Needs PostgreSQL and pebble (mandatory in CI).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { request } from 'undici';
import { postgresTestUrl, withTestSchema } from '../../src/storage/postgres/test-database.js';
import { startGateway, waitFor, type TestGateway } from './harness.js';
import { pebbleInstalled, startPebble, type Pebble } from '../fixtures/acme/pebble.js';

const url = await postgresTestUrl();
const HOST = 'cluster.acme.test';

function servedSerial(port: number, ca: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername: HOST, ca }, () => {
      resolve(s.authorized ? s.getPeerCertificate().serialNumber : undefined);
      s.end();
    });
    s.on('error', () => resolve(undefined));
  });
}

const skip = url === undefined ? 'PostgreSQL not reachable' : !pebbleInstalled() ? 'pebble not installed' : false;

describe('ACME on two nodes sharing PostgreSQL', { skip }, () => {
  let schema: ReturnType<typeof withTestSchema>;
  let a: TestGateway;
  let b: TestGateway;
  let pebble: Pebble;

  before(async () => {
    schema = withTestSchema(url!);
    const env = { PORTCULLIS_TEST_SCHEMA: schema.schema, PORTCULLIS_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') };
    const settings = { databaseUrl: url, configPollInterval: 300, pki: { acme: { checkInterval: 100, retryBase: 500, retryMax: 2000 } } };
    a = await startGateway({ settings, env });
    b = await startGateway({ settings, env });
    pebble = await startPebble({ httpPort: Number(new URL(a.started.httpUrl!).port), tlsPort: Number(new URL(a.httpsUrl).port) });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await pebble?.stop();
    await schema?.drop();
  });

  it('orders once, from whichever node takes the lease, and both nodes serve the result', async () => {
    await b.apply({ domains: [{ name: 'cluster', hosts: [HOST], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem } }] });
    const root = await pebble.issuingRoot();
    const ports = [a, b].map((g) => Number(new URL(g.httpsUrl).port));
    let serials: Array<string | undefined> = [];
    await waitFor(async () => {
      serials = await Promise.all(ports.map((p) => servedSerial(p, root)));
      return serials.every((s) => s !== undefined);
    }, 30_000, 'both nodes to serve the ACME certificate');
    assert.equal(serials[0], serials[1], 'the same certificate on both nodes');
    // Both managers looked for due certificates every 100 ms meanwhile; give them time to misbehave.
    await new Promise((r) => setTimeout(r, 1500));
    const orders = async (g: TestGateway) => {
      const text = await (await request(`${g.adminUrl}/metrics`, { dispatcher: g.agent, headers: { authorization: `Bearer ${g.token}` } })).body.text();
      return Number(/^portcullis_acme_orders_total\{result="issued"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    assert.equal((await orders(a)) + (await orders(b)), 1, 'exactly one order across the cluster');
    assert.deepEqual(await Promise.all(ports.map((p) => servedSerial(p, root))), serials, 'no second order replaced it');
  });
});
