// TLS load client for the mutual-TLS scenarios of `npm run bench`: wrk cannot present a client
// certificate or send a server name of its choice, so these scenarios use this instead (for both
// sides of each comparison). Runs in its own process; prints one JSON line.
//
// Usage: node bench/tls-load.mjs '<json>' with
//   mode         "keepalive": `connections` persistent connections (undici Pool, pipelining 1), each
//                sending the next request as soon as the previous response is read;
//                "handshake": `connections` concurrent loops, each opening a new TLS connection per
//                request (full handshake, no session offered), one request with `Connection: close`,
//                reading the response until the server closes
//   host, port   where to connect (127.0.0.1)
//   servername   SNI; hostHeader: the Host header (defaults to servername)
//   path, body   the request: POST with Content-Type: application/json
//   ca           PEM file of the server's CA
//   verifyServer true (default): verify the server's certificate against `ca` and its name;
//                false: don't (as wrk doesn't). Node's client-side check of the server certificate
//                (tls.checkServerIdentity on getPeerCertificate(true)) costs about half a
//                millisecond of CPU per connection here, which would make a new-connection-per-
//                request client the bottleneck
//   cert, key    PEM files of the client certificate and key (omit: no client certificate)
//   connections  concurrency; duration: seconds
//
// Output: rps (responses completed within the duration ÷ duration), p50/p99 in ms (keepalive: from
// sending the request to the end of the response; handshake: from connect() to the server's close,
// i.e. TCP + TLS handshake + request + response), requests, non2xx, errors, completedTotal (also
// counting responses that arrived after the deadline, for the access-log check), resumed (connections
// that resumed a session: must be 0 in handshake mode), tls (protocol, cipher, group, ALPN of the
// first connection), ticketsPerConnection (session tickets the server sent, handshake mode).

import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { Pool } from 'undici';

const o = JSON.parse(process.argv[2] ?? '{}');
for (const k of ['mode', 'host', 'port', 'servername', 'path', 'body', 'ca', 'connections', 'duration']) {
  if (o[k] === undefined) {
    process.stderr.write(`tls-load: missing option ${k}\n`);
    process.exit(2);
  }
}
const ca = readFileSync(o.ca);
const cert = o.cert ? readFileSync(o.cert) : undefined;
const key = o.key ? readFileSync(o.key) : undefined;
const hostHeader = o.hostHeader ?? o.servername;
const verifyServer = o.verifyServer !== false;
const body = Buffer.from(o.body);
const tlsOpts = {
  ...(verifyServer ? { ca } : {}),
  ...(cert ? { cert, key } : {}),
  servername: o.servername,
  rejectUnauthorized: verifyServer,
  ALPNProtocols: ['http/1.1'],
};
// One secure context for every connection of this client: given ca/cert/key directly, tls.connect
// builds a new context (parsing the key and building a CA store) for each connection, which would
// cost the client more than the handshake itself. Without `ca` the server's chain fails OpenSSL's
// verification at once, and Node then skips its costly name check (see verifyServer).
const secureContext = createSecureContext({ ...(verifyServer ? { ca } : {}), ...(cert ? { cert, key } : {}) });
const connectOpts = { secureContext, servername: o.servername, rejectUnauthorized: verifyServer, ALPNProtocols: ['http/1.1'] };

const latencies = []; // ms, responses completed within the duration
let requests = 0;
let completedTotal = 0;
let non2xx = 0;
let errors = 0;
let firstError;
let resumed = 0;
let tickets = 0;
let connections = 0;
let tlsInfo;

const start = performance.now();
const deadline = start + o.duration * 1000;
const done = () => performance.now() >= deadline;

function noteError(err) {
  errors++;
  firstError ??= err?.message ?? String(err);
}

function describe(socket) {
  const c = socket.getCipher();
  const g = socket.getEphemeralKeyInfo?.();
  return `${socket.getProtocol()} ${c?.standardName ?? c?.name}${g?.name ? ` ${g.name}` : ''}${socket.alpnProtocol ? ` ALPN ${socket.alpnProtocol}` : ''}`;
}

function record(t0, status) {
  const t1 = performance.now();
  completedTotal++;
  if (t1 > deadline) return;
  requests++;
  latencies.push(t1 - t0);
  if (status < 200 || status > 299) non2xx++;
}

// ---------------------------------------------------------------------------------------------------
// Keep-alive: undici Pool, one request in flight per connection.

async function keepalive() {
  const pool = new Pool(`https://${o.host}:${o.port}`, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    connect: { ...tlsOpts, maxCachedSessions: 0 },
  });
  pool.on('connect', (_origin, targets) => {
    connections++;
    void targets;
  });
  const headers = { host: hostHeader, 'content-type': 'application/json' };
  const loop = async () => {
    while (!done()) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: o.path, method: 'POST', headers, body });
        await res.body.dump({ limit: Infinity });
        record(t0, res.statusCode);
      } catch (err) {
        noteError(err);
        if (!done()) await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  // The negotiated parameters, on one more connection made the same way.
  tlsInfo = await new Promise((resolve) => {
    const s = tlsConnect({ host: o.host, port: o.port, ...tlsOpts }, () => {
      resolve(describe(s));
      s.destroy();
    });
    s.once('error', (err) => resolve(`error: ${err.message}`));
  });
  await pool.close();
}

// ---------------------------------------------------------------------------------------------------
// Handshakes: a new connection per request.

const request = Buffer.concat([
  Buffer.from(`POST ${o.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
  body,
]);

function oneConnection() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let status = 0;
    let head = '';
    let settled = false;
    let sessions = 0;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) noteError(err);
      else if (status === 0) noteError(new Error('connection closed without a response'));
      else record(t0, status);
      tickets += sessions;
      socket.destroy();
      resolve();
    };
    const socket = tlsConnect({ host: o.host, port: o.port, ...connectOpts }, () => {
      connections++;
      if (socket.isSessionReused()) resumed++;
      if (tlsInfo === undefined) tlsInfo = describe(socket);
      socket.write(request);
    });
    const timer = setTimeout(() => finish(new Error('timeout (10 s)')), 10_000);
    socket.on('session', () => sessions++);
    socket.on('data', (chunk) => {
      if (status !== 0) return;
      head += chunk.toString('latin1', 0, Math.min(chunk.length, 64));
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) status = Number(m[1]);
    });
    // The server closes after the response (Connection: close): that is the end of this request.
    socket.once('end', () => finish());
    socket.once('close', () => finish());
    socket.once('error', (err) => finish(err));
  });
}

async function handshakes() {
  const loop = async () => {
    while (!done()) await oneConnection();
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
}

// ---------------------------------------------------------------------------------------------------

try {
  if (o.mode === 'keepalive') await keepalive();
  else if (o.mode === 'handshake') await handshakes();
  else throw new Error(`unknown mode ${o.mode}`);
} catch (err) {
  process.stderr.write(`tls-load: ${err.stack ?? err.message}\n`);
  process.exit(1);
}

latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length === 0 ? undefined : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]);
const out = {
  rps: requests / o.duration,
  p50: pct(50),
  p99: pct(99),
  requests,
  non2xx,
  errors,
  completedTotal,
  connections,
  resumed,
  tls: tlsInfo,
  ...(o.mode === 'handshake' ? { ticketsPerConnection: connections > 0 ? tickets / connections : 0 } : {}),
  ...(firstError ? { firstError } : {}),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
