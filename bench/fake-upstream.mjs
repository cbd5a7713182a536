// Fake LLM upstream for `npm run bench`: answers every POST with the same small OpenAI-style
// chat.completion JSON, keep-alive, on 127.0.0.1. Run as a child process (fork, with IPC) so it has
// its own event loop; it reports its port with {type: 'ready', port} and exits when the parent goes.
//
// Standalone: `node bench/fake-upstream.mjs [port]` (default: a free port, printed on stdout).

import http from 'node:http';

const BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  }),
);

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-length': 0 });
    res.end();
    return;
  }
  // Read (and discard) the request body before answering, as a real upstream would.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    res.end(BODY);
  });
});
// Longer than any client pool's idle timeout (the gateway's default is 60 s), so the upstream never
// closes a keep-alive connection that a proxy is about to reuse.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  if (process.send) process.send({ type: 'ready', port: actual });
  else process.stdout.write(`fake upstream on http://127.0.0.1:${actual}\n`);
});

const stop = () => process.exit(0);
process.on('disconnect', stop); // the bench runner went away
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
