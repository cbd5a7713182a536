// Minimal reference reverse proxy for `npm run bench`: the floor that Node + undici reach with no
// gateway features. HTTPS server -> one undici Pool to the upstream, one header check, response
// streamed back. Same pool settings as the gateway's defaults (256 connections, pipelining 1,
// 60 s idle keep-alive), so the comparison isolates what the gateway adds.
//
// Usage: node bench/reference-proxy.mjs <upstreamOrigin> <cert.pem> <key.pem> [port]
// Run by the bench as a forked child: reports {type: 'ready', port} over IPC, exits when the parent goes.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Pool } from 'undici';

const [origin, certFile, keyFile, portArg] = process.argv.slice(2);
if (!origin || !certFile || !keyFile) {
  process.stderr.write('usage: node bench/reference-proxy.mjs <upstreamOrigin> <cert.pem> <key.pem> [port]\n');
  process.exit(2);
}

const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

// Hop-by-hop headers are not forwarded (undici also refuses some of them); host is set by undici.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);
function strip(headers) {
  const out = {};
  for (const k in headers) if (!HOP.has(k)) out[k] = headers[k];
  return out;
}

const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  // The one policy check: a request must say what it sends.
  if (!req.headers['content-type']) {
    res.writeHead(415, { 'content-type': 'application/json' });
    res.end('{"error":"content-type required"}');
    return;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream(
    { path: req.url, method: req.method, headers: strip(req.headers), body: hasBody ? req : null, opaque: res },
    ({ statusCode, headers, opaque }) => {
      opaque.writeHead(statusCode, strip(headers));
      return opaque; // undici writes the upstream body straight into the client response
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"bad gateway"}');
      } else {
        res.destroy(err);
      }
    },
  );
});
server.keepAliveTimeout = 65_000;

server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const port = server.address().port;
  if (process.send) process.send({ type: 'ready', port });
  else process.stdout.write(`reference proxy on https://127.0.0.1:${port} -> ${origin}\n`);
});

const stop = () => process.exit(0);
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
