// Load client of the `llm-stream` scenarios of `npm run bench`: sequential streaming requests on one
// keep-alive connection (undici), for a given duration, in its own process (like wrk for the others).
//
// Usage: node bench/llm-stream-client.mjs '<json>'   with
//   url       the streaming endpoint (OpenAI chat completions on the gateway, or the fake Anthropic /v1/messages)
//   format    'openai' (frames `data: {chat.completion.chunk}`, ended by `data: [DONE]`) or
//             'anthropic' (named events; content in `content_block_delta`)
//   body      the request body (JSON text)
//   deltas    the text deltas each stream must carry (a stream with fewer counts as an error)
//   duration  seconds to run
//   ca        optional PEM file of the CA to trust (the gateway's development CA)
//
// Prints one JSON line: streams (complete ones), frames (counted: OpenAI `data:` frames but [DONE];
// Anthropic text delta events), completedTotal (responses received, errors included), streamsPerSec,
// framesPerSec, ttftP50/P95/P99 and streamP50/P99 (whole stream) in ms, elapsed (s), non2xx, errors,
// firstError. Time to first token: from just before the request is sent to the arrival of the chunk
// that completes the first frame with non-empty text (OpenAI: `choices[0].delta.content`; Anthropic:
// a `content_block_delta` whose `delta.text` is non-empty).

import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

const opts = JSON.parse(process.argv[2] ?? '{}');
for (const k of ['url', 'format', 'body', 'deltas', 'duration']) {
  if (opts[k] === undefined) throw new Error(`llm-stream-client: missing "${k}"`);
}
const dispatcher = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 30_000, connect: opts.ca ? { ca: readFileSync(opts.ca) } : {} });

const OPENAI = opts.format === 'openai';
/** What starts each counted frame, at a line start: every data frame (OpenAI), or each text delta event (Anthropic). */
const MARK = OPENAI ? '\ndata:' : '\nevent: content_block_delta';
const DONE = 'data: [DONE]';

/** Whether one complete SSE frame carries text (see the header). */
function hasText(frame) {
  const data = frame
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
  if (!data || data === '[DONE]') return false;
  if (!OPENAI && !frame.startsWith('event: content_block_delta')) return false;
  try {
    const j = JSON.parse(data);
    return OPENAI ? typeof j.choices?.[0]?.delta?.content === 'string' && j.choices[0].delta.content.length > 0 : typeof j.delta?.text === 'string' && j.delta.text.length > 0;
  } catch {
    return false;
  }
}

/**
 * One streaming request: { ttft, total, marks, done } (ms, ms, counted frames, whether OpenAI's [DONE]
 * came). Frames are counted with indexOf over the raw text (a mark split across two chunks counts once).
 */
async function oneStream() {
  const t0 = performance.now();
  const res = await request(opts.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: opts.body, dispatcher, headersTimeout: 30_000, bodyTimeout: 30_000 });
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }
  let ttft;
  let pending = ''; // text not yet split into frames, until the first text frame is found
  let carry = '\n'; // the end of the text so far, shorter than MARK; the stream starts at a line start
  let tail = ''; // the last bytes, for the [DONE] check
  let marks = 0;
  for await (const chunk of res.body) {
    const s = chunk.toString('latin1'); // ASCII patterns only; bytes of other characters do not matter
    const text = carry + s;
    for (let i = text.indexOf(MARK); i !== -1; i = text.indexOf(MARK, i + MARK.length)) marks++;
    carry = text.slice(-(MARK.length - 1));
    if (ttft === undefined) {
      pending += s;
      let end;
      while (ttft === undefined && (end = pending.indexOf('\n\n')) !== -1) {
        if (hasText(pending.slice(0, end))) ttft = performance.now() - t0;
        pending = pending.slice(end + 2);
      }
      if (ttft !== undefined) pending = '';
    }
    tail = (tail + s).slice(-(DONE.length + 4));
  }
  const total = performance.now() - t0;
  const done = OPENAI && tail.includes(DONE);
  return { status: 200, ttft, total, marks: done ? marks - 1 : marks, done };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ttfts = [];
const totals = [];
let frames = 0;
let streams = 0;
let completed = 0;
let non2xx = 0;
let errors = 0;
let firstError;
const start = performance.now();
const deadline = start + opts.duration * 1000;
while (performance.now() < deadline) {
  try {
    const r = await oneStream();
    completed++;
    if (r.status !== 200) {
      non2xx++;
      firstError ??= `HTTP ${r.status}: ${r.text.slice(0, 200)}`;
      continue;
    }
    // A stream that lacks text, deltas (OpenAI: at least one frame per delta) or OpenAI's [DONE] did
    // not complete: an error, not a sample.
    if (r.ttft === undefined || r.marks < opts.deltas || (OPENAI && !r.done)) {
      errors++;
      firstError ??= `incomplete stream: ${r.marks} ${OPENAI ? 'data frames' : 'text deltas'} for ${opts.deltas} deltas${r.ttft === undefined ? ', no text' : ''}${OPENAI && !r.done ? ', no [DONE]' : ''}`;
      continue;
    }
    streams++;
    frames += r.marks;
    ttfts.push(r.ttft);
    totals.push(r.total);
  } catch (err) {
    errors++;
    firstError ??= err.code ?? err.message;
    if (errors > 100 && streams === 0) break;
  }
}
const elapsed = (performance.now() - start) / 1000;
await dispatcher.close();

ttfts.sort((a, b) => a - b);
totals.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    streams,
    frames,
    completedTotal: completed,
    streamsPerSec: streams / elapsed,
    framesPerSec: frames / elapsed,
    ttftP50: percentile(ttfts, 0.5),
    ttftP95: percentile(ttfts, 0.95),
    ttftP99: percentile(ttfts, 0.99),
    streamP50: percentile(totals, 0.5),
    streamP99: percentile(totals, 0.99),
    elapsed,
    non2xx,
    errors,
    ...(firstError ? { firstError } : {}),
  })}\n`,
);
