// Fake Anthropic Messages API for `npm run bench`: POST /v1/messages. With `"stream": true` it answers
// with Anthropic's SSE events (message_start, content_block_start, ping, N content_block_delta
// text_delta events, content_block_stop, message_delta with usage, message_stop), N = the request's
// `max_tokens` (at most 1,000,000), so the bench asks for short or long streams. Each event is one
// write, with no delay: the stream goes out as fast as the socket takes it (a write the socket does not
// take at once waits for 'drain'). Without `stream` it answers one small `message` JSON.
//
// Run as a child process (fork, with IPC) so it has its own event loop; it reports its port with
// {type: 'ready', port} and exits when the parent goes. Standalone: `node bench/fake-anthropic-stream.mjs [port]`.

import http from 'node:http';

const MAX_DELTAS = 1_000_000;
const TOKEN = ' token';

const event = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
// The same for every stream: built once.
const BLOCK_START = event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) + event('ping', { type: 'ping' });
const DELTA = Buffer.from(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: TOKEN } }));
const BLOCK_STOP = event('content_block_stop', { type: 'content_block_stop', index: 0 });
const USAGE_IN = 12;

function messageStart(model) {
  return event('message_start', {
    type: 'message_start',
    message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: USAGE_IN, output_tokens: 1 } },
  });
}

function messageEnd(n) {
  return (
    event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: n } }) +
    event('message_stop', { type: 'message_stop' })
  );
}

/** Resolves when `res` can take more, or has closed (then 'drain' never comes). */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function stream(res, model, n) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(messageStart(model));
  res.write(BLOCK_START);
  for (let i = 0; i < n; i++) {
    if (!res.write(DELTA)) {
      await drained(res);
      if (res.destroyed) return; // the client went away
    }
  }
  res.write(BLOCK_STOP);
  res.end(messageEnd(n));
}

function message(res, model, n) {
  const body = JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: TOKEN.repeat(Math.min(n, 64)).trim() }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: USAGE_IN, output_tokens: Math.min(n, 64) },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function fail(res, status, message) {
  const body = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/messages') {
    fail(res, 404, `${req.method} ${req.url}: only POST /v1/messages`);
    req.resume();
    return;
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      fail(res, 400, 'body is not JSON');
      return;
    }
    const n = Math.min(MAX_DELTAS, Math.max(1, Math.floor(Number(body.max_tokens) || 1)));
    const model = typeof body.model === 'string' ? body.model : 'claude-3-5-haiku';
    if (body.stream === true) stream(res, model, n).catch(() => res.destroy());
    else message(res, model, n);
  });
});
// Longer than any client pool's idle timeout (the gateway's default is 60 s).
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  if (process.send) process.send({ type: 'ready', port: actual });
  else process.stdout.write(`fake Anthropic (streaming) on http://127.0.0.1:${actual}\n`);
});

const stop = () => process.exit(0);
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
