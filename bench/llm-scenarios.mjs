// LLM scenarios of `npm run bench` (BENCH_SCENARIOS llm-chat, llm-stream): what they configure, how
// they load the gateway and what they report. bench/run.mjs wires them into its rounds, table and
// targets; see docs/benchmarks.md, "LLM".
//
// - llm-chat: non-streaming chat completions through the whole LLM path (parse, model routing,
//   translation, the provider call, the usage record) to an OpenAI-type provider, the fake upstream;
//   loaded like the other gateway scenarios (wrk, BENCH_CONNECTIONS), compared in req/s with the
//   reference proxy.
// - llm-stream: OpenAI-format streams from an Anthropic-type provider (bench/fake-anthropic-stream.mjs),
//   translated event by event, loaded by bench/llm-stream-client.mjs (sequential requests on one
//   keep-alive connection): time to first token through the gateway against the provider directly,
//   and translated frames per second on long streams.
//
// Everything is configured in its own tenant, so the default tenant's 1-route and 10,000-route
// documents of the other scenarios are left alone and the LLM routes stay served throughout.

import { join } from 'node:path';

export const LLM_SCENARIOS = ['llm-chat', 'llm-stream'];
export const LLM_TENANT = 'bench-llm';
export const LLM_CHAT_PATH = '/llm/v1/chat/completions';
/** The llm-chat request, sent by bench/wrk-llm-chat.lua (wrk) or autocannon: keep the two identical. */
export const LLM_CHAT_BODY = '{"model":"bench/gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}';
export const LLM_WRK_SCRIPT = 'wrk-llm-chat.lua';
/** The model the streaming scenarios ask the gateway for: provider `anthropic-bench`. */
export const LLM_STREAM_MODEL = 'anthropic-bench/claude-3-5-haiku';
/** llm-chat req/s ÷ reference proxy req/s must reach this. */
export const LLM_CHAT_TARGET = 0.6;
/** Time to first token the gateway adds (p50), in µs, at most. */
export const LLM_TTFT_TARGET_US = 1000;

const MESSAGES = [{ role: 'user', content: 'Hello!' }];

/**
 * The bench-llm tenant's document: an OpenAI provider on the fake upstream (which answers any POST
 * with a chat.completion), an Anthropic provider on the fake Anthropic server when it runs, and one
 * public LLM service under /llm/v1. No model catalogue: any model id passes through, without limits.
 */
export function llmDocument(openaiOrigin, anthropicOrigin) {
  const llmProviders = [{ name: 'bench', type: 'openai', baseUrl: `${openaiOrigin}/v1`, keys: { k: 'sk-bench' } }];
  if (anthropicOrigin) llmProviders.push({ name: 'anthropic-bench', type: 'anthropic', baseUrl: anthropicOrigin, keys: { k: 'sk-ant-bench' } });
  return { llmProviders, services: [{ name: 'ai', llm: {}, routes: [{ name: 'ai', paths: ['/llm/v1'] }] }] };
}

/** An OpenAI streaming request to the gateway for `deltas` text deltas (the fake provider sends max_tokens of them). */
export function gatewayStreamBody(deltas) {
  return JSON.stringify({ model: LLM_STREAM_MODEL, stream: true, max_tokens: deltas, messages: MESSAGES });
}

/** The Anthropic request the gateway sends for gatewayStreamBody(deltas), sent to the fake provider directly. */
export function directStreamBody(deltas) {
  return JSON.stringify({ model: 'claude-3-5-haiku', max_tokens: deltas, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello!' }] }], stream: true });
}

/** Text deltas in an OpenAI SSE body, and whether it ended with [DONE]. */
function readOpenAiStream(text) {
  let deltas = 0;
  let done = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') done = true;
    else if (JSON.parse(data).choices?.[0]?.delta?.content) deltas++;
  }
  return { deltas, done };
}

/**
 * Creates and configures the bench-llm tenant through the admin API, then waits until the gateway
 * serves it: a non-streaming POST answers 200 with a chat.completion and, with `anthropicOrigin`, a
 * streaming POST answers `deltas` content frames and [DONE]. `call(url, opts)` and `until(what, ms, fn)`
 * are bench/run.mjs's helpers. Throws when the gateway refuses the document or never serves it.
 */
export async function configureLlm({ gw, call, applyConfig, until, log, openaiOrigin, anthropicOrigin, deltas }) {
  const created = await call(`${gw.admin}/admin/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: LLM_TENANT }),
  });
  if (created.status !== 201 && created.status !== 409) throw new Error(`creating tenant ${LLM_TENANT} answered ${created.status}: ${created.text.slice(0, 300)}`);
  await applyConfig(gw, llmDocument(openaiOrigin, anthropicOrigin), LLM_TENANT);
  const url = `${gw.base}${LLM_CHAT_PATH}`;
  let last;
  await until(`${LLM_CHAT_PATH} to answer a chat.completion`, 60_000, async () => {
    last = await call(url, { body: LLM_CHAT_BODY });
    return last.status === 200 && last.text.includes('"chat.completion"');
  }).catch((err) => {
    throw new Error(`${err.message}${last ? ` (last answer ${last.status}: ${last.text.slice(0, 300)})` : ''}`);
  });
  if (anthropicOrigin) {
    const r = await call(url, { body: gatewayStreamBody(deltas) });
    const s = r.status === 200 ? readOpenAiStream(r.text) : undefined;
    if (!s || s.deltas !== deltas || !s.done) throw new Error(`streaming ${LLM_STREAM_MODEL} answered ${r.status}${s ? ` with ${s.deltas} content frames for ${deltas} deltas${s.done ? '' : ', no [DONE]'}` : ''}: ${r.text.slice(0, 300)}`);
  }
  log(`gateway: tenant "${LLM_TENANT}" configured: ${LLM_CHAT_PATH} → bench/gpt-4o-mini (fake upstream)${anthropicOrigin ? ` and ${LLM_STREAM_MODEL} (fake Anthropic, streaming checked)` : ''}`);
  return url;
}

/**
 * A loader for bench/run.mjs's measureOnce: runs bench/llm-stream-client.mjs for `seconds` and returns
 * the run's figures. `kind` 'ttft': req/s = streams per second, p50/p95/p99 = time to first token;
 * 'frames': req/s = OpenAI frames received per second (CPU/req becomes CPU per frame), p50/p99 = the
 * time of a whole stream. `client` is the client's options but `duration`; `origin` is where its
 * requests are counted (the access-log check). Throws when no stream completed.
 */
export function streamLoader(kind, client, { bench, runTool, countCompleted, origin }) {
  return async (seconds) => {
    const out = await runTool(process.execPath, [join(bench, 'llm-stream-client.mjs'), JSON.stringify({ ...client, duration: seconds })]);
    const r = JSON.parse(out.trim().split('\n').pop());
    countCompleted(origin, r.completedTotal);
    if (r.streams === 0) throw new Error(`no stream completed${r.firstError ? `: ${r.firstError}` : ''}`);
    const common = { non2xx: r.non2xx, errors: r.errors, ...(r.firstError ? { firstError: r.firstError } : {}), streams: r.streams, frames: r.frames };
    if (kind === 'frames') return { ...common, rps: r.framesPerSec, p50: r.streamP50, p99: r.streamP99, requests: r.frames, ttftP50: r.ttftP50 };
    return { ...common, rps: r.streamsPerSec, p50: r.ttftP50, p95: r.ttftP95, p99: r.ttftP99, requests: r.streams, streamP50: r.streamP50 };
  };
}

/**
 * The LLM scenarios' rows, as bench/run.mjs's scenario objects ({label, name, runs}); `name` is the
 * BENCH_SCENARIOS entry that selects the row.
 */
export function llmRows(cfg) {
  return {
    chat: { label: 'gateway LLM chat (HTTPS)', name: 'llm-chat', runs: [] },
    ttftGw: { label: 'gateway LLM stream, TTFT (1 conn)', name: 'llm-stream', runs: [], toolName: 'llm-stream-client' },
    ttftDirect: { label: 'provider direct LLM stream, TTFT (1 conn)', name: 'llm-stream', runs: [], toolName: 'llm-stream-client' },
    frames: { label: `gateway LLM stream, frames/s (${cfg.llmLongDeltas.toLocaleString('en-US')} deltas)`, name: 'llm-stream', runs: [], toolName: 'llm-stream-client' },
  };
}

/**
 * The time to first token the gateway adds: p50 through the gateway − p50 of the provider directly,
 * in µs, as an entry of run.mjs's `overheads` (per round with `paired`; with 3 rounds or more the
 * median of the rounds decides).
 */
export function ttftOverhead(paired, gwRow, directRow) {
  const { value, rounds, roundsMedian } = paired(gwRow, directRow, (x, y) => (x.p50 - y.p50) * 1000);
  const v = roundsMedian ?? value;
  return { name: 'LLM stream (Anthropic → OpenAI), added p50 time to first token', valueUs: v, targetUs: LLM_TTFT_TARGET_US, met: v === undefined ? undefined : v <= LLM_TTFT_TARGET_US, rounds };
}

/** The informational line on the LLM stream rows (undefined when none was measured). */
export function streamSummaryLine(gwRow, directRow, framesRow, cfg, fmtMs) {
  const parts = [];
  const ttft = (r) => `p50 ${fmtMs(r.p50)}, p95 ${fmtMs(r.p95)}`;
  if (gwRow) parts.push(`time to first token through the gateway ${ttft(gwRow)}`);
  if (directRow) parts.push(`from the provider directly ${ttft(directRow)}`);
  if (framesRow) {
    parts.push(
      `${Math.round(framesRow.rps).toLocaleString('en-US')} translated OpenAI frames/s at the client with ${cfg.llmLongDeltas.toLocaleString('en-US')}-delta streams` +
        `${framesRow.cpuUsPerReq === undefined ? '' : ` (gateway CPU ${framesRow.cpuUsPerReq.toFixed(1)} µs per frame)`}`,
    );
  }
  if (parts.length === 0) return undefined;
  return `LLM stream: ${parts.join('; ')}; ${cfg.llmDeltas} deltas per TTFT stream, sequential requests on 1 keep-alive connection (the gateway over HTTPS, the provider over HTTP)`;
}
