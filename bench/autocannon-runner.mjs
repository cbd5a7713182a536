// Load generator fallback for `npm run bench` when wrk is not installed: runs autocannon in its own
// process (so it does not share an event loop with the bench runner) and prints one JSON line.
// Usage: node bench/autocannon-runner.mjs '<json: {url, connections, duration, body}>'

import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}');
const instance = autocannon(
  {
    url: opts.url,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: opts.body,
    timeout: 10,
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`autocannon: ${err.message}\n`);
      process.exit(1);
    }
    const out = {
      rps: result.requests.total / (result.duration || opts.duration), // completed requests per second
      p50: result.latency.p50,
      p99: result.latency.p99,
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      durationS: result.duration,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
);
process.on('SIGTERM', () => {
  instance.stop();
  process.exit(143);
});
