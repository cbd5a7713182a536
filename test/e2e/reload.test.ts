import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';

describe('live reload', () => {
  let gw: TestGateway;
  let a: TestUpstream;
  let b: TestUpstream;
  let stream: TestUpstream;

  before(async () => {
    gw = await startGateway();
    a = await startUpstream((_req, res) => res.end('A'));
    b = await startUpstream((_req, res) => res.end('B'));
    stream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`chunk ${++n}\n`);
        if (n === 10) {
          clearInterval(t);
          res.end();
        }
      }, 100);
    });
  });

  after(async () => {
    await gw.stop();
    await Promise.all([a.close(), b.close(), stream.close()]);
  });

  const doc = (target: string, extraRoutes: number) => ({
    services: [
      {
        name: 'svc',
        upstream: { targets: [{ url: target }] },
        routes: [{ name: 'main', paths: ['/main'] }, ...Array.from({ length: extraRoutes }, (_, i) => ({ name: `extra-${i}`, paths: [`/extra/${i}`] }))],
      },
      { name: 'stream', upstream: { targets: [{ url: stream.url }] }, routes: [{ name: 'stream', paths: ['/stream'] }] },
    ],
  });

  it('applies changes within a second with no failed request in flight', async () => {
    await gw.apply(doc(a.url, 0));
    let stop = false;
    const failures: string[] = [];
    const bodies = new Set<string>();
    let count = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const r = await request(`${gw.httpsUrl}/main`, { dispatcher: gw.agent });
          const text = await r.body.text();
          if (r.statusCode !== 200) failures.push(`${r.statusCode} ${text}`);
          else bodies.add(text);
          count++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    for (let i = 0; i < 10; i++) {
      const target = i % 2 === 0 ? b.url : a.url;
      const t0 = Date.now();
      await gw.apply(doc(target, i * 50));
      // The change is visible to the next request within a second.
      let seen = '';
      while (Date.now() - t0 < 1000) {
        seen = await (await request(`${gw.httpsUrl}/main`, { dispatcher: gw.agent })).body.text();
        if (seen === (i % 2 === 0 ? 'B' : 'A')) break;
      }
      assert.equal(seen, i % 2 === 0 ? 'B' : 'A', `change ${i} not served within a second`);
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(count > 100, `only ${count} requests ran`);
    assert.deepEqual([...bodies].sort(), ['A', 'B']);
  });

  it('lets a streaming response finish when its route and upstream are removed mid-stream', async () => {
    await gw.apply(doc(a.url, 0));
    const r = await request(`${gw.httpsUrl}/stream`, { dispatcher: gw.agent });
    assert.equal(r.statusCode, 200);
    const done = r.body.text();
    await new Promise((res) => setTimeout(res, 250));
    await gw.apply({ services: [{ name: 'svc', upstream: { targets: [{ url: a.url }] }, routes: [{ name: 'main', paths: ['/main'] }] }] });
    const gone = await request(`${gw.httpsUrl}/stream`, { dispatcher: gw.agent });
    assert.equal(gone.statusCode, 404);
    await gone.body.dump();
    const text = await done;
    assert.equal(text.trim().split('\n').length, 10);
  });
});
