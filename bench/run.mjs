// `npm run bench`: throughput, latency and memory of the gateway next to a minimal reference proxy,
// side by side in one run, on loopback only. See docs/benchmarks.md.
//
// Processes (each its own event loop): fake upstream, reference proxy, gateway, load generator (wrk,
// or autocannon when wrk is missing). This runner only orchestrates; it is idle while load runs.
// The mutual-TLS scenarios (bench/mtls-setup.mjs) add nginx, when installed, for the handshake
// comparison, and use bench/tls-load.mjs as their load generator (it presents a client certificate
// and the server name of a tenant domain, which wrk cannot). The LLM scenarios (bench/llm-scenarios.mjs)
// add a fake Anthropic provider (bench/fake-anthropic-stream.mjs) and, for streams, their own load
// client (bench/llm-stream-client.mjs).
//
// Environment:
//   BENCH_DURATION     seconds per measured run (default 8)
//   BENCH_WARMUP       seconds of warm-up before each measured run (default 2; 0 to skip)
//   BENCH_CONNECTIONS  concurrent keep-alive connections (default 50)
//   BENCH_ROUTES       routes in the large-config scenario (default 10000)
//   BENCH_ROUNDS       rounds of all scenarios, interleaved; each scenario reports its median run
//                      by req/s among the runs not disturbed by outside load (default 1; 3 or 5
//                      on a shared machine)
//   BENCH_SCENARIOS    comma-separated subset of upstream,reference,gateway-1,gateway-many,
//                      mtls-keepalive,plain-keepalive,handshakes-gateway,handshakes-nginx,
//                      auth-none,auth-apikey,auth-jwt,llm-chat,llm-stream (default all)
//   BENCH_APPS         applications and API keys configured for the auth-* scenarios (default 100000)
//   BENCH_AUTH_CONNECTIONS  connections of the auth-* scenarios, which compare latency (default 1)
//   BENCH_HANDSHAKE_CONNECTIONS  concurrent new-connection loops in the handshake scenarios (default 16)
//   BENCH_LLM_DELTAS   text deltas per stream in the llm-stream time-to-first-token runs (default 32)
//   BENCH_LLM_LONG_DELTAS  text deltas per stream in the llm-stream frames/s run (default 20000)
//   BENCH_TOOL         wrk | autocannon (default: wrk when installed)
//   BENCH_IDLE_WAIT    seconds to wait, before each scenario, for other processes to quiet down
//                      (below 25% of a core) (default 30; 0 to not wait)
//   BENCH_PROFILE      1 to run the gateway with --cpu-prof (profile in bench/results/profiles/)
//   BENCH_KEEP         1 to keep the temporary data directory (logs, access log) for inspection
//   BENCH_PIN          1 to pin the servers under test (gateway, reference proxy, nginx) to CPU 0 and
//                      the load side (wrk and the other load tools, fake upstreams) to CPU 1, with
//                      taskset: steadier figures on a noisy host (needs 2 CPUs or more)
//
// Exit code: 0 when every scenario was measured (whether or not targets are met), 1 when something
// could not run (the table still shows what was measured).

import { spawn, fork, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, mkdtempSync, statSync, createReadStream } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { AUTH_PATHS, AUTH_TENANT, setupAccess } from './access-setup.mjs';
import { MTLS_HOST, PLAIN_HOST, MTLS_TENANT, makePki, tenantDocument, nginxConf, STRICT_TLS12_CIPHERS, TLS13_CIPHERSUITES, STRICT_CURVES } from './mtls-setup.mjs';
import { LLM_SCENARIOS, LLM_CHAT_BODY, LLM_WRK_SCRIPT, LLM_CHAT_TARGET, configureLlm, gatewayStreamBody, directStreamBody, streamLoader, llmRows, ttftOverhead, streamSummaryLine } from './llm-scenarios.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');
const CHAT_PATH = '/v1/chat/completions';
const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'; // = bench/wrk-post.lua
const ALL_SCENARIOS = ['upstream', 'reference', 'gateway-1', 'gateway-many', 'mtls-keepalive', 'plain-keepalive', 'handshakes-gateway', 'handshakes-nginx', 'auth-none', 'auth-apikey', 'auth-jwt', ...LLM_SCENARIOS];
const AUTH_SCENARIOS = ['auth-none', 'auth-apikey', 'auth-jwt'];

function envNum(name, dflt, min = 0) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}`);
  return n;
}

const cfg = {
  duration: envNum('BENCH_DURATION', 8, 1),
  warmup: envNum('BENCH_WARMUP', 2, 0),
  connections: Math.floor(envNum('BENCH_CONNECTIONS', 50, 1)),
  routes: Math.floor(envNum('BENCH_ROUTES', 10_000, 2)),
  rounds: Math.floor(envNum('BENCH_ROUNDS', 1, 1)),
  tool: process.env.BENCH_TOOL || (hasCommand('wrk') ? 'wrk' : 'autocannon'),
  keep: process.env.BENCH_KEEP === '1',
  idleWait: envNum('BENCH_IDLE_WAIT', 30, 0),
  profile: process.env.BENCH_PROFILE === '1',
  pin: process.env.BENCH_PIN === '1',
  nproc: cpus().length,
  handshakeConnections: Math.floor(envNum('BENCH_HANDSHAKE_CONNECTIONS', 16, 1)),
  apps: Math.floor(envNum('BENCH_APPS', 100_000, 1)),
  authConnections: Math.floor(envNum('BENCH_AUTH_CONNECTIONS', 1, 1)),
  llmDeltas: Math.floor(envNum('BENCH_LLM_DELTAS', 32, 1)),
  llmLongDeltas: Math.floor(envNum('BENCH_LLM_LONG_DELTAS', 20_000, 1)),
  scenarios: new Set((process.env.BENCH_SCENARIOS || ALL_SCENARIOS.join(',')).split(',').map((x) => x.trim())),
};
for (const sc of cfg.scenarios) {
  if (!ALL_SCENARIOS.includes(sc)) throw new Error(`BENCH_SCENARIOS: unknown scenario ${sc} (${ALL_SCENARIOS.join(', ')})`);
}
const wants = (name) => cfg.scenarios.has(name);
const MTLS_SCENARIOS = ['mtls-keepalive', 'plain-keepalive', 'handshakes-gateway', 'handshakes-nginx'];
const wantsMtls = MTLS_SCENARIOS.some(wants);
const wantsAuth = AUTH_SCENARIOS.some(wants);
const wantsLlm = LLM_SCENARIOS.some(wants);
const wantsGateway = ['gateway-1', 'gateway-many', 'mtls-keepalive', 'plain-keepalive', 'handshakes-gateway', ...AUTH_SCENARIOS, ...LLM_SCENARIOS].some(wants);
if (cfg.tool !== 'wrk' && cfg.tool !== 'autocannon') throw new Error('BENCH_TOOL must be wrk or autocannon');
if (cfg.pin && (cfg.nproc < 2 || !hasCommand('taskset'))) throw new Error('BENCH_PIN=1 needs 2 CPUs or more and taskset (util-linux)');

/** With BENCH_PIN, where each side runs. */
const SERVER_CPU = 0;
const LOAD_CPU = 1;

/** A command line run on `cpu` when pinning (taskset), as is otherwise. */
function onCpu(cpu, cmd, args) {
  return cfg.pin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Pins a running process and all its threads to `cpu` when pinning (threads it starts later inherit it). */
function pinProcess(pid, cpu) {
  if (cfg.pin) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------
// Child processes: every one is tracked here and ended on exit, error and SIGINT/SIGTERM.

const children = new Set();

function track(child, name) {
  // Ctrl-C while the run loop was about to start something: do not let it outlive the bench.
  if (interrupted) child.kill('SIGKILL');
  child.benchName = name;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

async function stopChild(child, graceMs = 5000) {
  if (!child || !alive(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (alive(child)) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
}

// Last resort: the process is exiting with children still running (synchronous, so SIGKILL).
process.on('exit', () => {
  for (const c of children) if (alive(c)) c.kill('SIGKILL');
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130); // second signal: the exit hook above kills what is left
    interrupted = true;
    log(`${sig}: stopping child processes`);
    stopAll().finally(() => {
      cleanupDir();
      process.exit(130);
    });
  });
}

/** Forks one of the bench's own servers and waits for its {type: 'ready', port} message. */
function forkServer(name, script, args) {
  const child = track(fork(join(BENCH, script), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }), name);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s`)), 10_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m && m.type === 'ready') {
        pinProcess(child.pid, name === 'reference proxy' ? SERVER_CPU : LOAD_CPU);
        resolve({ child, port: m.port });
      }
      else reject(new Error(`${name}: unexpected message ${JSON.stringify(m)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start (code ${code}, signal ${signal})`));
    });
  });
}

/** Free TCP ports on 127.0.0.1: bound together (so they differ), then released. */
async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Peak resident set size (VmHWM) of a live process, in MB; undefined where /proc is missing. */
function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
function currentRssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLK_TCK = Number(tryExec('getconf CLK_TCK')) || 100;
/** CPU time (user + system) a live process has used so far, in seconds. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // #14 utime, #15 stime
  } catch {
    return undefined;
  }
}

/** System-wide CPU ticks from /proc/stat: busy (all but idle and iowait) and total. */
function systemTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process's reaped children (cutime + cstime): where wrk's CPU lands once it exits. */
function reapedChildrenCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / CLK_TCK; // #16 cutime, #17 cstime
  } catch {
    return undefined;
  }
}

function tryExec(cmd) {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers (setup and checks only; never used for the measurement itself).

let dispatcher = new Agent({ connections: 4 });
function trust(caPem) {
  const previous = dispatcher;
  dispatcher = new Agent({ connections: 4, connect: { ca: caPem } });
  previous.close().catch(() => {});
}

/** Requests completed per origin (load runs, warm-ups and checks), to compare with the access log. */
const completed = new Map();
function countCompleted(url, n) {
  const origin = new URL(url).origin;
  completed.set(origin, (completed.get(origin) ?? 0) + n);
}
function sentTo(url) {
  return completed.get(new URL(url).origin) ?? 0;
}

async function call(url, { method = 'POST', headers = { 'content-type': 'application/json' }, body = BODY, timeoutMs = 60_000 } = {}) {
  const res = await request(url, { method, headers, body, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  countCompleted(url, 1);
  return { status: res.statusCode, text: await res.body.text() };
}

/** A chat completion through `url` must come back 200 with the fake upstream's body. */
async function expectChat(url) {
  const r = await call(url);
  if (r.status !== 200 || !r.text.includes('"chat.completion"')) {
    throw new Error(`POST ${url} answered ${r.status}: ${r.text.slice(0, 300)}`);
  }
}

/** The TLS version and cipher a default OpenSSL client (like wrk's) negotiates with an HTTPS URL. */
function tlsInfo(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      const c = socket.getCipher();
      resolve(`${socket.getProtocol()} ${c.standardName ?? c.name}`);
      socket.end();
    });
    socket.once('error', () => resolve(undefined));
  });
}

async function until(what, timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v;
    } catch (err) {
      if (err.fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------------
// Load generation.

function toMs(value, unit) {
  const n = Number(value);
  switch (unit) {
    case 'us':
      return n / 1000;
    case 'ms':
      return n;
    case 's':
      return n * 1000;
    case 'm':
      return n * 60_000;
    default:
      throw new Error(`unknown wrk time unit ${unit}`);
  }
}

export function parseWrk(out) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s*50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const total = /(\d+) requests in/.exec(out);
  if (!rps || !p50 || !p99 || !total) throw new Error(`cannot parse wrk output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p50: toMs(p50[1], p50[2]),
    p99: toMs(p99[1], p99[2]),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

function runTool(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(...onCpu(LOAD_CPU, cmd, args), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }), cmd);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} failed (code ${code}, signal ${signal}): ${err || out}`));
    });
  });
}

/** wrk (with `script`) or autocannon (with `body`, the same request) against `url`; the two must agree. */
async function load(url, seconds, { connections = cfg.connections, headers = {}, script = 'wrk-post.lua', body = BODY } = {}) {
  let r;
  if (cfg.tool === 'wrk') {
    const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const out = await runTool('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', ...h, '-s', join(BENCH, script), url]);
    r = parseWrk(out);
  } else {
    const opts = JSON.stringify({ url, connections, duration: seconds, body, headers });
    const out = await runTool(process.execPath, [join(BENCH, 'autocannon-runner.mjs'), opts]);
    r = JSON.parse(out.trim().split('\n').pop());
  }
  countCompleted(url, r.requests);
  return r;
}

/**
 * The mutual-TLS scenarios' load generator (bench/tls-load.mjs, its own process): `opts` as that file
 * describes (mode, host, port, servername, certificate files…). `origin` is the data-plane origin the
 * requests are counted against (for the gateway's access-log check).
 */
async function loadTls(opts, seconds, origin) {
  const args = JSON.stringify({ path: CHAT_PATH, body: BODY, ...opts, duration: seconds });
  const out = await runTool(process.execPath, [join(BENCH, 'tls-load.mjs'), args]);
  const r = JSON.parse(out.trim().split('\n').pop());
  if (origin) countCompleted(origin, r.completedTotal);
  if (r.resumed > 0) throw new Error(`${r.resumed} of ${r.connections} connections resumed a TLS session: these are not full handshakes`);
  if (r.requests === 0) throw new Error(`no request completed${r.firstError ? `: ${r.firstError}` : ''}`);
  return r;
}

/**
 * Waits (up to BENCH_IDLE_WAIT seconds) until processes outside the bench use less than a quarter of
 * a core, so that a colleague's test run does not land in a measurement. Returns the last sample.
 */
async function waitIdle() {
  const sample = async () => {
    const ours0 = ourCpuSeconds();
    const procs0 = allProcessCpu();
    const a = systemTicks();
    await sleep(1000);
    const b = systemTicks();
    const procs1 = allProcessCpu();
    const ours1 = ourCpuSeconds();
    if (!a || !b) return { busy: 0, top: [] };
    const wall = (b.total - a.total) / CLK_TCK / (cfg.nproc || 1);
    const mine = new Set([process.pid, ...[...children].map((c) => c.pid)]);
    const top = [...procs1]
      .filter(([pid]) => !mine.has(pid) && procs0.has(pid))
      .map(([pid, p]) => ({ pid, name: p.name, pct: ((p.cpu - procs0.get(pid).cpu) / wall) * 100 }))
      .filter((p) => p.pct >= 5)
      .sort((x, y) => y.pct - x.pct)
      .slice(0, 3);
    return { busy: Math.max(0, (((b.busy - a.busy) / CLK_TCK - (ours1 - ours0)) / wall) * 100), top };
  };
  const describe = (s) => `${s.busy.toFixed(0)}% of a core${s.top.length ? `; top: ${s.top.map((p) => `${p.name} (pid ${p.pid}) ${p.pct.toFixed(0)}%`).join(', ')}` : ''}`;
  const deadline = Date.now() + cfg.idleWait * 1000;
  let s = await sample();
  let said = false;
  while (s.busy > 25 && Date.now() < deadline) {
    if (!said) log(`waiting up to ${cfg.idleWait} s for the machine to be idle (other processes: ${describe(s)})`);
    said = true;
    s = await sample();
  }
  if (said) log(s.busy > 25 ? `still busy, measuring anyway (other processes: ${describe(s)})` : 'idle now');
  return s.busy;
}

/** CPU seconds so far and a short name of every process on the machine (for the idle-wait report). */
function allProcessCpu() {
  const out = new Map();
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
        if (cmd.length) name = cmd.slice(0, 4).join(' ').slice(0, 80);
      } catch {
        /* keep comm */
      }
      out.set(Number(d), { cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, name });
    } catch {
      /* process gone */
    }
  }
  return out;
}

/** CPU seconds used so far by the bench's live child processes and by this process itself. */
function ourCpuSeconds() {
  let sum = 0;
  for (const c of children) if (alive(c)) sum += cpuSeconds(c.pid) ?? 0;
  const self = process.cpuUsage();
  return sum + (self.user + self.system) / 1e6;
}

/**
 * One measurement: warm-up, then one measured run. Records the CPU used during the measured run by
 * the measured process, the upstream (`upPid`: the fake upstream unless said otherwise), the load
 * generator and everything else on the machine, and the measured process's peak RSS (VmHWM) right
 * after the run.
 */
async function measureOnce(label, url, pid, round, loader = (seconds) => load(url, seconds), toolName = cfg.tool, upPid = upstreamPid) {
  if (cfg.idleWait > 0) await waitIdle();
  if (cfg.warmup > 0) {
    log(`${label}: warm-up ${cfg.warmup} s`);
    await loader(cfg.warmup);
  }
  log(`${label}: measuring ${cfg.duration} s${cfg.rounds > 1 ? ` (round ${round}/${cfg.rounds})` : ''}`);
  const c0 = cpuSeconds(pid);
  const u0 = cpuSeconds(upPid);
  const g0 = reapedChildrenCpuSeconds();
  const o0 = ourCpuSeconds();
  const sys0 = systemTicks();
  const t0 = performance.now();
  const run = await loader(cfg.duration);
  run.round = round;
  const wall = (performance.now() - t0) / 1000;
  const sys1 = systemTicks();
  const c1 = cpuSeconds(pid);
  const u1 = cpuSeconds(upPid);
  const g1 = reapedChildrenCpuSeconds();
  const o1 = ourCpuSeconds();
  const pct = (seconds) => (seconds / wall) * 100;
  if (c0 !== undefined && c1 !== undefined) {
    run.cpuPct = pct(c1 - c0);
    // CPU time the measured process spent per request served: steadier than req/s on a busy machine.
    if (run.requests > 0) run.cpuUsPerReq = ((c1 - c0) * 1e6) / run.requests;
  }
  if (pid !== upPid && u0 !== undefined && u1 !== undefined) run.upstreamCpuPct = pct(u1 - u0);
  if (g0 !== undefined && g1 !== undefined) run.loadToolCpuPct = pct(g1 - g0);
  // Everything else the machine ran meanwhile (other users' builds and tests, say), in % of one core.
  if (sys0 && sys1 && g0 !== undefined && g1 !== undefined) {
    run.otherCpuPct = Math.max(0, pct((sys1.busy - sys0.busy) / CLK_TCK - (o1 - o0) - (g1 - g0)));
  }
  run.peakRssMb = peakRssMb(pid);
  run.rssAfterMb = currentRssMb(pid);
  log(`${label}: ${fmtInt(run.rps)} req/s, p50 ${fmtMs(run.p50)}, p99 ${fmtMs(run.p99)}, peak RSS ${fmtMb(run.peakRssMb)}; CPU: measured ${fmtPct(run.cpuPct)} (${fmtUs(run.cpuUsPerReq)}/req), upstream ${fmtPct(run.upstreamCpuPct)}, ${toolName} ${fmtPct(run.loadToolCpuPct)}, other processes ${fmtPct(run.otherCpuPct)}${run.errors || run.non2xx ? `; ${run.non2xx} non-2xx, ${run.errors} errors${run.firstError ? ` (${run.firstError})` : ''}` : ''}`);
  return run;
}

/** A run during which processes outside the bench used more than this much CPU (% of one core) is "noisy". */
const NOISY_OTHER_CPU = 15;
/** A server using at least this much of a core during a run is taken as CPU-bound (saturated). */
const SATURATED_CPU = 85;

/**
 * A scenario's reported figures: the median run by req/s (its latencies and CPU) among the runs that
 * were not noisy, or among all runs when every one was; the peak RSS after the scenario's first run
 * (VmHWM only grows, and later rounds of the 1-route scenario follow a large config); every run's
 * figures when there were several.
 */
function summarise(label, url, runs) {
  const clean = runs.filter((x) => (x.otherCpuPct ?? 0) <= NOISY_OTHER_CPU);
  const pool = clean.length > 0 ? clean : runs;
  const sorted = [...pool].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const r = { scenario: label, url, ...median, peakRssMb: runs[0].peakRssMb, rssAfterMb: runs.at(-1).rssAfterMb, noisy: clean.length === 0 };
  if (runs.length > 1) {
    r.runs = runs.map((x) => ({ round: x.round, rps: Math.round(x.rps), p50: x.p50, p99: x.p99, cpuPct: x.cpuPct === undefined ? undefined : Math.round(x.cpuPct), cpuUsPerReq: x.cpuUsPerReq === undefined ? undefined : Math.round(x.cpuUsPerReq), loadToolCpuPct: x.loadToolCpuPct === undefined ? undefined : Math.round(x.loadToolCpuPct), otherCpuPct: x.otherCpuPct === undefined ? undefined : Math.round(x.otherCpuPct) }));
    r.cleanRuns = clean.length;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------
// The gateway.

let dataDir;
let upstreamPid;
function cleanupDir() {
  if (dataDir && !cfg.keep) rmSync(dataDir, { recursive: true, force: true });
}

async function startGateway() {
  const bin = join(ROOT, 'dist', 'cli', 'bin.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`);
  const [httpsPort, httpPort, adminPort] = await freePorts(3);
  const token = randomBytes(24).toString('hex');
  const stdoutFile = join(dataDir, 'gateway-stdout.log'); // the access log (JSON lines) goes here
  const stderrFile = join(dataDir, 'gateway-stderr.log');
  const outFd = openSync(stdoutFile, 'w');
  const errFd = openSync(stderrFile, 'w');
  const child = track(
    spawn(...onCpu(SERVER_CPU, process.execPath, [...(cfg.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH, 'results', 'profiles')}`] : []), bin, 'start']), {
      cwd: dataDir,
      stdio: ['ignore', outFd, errFd],
      env: {
        ...process.env,
        PORTCULLIS_DATA_DIR: join(dataDir, 'data'),
        PORTCULLIS_HTTPS_PORT: String(httpsPort),
        PORTCULLIS_HTTP_PORT: String(httpPort),
        PORTCULLIS_ADMIN_PORT: String(adminPort),
        PORTCULLIS_HOST: '127.0.0.1',
        PORTCULLIS_ADMIN_HOST: '127.0.0.1',
        PORTCULLIS_ADMIN_TOKEN: token,
        PORTCULLIS_LOG_LEVEL: 'warn',
      },
    }),
    'gateway',
  );
  closeSync(outFd);
  closeSync(errFd);
  const gw = {
    child,
    token,
    dataPath: join(dataDir, 'data'),
    stdoutFile,
    stderrFile,
    base: `https://127.0.0.1:${httpsPort}`,
    admin: `https://127.0.0.1:${adminPort}`,
  };
  const stderrTail = () => {
    try {
      return readFileSync(stderrFile, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };
  const caFile = join(gw.dataPath, 'ca.pem');
  let trusted = false;
  await until('the gateway to become ready', 60_000, async () => {
    if (!alive(child)) {
      const tail = stderrTail();
      const why = tail.split('\n').find((l) => /error|portcullis:/i.test(l)) ?? '';
      throw Object.assign(new Error(`gateway exited (code ${child.exitCode}) ${why.trim()}\n${tail}`), { fatal: true });
    }
    if (!existsSync(caFile)) return false;
    if (!trusted) {
      trust(readFileSync(caFile));
      trusted = true;
    }
    const r = await call(`${gw.admin}/readyz`, { method: 'GET', headers: {}, body: undefined, timeoutMs: 2000 });
    return r.status === 200;
  }).catch((err) => {
    throw new Error(`${err.message}${alive(child) ? `\n${stderrTail()}` : ''}`);
  });
  gw.certFile = join(gw.dataPath, 'server.pem');
  gw.keyFile = join(gw.dataPath, 'server-key.pem');
  return gw;
}

async function applyConfig(gw, doc, tenant = 'default') {
  const t0 = performance.now();
  const r = await call(`${gw.admin}/admin/v1/tenants/${tenant}/config`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(doc),
    timeoutMs: 300_000,
  });
  if (r.status < 200 || r.status > 299) throw new Error(`config apply answered ${r.status}: ${r.text.slice(0, 500)}`);
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------------
// Mutual TLS: the gateway's tenant domains and nginx (bench/mtls-setup.mjs builds the files).

/**
 * One request over a fresh TLS connection made like the load client's (server name, Host, optional
 * client certificate): { status, text } or { error } when the connection is refused.
 */
async function tlsCall(port, servername, pki, withCert) {
  const agent = new Agent({
    connections: 1,
    connect: { ca: pki.pem.serverCa, servername, ...(withCert ? { cert: pki.pem.clientCert, key: pki.pem.clientKey } : {}), maxCachedSessions: 0 },
  });
  try {
    const res = await request(`https://127.0.0.1:${port}${CHAT_PATH}`, {
      method: 'POST',
      headers: { host: servername, 'content-type': 'application/json' },
      body: BODY,
      dispatcher: agent,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (err) {
    return { error: err.code ?? err.message };
  } finally {
    await agent.destroy().catch(() => {});
  }
}

/**
 * Configures the `bench` tenant (created when missing): the mTLS and the plain domain with the bench
 * certificate, and the chat route on both hosts. Then checks what the scenarios rely on: with a client
 * certificate the mTLS host answers the fake upstream's body; without one its handshake is refused;
 * the plain host answers without a certificate.
 */
async function configureMtlsTenant(gw, pki, upstreamOrigin) {
  const created = await call(`${gw.admin}/admin/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: MTLS_TENANT }),
  });
  if (created.status !== 201 && created.status !== 409) throw new Error(`creating tenant ${MTLS_TENANT} answered ${created.status}: ${created.text.slice(0, 300)}`);
  await applyConfig(gw, tenantDocument(pki, upstreamOrigin, CHAT_PATH), MTLS_TENANT);
  const port = Number(new URL(gw.base).port);
  const chat = (r) => r.status === 200 && r.text.includes('"chat.completion"');
  // The snapshot is rebuilt after the commit: wait until the domains are served.
  await until(`${MTLS_HOST} to be served`, 30_000, async () => chat(await tlsCall(port, MTLS_HOST, pki, true)));
  countCompleted(gw.base, 1);
  const plain = await tlsCall(port, PLAIN_HOST, pki, false);
  if (!chat(plain)) throw new Error(`${PLAIN_HOST} without a client certificate: ${plain.error ?? `${plain.status} ${plain.text.slice(0, 200)}`}`);
  countCompleted(gw.base, 1);
  const refused = await tlsCall(port, MTLS_HOST, pki, false);
  if (!refused.error) throw new Error(`${MTLS_HOST} without a client certificate answered ${refused.status}: the domain does not require client certificates`);
  log(`gateway: tenant "${MTLS_TENANT}" configured: ${MTLS_HOST} (client certificate required; refused without one: ${refused.error}), ${PLAIN_HOST} (no client certificate)`);
}

/**
 * The TLS policy nginx is given: the gateway's own constants from dist/ when built (the bench builds
 * first), else the copies in bench/mtls-setup.mjs (with a warning if they ever differ).
 */
async function gatewayTlsPolicy() {
  const local = { tls12: STRICT_TLS12_CIPHERS, tls13: TLS13_CIPHERSUITES, curves: STRICT_CURVES };
  try {
    const m = await import(join(ROOT, 'dist', 'listeners', 'tls-policy.js'));
    const dist = { tls12: m.STRICT_TLS12_CIPHERS, tls13: m.TLS13_CIPHERSUITES, curves: m.STRICT_CURVES };
    if (Object.values(dist).some((v) => typeof v !== 'string')) return local;
    if (JSON.stringify(dist) !== JSON.stringify(local)) log('note: the gateway\'s TLS policy differs from bench/mtls-setup.mjs; nginx gets the gateway\'s');
    return dist;
  } catch {
    return local;
  }
}

/**
 * Starts nginx (one process: `daemon off; master_process off`) from a configuration generated in
 * `<dataDir>/nginx`, on a free 127.0.0.1 port, and waits until it answers a request made with the
 * client certificate. Tracked like every child, so it is stopped on exit, error and Ctrl-C.
 */
async function startNginx(pki) {
  const dir = join(dataDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const [port] = await freePorts(1);
  const policy = await gatewayTlsPolicy();
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, nginxConf({ dir, port, pki, policy }));
  const errFile = join(dir, 'error.log');
  const stderrFile = join(dir, 'stderr.log');
  const errFd = openSync(stderrFile, 'w');
  const child = track(spawn(...onCpu(SERVER_CPU, 'nginx', ['-p', dir, '-e', errFile, '-c', confFile]), { cwd: dir, stdio: ['ignore', 'ignore', errFd] }), 'nginx');
  closeSync(errFd);
  const tail = () => {
    let t = '';
    for (const f of [stderrFile, errFile]) {
      try {
        t += readFileSync(f, 'utf8').slice(-1000);
      } catch {
        /* not written */
      }
    }
    return t.trim();
  };
  await until('nginx to answer', 15_000, async () => {
    if (!alive(child)) throw Object.assign(new Error(`nginx exited (code ${child.exitCode}): ${tail()}`), { fatal: true });
    const r = await tlsCall(port, MTLS_HOST, pki, true);
    if (r.error) return false;
    if (r.status !== 200) throw Object.assign(new Error(`nginx answered ${r.status}: ${r.text.slice(0, 200)}`), { fatal: true });
    return true;
  });
  // nginx answers a handshake without a certificate with an HTTP 400 rather than refusing it.
  const bare = await tlsCall(port, MTLS_HOST, pki, false);
  if (!bare.error && bare.status === 200) throw new Error('nginx answered 200 without a client certificate: ssl_verify_client is not in effect');
  log(`nginx ${tryExec('nginx -v 2>&1')?.replace(/^nginx version: /, '') ?? ''} on 127.0.0.1:${port} (config ${confFile}); without a client certificate: ${bare.error ?? bare.status}`);
  return { child, port, dir, errFile };
}

/** Lines of nginx's error log at level error or worse. */
function nginxErrors(errFile) {
  try {
    return readFileSync(errFile, 'utf8').split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
  } catch {
    return [];
  }
}

function llmService(upstream, extraRoutes = []) {
  return {
    name: 'llm',
    upstream: { targets: [{ url: upstream }] },
    routes: [{ name: 'chat', paths: [CHAT_PATH], methods: ['POST'] }, ...extraRoutes],
  };
}

/**
 * `total` routes in 100 services (the measured route included). Half of the other paths share the
 * measured route's first segment (`/v1/r<i>/chat`), so the router's `/v1` node gets thousands of
 * siblings; the others are spread under per-service prefixes (`/s<s>/items/<i>`).
 */
function largeConfig(upstream, total) {
  const services = 100;
  const perService = Math.ceil(total / services);
  const routes = Array.from({ length: total - 1 }, (_, i) =>
    i % 2 === 0
      ? { name: `r${i}`, paths: [`/v1/r${i}/chat`], methods: ['POST'] }
      : { name: `r${i}`, paths: [`/s${i % services}/items/${i}`], methods: ['GET', 'POST'] },
  );
  const doc = { services: [] };
  for (let s = 0; s < services; s++) {
    // service 0 is "llm" with the measured route first
    const slice = routes.slice(s === 0 ? 0 : s * perService - 1, (s + 1) * perService - 1);
    if (s === 0) doc.services.push(llmService(upstream, slice));
    else if (slice.length > 0) doc.services.push({ name: `svc-${s}`, upstream: { targets: [{ url: upstream }] }, routes: slice });
  }
  const count = doc.services.reduce((n, s) => n + s.routes.length, 0);
  if (count !== total) throw new Error(`internal: built ${count} routes, wanted ${total}`);
  const last = doc.services.at(-1).routes.at(-1);
  return { doc, lastPath: last.paths[0] };
}

/**
 * Reads the gateway's stdout: access-log lines (`"log":"access"`), and application log lines at
 * error level or above (pino level >= 50) with the first one's message.
 */
async function scanGatewayStdout(file) {
  const out = { accessLines: 0, errorLines: 0, firstError: undefined, bytes: statSync(file).size };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.includes('"log":"access"')) out.accessLines++;
    else {
      const m = /"level":(\d+)/.exec(line);
      if (m && Number(m[1]) >= 50) {
        out.errorLines++;
        if (!out.firstError) {
          try {
            const j = JSON.parse(line);
            out.firstError = `${j.msg ?? ''}${j.err ? ` ${j.err.type}: ${j.err.message} (${(j.err.stack ?? '').split('\n')[1]?.trim() ?? ''})` : ''}`.trim();
          } catch {
            out.firstError = line.slice(0, 300);
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Machine description and output.

function machine() {
  const sh = tryExec;
  return {
    nproc: Number(sh('nproc')) || cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    loadTool: cfg.tool === 'wrk' ? /^wrk \S+/.exec(sh('wrk -v 2>&1 | head -1') ?? '')?.[0] ?? 'wrk' : `autocannon ${JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version}`,
    kernel: sh('uname -r'),
  };
}

const fmtInt = (n) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n) => (n === undefined ? 'n/a' : `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`);
const fmtUs = (n) => (n === undefined ? 'n/a' : `${n.toFixed(0)} µs`);
const fmtPct = (n) => (n === undefined ? 'n/a' : `${n.toFixed(0)}%`);
const fmtMb = (n) => (n === undefined ? 'n/a' : `${n.toFixed(0)} MB`);

function table(rows) {
  const head = ['scenario', 'req/s', 'p50', 'p99', 'peak RSS', 'CPU', 'CPU/req', 'other CPU', 'non-2xx/errors'];
  const last = head.length - 1;
  const body = rows.map((r) =>
    r.error
      ? [r.scenario, 'failed', '', '', '', '', '', '', r.error.split('\n')[0].slice(0, 70)]
      : [r.scenario, fmtInt(r.rps), fmtMs(r.p50), fmtMs(r.p99), fmtMb(r.peakRssMb), fmtPct(r.cpuPct), fmtUs(r.cpuUsPerReq), fmtPct(r.otherCpuPct), `${r.non2xx}/${r.errors}`],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const left = (i) => i === 0 || i === last;
  const line = (cells) => `| ${cells.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (left(i) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const info = machine();
  log(`load: ${info.loadTool}, ${cfg.connections} connections, ${cfg.warmup} s warm-up + ${cfg.duration} s${cfg.rounds > 1 ? ` × ${cfg.rounds}` : ''} per scenario; data dir ${dataDir}`);

  const results = [];
  const failures = [];
  const extra = {};
  let nginxInfo;
  const fail = (scenario, err) => {
    log(`${scenario}: ${err.message.split('\n')[0]}`);
    failures.push({ scenario, error: err.message });
    results.push({ scenario, error: err.message });
  };

  const upstream = await forkServer('fake upstream', 'fake-upstream.mjs', []);
  upstreamPid = upstream.child.pid;
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;

  // The gateway first: it creates the development CA and the server certificate that the reference
  // proxy reuses, so both serve the same certificate (EC P-256).
  let gw;
  let gwError;
  if (wantsGateway) {
    try {
      log('starting the gateway');
      gw = await startGateway();
    } catch (err) {
      gwError = err;
      log(`the gateway did not start; measuring the rest. ${err.message}`);
    }
  }

  // The reference proxy: same certificate as the gateway.
  let certFile = gw?.certFile;
  let keyFile = gw?.keyFile;
  if (!gw && wants('reference')) {
    // No gateway certificate to reuse: a self-signed one of the same kind (EC P-256).
    certFile = join(dataDir, 'ref-cert.pem');
    keyFile = join(dataDir, 'ref-key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    trust(readFileSync(certFile));
  }

  const labelN = `gateway (HTTPS, ${cfg.routes.toLocaleString('en-US')} routes)`;
  const scenarios = {
    up: { label: 'upstream direct (HTTP)', url: `${upstreamOrigin}${CHAT_PATH}`, pid: upstreamPid, runs: [] },
    ref: { label: 'reference proxy (HTTPS)', runs: [] },
    g1: { label: 'gateway (HTTPS, 1 route)', url: gw && `${gw.base}${CHAT_PATH}`, pid: gw?.child.pid, runs: [] },
    gN: { label: labelN, url: gw && `${gw.base}${CHAT_PATH}`, pid: gw?.child.pid, runs: [] },
  };
  scenarios.up.skip = !wants('upstream');
  scenarios.ref.skip = !wants('reference');
  scenarios.g1.skip = !wants('gateway-1');
  scenarios.gN.skip = !wants('gateway-many');
  await expectChat(scenarios.up.url);
  if (!scenarios.ref.skip) {
    try {
      const ref = await forkServer('reference proxy', 'reference-proxy.mjs', [upstreamOrigin, certFile, keyFile]);
      scenarios.ref.url = `https://127.0.0.1:${ref.port}${CHAT_PATH}`;
      scenarios.ref.pid = ref.child.pid;
      await expectChat(scenarios.ref.url);
    } catch (err) {
      scenarios.ref.error = err;
    }
  }
  if (!gw) {
    scenarios.g1.error = gwError;
    scenarios.gN.error = new Error('skipped: the gateway did not start');
  }

  // Mutual TLS: certificates, the gateway's tenant domains, nginx.
  const mtls = {
    ka: { label: 'gateway mTLS required (keep-alive)', name: 'mtls-keepalive', runs: [] },
    plain: { label: 'gateway no client cert (keep-alive)', name: 'plain-keepalive', runs: [] },
    hsGw: { label: 'gateway mTLS handshakes (new conn/req)', name: 'handshakes-gateway', runs: [] },
    hsNginx: { label: 'nginx mTLS handshakes (new conn/req)', name: 'handshakes-nginx', runs: [] },
  };
  for (const sc of Object.values(mtls)) {
    sc.skip = !wants(sc.name);
    sc.toolName = 'tls-load';
  }
  if (wantsMtls) {
    let pki;
    try {
      pki = makePki(join(dataDir, 'pki'));
      log(`certificates (openssl, EC P-256) in ${join(dataDir, 'pki')}: server ${MTLS_HOST}, ${PLAIN_HOST}; client CA and client certificate`);
    } catch (err) {
      for (const sc of Object.values(mtls)) sc.error = new Error(`openssl could not make the certificates: ${err.stderr?.toString().trim() || err.message}`);
    }
    const gwScenarios = [mtls.ka, mtls.plain, mtls.hsGw].filter((sc) => !sc.skip && !sc.error);
    if (gwScenarios.length > 0) {
      if (!gw) {
        for (const sc of gwScenarios) sc.error = gwError ?? new Error('skipped: the gateway did not start');
      } else {
        try {
          await configureMtlsTenant(gw, pki, upstreamOrigin);
          const port = Number(new URL(gw.base).port);
          const base = { host: '127.0.0.1', port, ca: pki.files.serverCa };
          const withCert = { ...base, servername: MTLS_HOST, cert: pki.files.clientCert, key: pki.files.clientKey };
          const ka = { mode: 'keepalive', connections: cfg.connections };
          // The handshake client does not check the server's certificate (costly in Node; the checks
          // above did, with the same certificate): see bench/tls-load.mjs, verifyServer.
          const hs = { mode: 'handshake', connections: cfg.handshakeConnections, verifyServer: false };
          mtls.ka.opts = { ...withCert, ...ka };
          mtls.plain.opts = { ...base, servername: PLAIN_HOST, ...ka };
          mtls.hsGw.opts = { ...withCert, ...hs };
          for (const sc of gwScenarios) {
            sc.url = `https://${sc.opts.servername}:${port}${CHAT_PATH}`;
            sc.pid = gw.child.pid;
            sc.origin = gw.base;
          }
        } catch (err) {
          for (const sc of gwScenarios) sc.error = err;
        }
      }
    }
    if (!mtls.hsNginx.skip && !mtls.hsNginx.error) {
      if (!hasCommand('nginx')) {
        mtls.hsNginx.skip = true;
        mtls.hsNginx.missing = true;
        log('nginx is not installed: skipping handshakes-nginx and the gateway / nginx handshake comparison (Debian: apt-get install nginx-light)');
      } else {
        try {
          const ngx = await startNginx(pki);
          nginxInfo = { version: tryExec('nginx -v 2>&1')?.replace(/^nginx version: /, ''), errFile: ngx.errFile };
          mtls.hsNginx.opts = { host: '127.0.0.1', port: ngx.port, ca: pki.files.serverCa, servername: MTLS_HOST, cert: pki.files.clientCert, key: pki.files.clientKey, mode: 'handshake', connections: cfg.handshakeConnections, verifyServer: false };
          mtls.hsNginx.url = `https://${MTLS_HOST}:${ngx.port}${CHAT_PATH}`;
          mtls.hsNginx.pid = ngx.child.pid;
        } catch (err) {
          mtls.hsNginx.error = err;
        }
      }
    }
  }

  // LLM: the bench-llm tenant (bench/llm-scenarios.mjs); streams come from a fake Anthropic provider.
  const llm = llmRows(cfg);
  for (const sc of Object.values(llm)) sc.skip = !wants(sc.name);
  if (wantsLlm && !interrupted) {
    if (!gw) for (const sc of Object.values(llm)) sc.error = gwError ?? new Error('skipped: the gateway did not start');
    else {
      try {
        let anthropicOrigin;
        let anthropicPid;
        if (wants('llm-stream')) {
          const an = await forkServer('fake Anthropic', 'fake-anthropic-stream.mjs', []);
          anthropicOrigin = `http://127.0.0.1:${an.port}`;
          anthropicPid = an.child.pid;
        }
        const chatUrl = await configureLlm({ gw, call, applyConfig, until, log, openaiOrigin: upstreamOrigin, anthropicOrigin, deltas: cfg.llmDeltas });
        Object.assign(llm.chat, { url: chatUrl, pid: gw.child.pid, loader: (seconds) => load(chatUrl, seconds, { script: LLM_WRK_SCRIPT, body: LLM_CHAT_BODY }) });
        if (anthropicOrigin) {
          const deps = { bench: BENCH, runTool, countCompleted };
          const ca = join(gw.dataPath, 'ca.pem');
          const directUrl = `${anthropicOrigin}/v1/messages`;
          const short = { format: 'openai', body: gatewayStreamBody(cfg.llmDeltas), deltas: cfg.llmDeltas, ca };
          const long = { format: 'openai', body: gatewayStreamBody(cfg.llmLongDeltas), deltas: cfg.llmLongDeltas, ca };
          const direct = { format: 'anthropic', body: directStreamBody(cfg.llmDeltas), deltas: cfg.llmDeltas };
          Object.assign(llm.ttftGw, { url: chatUrl, pid: gw.child.pid, upstreamPid: anthropicPid, loader: streamLoader('ttft', { url: chatUrl, ...short }, { ...deps, origin: gw.base }) });
          Object.assign(llm.ttftDirect, { url: directUrl, pid: anthropicPid, upstreamPid: anthropicPid, loader: streamLoader('ttft', { url: directUrl, ...direct }, { ...deps, origin: anthropicOrigin }) });
          Object.assign(llm.frames, { url: chatUrl, pid: gw.child.pid, upstreamPid: anthropicPid, loader: streamLoader('frames', { url: chatUrl, ...long }, { ...deps, origin: gw.base }) });
        }
      } catch (err) {
        for (const sc of Object.values(llm)) sc.error = err;
      }
    }
  }

  const oneRoute = { services: [llmService(upstreamOrigin)] };
  const { doc: manyRoutes, lastPath } = largeConfig(upstreamOrigin, cfg.routes);
  const lastUrl = gw && `${gw.base}${lastPath}`;
  const statusOf = async (url) => (await call(url)).status;
  extra.largeApply = [];

  const run = async (key, round) => {
    const sc = scenarios[key] ?? mtls[key] ?? llm[key];
    if (sc.error || sc.skip || interrupted) return;
    try {
      const loader = sc.loader ?? (sc.opts ? (seconds) => loadTls(sc.opts, seconds, sc.origin) : undefined);
      sc.runs.push(await measureOnce(sc.label, sc.url, sc.pid, round, loader, sc.toolName, sc.upstreamPid));
    } catch (err) {
      sc.error = err;
    }
  };

  // Rounds of all scenarios, interleaved, so that a burst of outside load hits one round rather than
  // one scenario. The processes not being measured are idle meanwhile.
  for (let round = 1; round <= cfg.rounds; round++) {
    // 1. Upstream direct (plain HTTP): the ceiling of this machine with this load generator.
    await run('up', round);
    // 2. Reference proxy (HTTPS).
    await run('ref', round);
    // 3. Gateway, one route (the snapshot is rebuilt after the commit: wait until it is served).
    if (!scenarios.g1.error && !scenarios.g1.skip) {
      try {
        await applyConfig(gw, oneRoute);
        await until('the 1-route config to be served', 60_000, async () => (await statusOf(scenarios.g1.url)) === 200 && (await statusOf(lastUrl)) === 404);
        await expectChat(scenarios.g1.url);
      } catch (err) {
        scenarios.g1.error = err;
      }
      await run('g1', round);
    }
    if (scenarios.g1.error && !scenarios.g1.skip && !scenarios.gN.error) scenarios.gN.error = new Error('skipped: the 1-route scenario failed');
    // 9–12. LLM (their own tenant, configured above): chat completions, time to first token through
    // the gateway and from the provider directly (alternating order), frames/s on long streams.
    const odd = round % 2 === 1;
    await run('chat', round);
    for (const key of odd ? ['ttftGw', 'ttftDirect'] : ['ttftDirect', 'ttftGw']) await run(key, round);
    await run('frames', round);
    // 5–8. Mutual TLS (before the large config, so the gateway serves them with the 1-route default
    // tenant next to the bench tenant). Each pair alternates its order from round to round.
    for (const key of odd ? ['ka', 'plain'] : ['plain', 'ka']) await run(key, round);
    for (const key of odd ? ['hsGw', 'hsNginx'] : ['hsNginx', 'hsGw']) await run(key, round);
    // 4. Gateway, many routes.
    if (!scenarios.gN.error && !scenarios.gN.skip) {
      try {
        log(`applying ${cfg.routes} routes in ${manyRoutes.services.length} services (${(JSON.stringify(manyRoutes).length / 1024).toFixed(0)} KiB of JSON)`);
        const t0 = performance.now();
        const applyMs = Math.round(await applyConfig(gw, manyRoutes));
        await until(`route ${lastPath} to be served`, 120_000, async () => (await statusOf(lastUrl)) === 200);
        const untilServedMs = Math.round(performance.now() - t0);
        extra.largeApply.push({ applyMs, untilServedMs });
        log(`applied in ${applyMs} ms, served after ${untilServedMs} ms`);
        await expectChat(scenarios.gN.url);
      } catch (err) {
        scenarios.gN.error = err;
      }
      await run('gN', round);
    }
  }

  // Access: API keys and JWTs among BENCH_APPS applications and keys, against the same gateway with no
  // authentication; few connections, so that the latency difference is the work authentication adds.
  const auth = {
    none: { label: `gateway no auth (${cfg.authConnections} conn)`, name: 'auth-none', runs: [] },
    apikey: { label: `gateway API key (${cfg.authConnections} conn)`, name: 'auth-apikey', runs: [] },
    jwt: { label: `gateway JWT, cached (${cfg.authConnections} conn)`, name: 'auth-jwt', runs: [] },
  };
  for (const sc of Object.values(auth)) sc.skip = !wants(sc.name);
  if (wantsAuth && !interrupted) {
    if (!gw) for (const sc of Object.values(auth)) sc.error = gwError ?? new Error('skipped: the gateway did not start');
    else {
      try {
        const admin = async (method, path, body) => {
          const r = await call(`${gw.admin}${path}`, { method, headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 300_000 });
          return { status: r.status, body: r.text ? JSON.parse(r.text) : undefined };
        };
        log(`configuring tenant ${AUTH_TENANT}: open, API-key and JWT services; ${cfg.apps.toLocaleString('en-US')} applications and keys`);
        const setup = await setupAccess({ admin, upstream: upstreamOrigin, dataPath: gw.dataPath, apps: cfg.apps, log });
        const t0 = performance.now();
        await until(`revision ${setup.revision} to be served`, 300_000, async () => (await admin('GET', '/readyz')).body?.revision >= setup.revision);
        extra.identities = { applications: cfg.apps, apiKeys: cfg.apps + 1, bulkInsertMs: setup.insertMs, reloadMs: Math.round(performance.now() - t0), rssAfterLoadMb: currentRssMb(gw.child.pid) };
        log(`served after ${extra.identities.reloadMs} ms; gateway RSS ${fmtMb(extra.identities.rssAfterLoadMb)}`);
        for (const [key, sc] of Object.entries(auth)) {
          sc.url = `${gw.base}${AUTH_PATHS[key]}`;
          sc.pid = gw.child.pid;
          const opts = { connections: cfg.authConnections, headers: setup.headers[key] };
          sc.loader = (seconds) => load(sc.url, seconds, opts);
          const r = await call(sc.url, { headers: { 'content-type': 'application/json', ...setup.headers[key] } });
          if (r.status !== 200) throw new Error(`${sc.label}: POST ${sc.url} answered ${r.status}: ${r.text.slice(0, 300)}`);
        }
      } catch (err) {
        for (const sc of Object.values(auth)) sc.error = err;
      }
      for (let round = 1; round <= cfg.rounds && !interrupted; round++) {
        const order = round % 2 === 1 ? ['none', 'apikey', 'jwt'] : ['jwt', 'apikey', 'none'];
        for (const key of order) {
          const sc = auth[key];
          if (sc.error || sc.skip || interrupted) continue;
          try {
            sc.runs.push(await measureOnce(sc.label, sc.url, sc.pid, round, sc.loader));
          } catch (err) {
            sc.error = err;
          }
        }
      }
    }
  }

  for (const sc of [...Object.values(scenarios), ...Object.values(llm), ...Object.values(mtls), ...Object.values(auth)]) {
    if (sc.skip) continue;
    if (sc.error) fail(sc.label, sc.error);
    else {
      const r = summarise(sc.label, sc.url, sc.runs);
      if (sc.toolName === 'llm-stream-client') r.loadTool = { name: 'bench/llm-stream-client.mjs', connections: 1, sequential: true };
      if (sc.opts) r.loadTool = { name: 'bench/tls-load.mjs', mode: sc.opts.mode, connections: sc.opts.connections, clientCertificate: Boolean(sc.opts.cert), verifiesServer: sc.opts.verifyServer !== false };
      else if (sc.url.startsWith('https:')) r.tls = await tlsInfo(sc.url);
      results.push(r);
    }
  }
  if (nginxInfo) {
    const errs = nginxErrors(nginxInfo.errFile);
    nginxInfo.errorLines = errs.length;
    if (errs.length > 0) nginxInfo.firstError = errs[0];
    delete nginxInfo.errFile;
  }

  await dispatcher.close(); // our keep-alive connections would otherwise hold up the gateway's drain
  if (gw) {
    await stopChild(gw.child, 10_000);
    // The access log stayed on: every request served is one JSON line on the gateway's stdout.
    try {
      const scan = await scanGatewayStdout(gw.stdoutFile);
      extra.accessLog = { ...scan, requestsSent: sentTo(gw.base) };
    } catch {
      /* no stdout file */
    }
  }
  await stopAll();

  // Ratios.
  const by = (s) => results.find((r) => r.scenario === s && !r.error);
  const ref = by('reference proxy (HTTPS)');
  const g1 = by('gateway (HTTPS, 1 route)');
  const gN = by(`gateway (HTTPS, ${cfg.routes.toLocaleString('en-US')} routes)`);
  const mKa = by(mtls.ka.label);
  const mPlain = by(mtls.plain.label);
  const hsGw = by(mtls.hsGw.label);
  const hsNginx = by(mtls.hsNginx.label);
  // A ratio compares the two scenarios' reported figures (above). With several rounds, the ratio within
  // each round is listed too, as a measure of the spread.
  const paired = (a, b, value) => {
    if (!a || !b) return { value: undefined, rounds: [] };
    const rounds = [];
    for (const x of a.runs ?? []) {
      const y = (b.runs ?? []).find((z) => z.round === x.round);
      const v = y && value(x, y);
      if (v !== undefined && Number.isFinite(v)) rounds.push({ round: x.round, value: v, clean: (x.otherCpuPct ?? 0) <= NOISY_OTHER_CPU && (y.otherCpuPct ?? 0) <= NOISY_OTHER_CPU });
    }
    // With 3 rounds or more, also the median of the within-round ratios (clean rounds; all when none
    // is): each round measures both scenarios minutes apart at most, so this is less exposed than
    // the ratio of two separately chosen medians to the machine's speed drifting during the run.
    const pool = rounds.filter((x) => x.clean).length > 0 ? rounds.filter((x) => x.clean) : rounds;
    const sorted = pool.map((x) => x.value).sort((x, y) => x - y);
    const roundsMedian = rounds.length >= 3 ? (sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2) : undefined;
    return { value: value(a, b), rounds, ...(roundsMedian === undefined ? {} : { roundsMedian }) };
  };
  const ratio = (name, a, b, target) => {
    const { value, rounds, roundsMedian } = paired(a, b, (x, y) => x.rps / y.rps);
    return { name, value, target, met: value === undefined ? undefined : value >= target, rounds, roundsMedian };
  };
  const ratios = [];
  if (wants('gateway-1') && wants('reference')) ratios.push(ratio('gateway / reference proxy (req/s)', g1, ref, 0.8));
  if (wants('gateway-many') && wants('gateway-1')) ratios.push(ratio(`${cfg.routes.toLocaleString('en-US')} routes / 1 route (req/s)`, gN, g1, 0.95));
  if (wants('mtls-keepalive') && wants('plain-keepalive')) ratios.push(ratio('gateway keep-alive, mTLS / no client cert (req/s)', mKa, mPlain, 0.9));
  if (wants('handshakes-gateway') && wants('handshakes-nginx')) {
    const r = ratio('gateway / nginx, mTLS full handshakes (per s)', hsGw, hsNginx, 0.6);
    if (mtls.hsNginx.missing) r.skipped = 'nginx is not installed (apt-get install nginx-light)';
    // Handshakes/s only compare capacity when both servers were CPU-bound; otherwise say so, with
    // the ratio of CPU per handshake (what each server would do with a core to itself).
    // With three rounds or more, the median of the within-round values decides (see paired()).
    if (hsGw && hsNginx && (hsGw.cpuPct < SATURATED_CPU || hsNginx.cpuPct < SATURATED_CPU)) {
      const cpu = paired(hsGw, hsNginx, (x, y) => (x.cpuUsPerReq && y.cpuUsPerReq ? y.cpuUsPerReq / x.cpuUsPerReq : undefined));
      const capacity = cpu.roundsMedian ?? cpu.value;
      r.capacityByCpu = capacity;
      r.caveat = `${hsNginx.cpuPct < SATURATED_CPU ? 'nginx' : 'the gateway'} was not CPU-bound (${fmtPct(hsNginx.cpuPct < SATURATED_CPU ? hsNginx.cpuPct : hsGw.cpuPct)} of a core): by CPU per handshake the gateway reaches ${capacity.toFixed(2)}× nginx${cpu.roundsMedian === undefined ? '' : ' (median of the rounds)'} — ${capacity >= 0.6 ? 'met' : 'NOT MET'} on that measure`;
    }
    ratios.push(r);
  }
  // The same comparisons in CPU time per request (inverted, so that higher is better here too):
  // informational; it does not depend on how much CPU the process got.
  const cpuRatio = (name, a, b) => ({ name, ...paired(a, b, (x, y) => (x.cpuUsPerReq && y.cpuUsPerReq ? y.cpuUsPerReq / x.cpuUsPerReq : undefined)) });
  const llmChat = by(llm.chat.label);
  if (wants('llm-chat') && wants('reference')) ratios.push(ratio('gateway LLM chat / reference proxy (req/s)', llmChat, ref, LLM_CHAT_TARGET));
  const cpuRatios = [
    cpuRatio('reference CPU/req ÷ gateway CPU/req', g1, ref),
    cpuRatio('reference CPU/req ÷ gateway LLM chat CPU/req', llmChat, ref),
    cpuRatio(`1-route CPU/req ÷ ${cfg.routes.toLocaleString('en-US')}-route CPU/req`, gN, g1),
    cpuRatio('no-client-cert CPU/req ÷ mTLS CPU/req (keep-alive)', mKa, mPlain),
    cpuRatio('nginx CPU/handshake ÷ gateway CPU/handshake', hsGw, hsNginx),
  ];
  // Authentication overhead: added p50 latency over the same gateway without authentication.
  const overheads = [];
  const aNone = by(auth.none.label);
  for (const [key, label] of [['apikey', 'API key'], ['jwt', 'JWT (cached verification)']]) {
    const a = by(auth[key].label);
    if (!wants(auth[key].name) || !wants('auth-none')) continue;
    // wrk reports percentiles to the microsecond; autocannon only to the millisecond, so with it the
    // closed-loop mean (connections ÷ req/s) stands in for the median.
    const byP50 = cfg.tool === 'wrk';
    const delta = byP50 ? (x, y) => (x.p50 - y.p50) * 1000 : (x, y) => (cfg.authConnections / x.rps - cfg.authConnections / y.rps) * 1e6;
    const { value, rounds, roundsMedian } = paired(a, aNone, delta);
    const v = roundsMedian ?? value;
    const what = byP50 ? 'p50 latency' : 'mean latency (connections ÷ req/s; autocannon has no µs percentiles)';
    overheads.push({ name: `${label} authentication, added ${what} with ${cfg.apps.toLocaleString('en-US')} applications and keys`, valueUs: v, targetUs: 50, met: v === undefined ? undefined : v <= 50, rounds });
  }
  // LLM streams: the time to first token the gateway adds (Anthropic → OpenAI translation).
  const llmTtftGw = by(llm.ttftGw.label);
  const llmTtftDirect = by(llm.ttftDirect.label);
  if (wants('llm-stream')) overheads.push(ttftOverhead(paired, llmTtftGw, llmTtftDirect));
  const perRound = (r) =>
    r.rounds.length > 1 ? ` [rounds: ${r.rounds.map((x) => `${x.value.toFixed(2)}${x.clean ? '' : '*'}`).join(', ')}${r.roundsMedian === undefined ? '' : `; median of ${r.rounds.some((x) => x.clean) ? 'clean ' : ''}rounds ${r.roundsMedian.toFixed(2)}`}]` : '';

  process.stdout.write(`\n${table(results)}\n\n`);
  for (const r of ratios) {
    const v = r.value === undefined ? 'n/a' : `${r.value.toFixed(2)}×`;
    const status = r.met === undefined ? `not measured${r.skipped ? `: ${r.skipped}` : ''}` : r.met ? 'met' : 'NOT MET';
    process.stdout.write(`${r.name}: ${v} (target ≥ ${r.target}×) — ${status}${perRound(r)}\n`);
    if (r.caveat) process.stdout.write(`  but: ${r.caveat}\n`);
  }
  for (const o of overheads) {
    process.stdout.write(`${o.name}: ${o.valueUs === undefined ? 'n/a' : `${o.valueUs.toFixed(1)} µs`} (target ≤ ${o.targetUs} µs) — ${o.met === undefined ? 'not measured' : o.met ? 'met' : 'NOT MET'}${o.rounds.length > 1 ? ` [rounds: ${o.rounds.map((x) => x.value.toFixed(1)).join(', ')}]` : ''}\n`);
  }
  const streamLine = streamSummaryLine(llmTtftGw, llmTtftDirect, by(llm.frames.label), cfg, fmtMs);
  if (streamLine) process.stdout.write(`${streamLine}\n`);
  if (extra.identities) {
    const i = extra.identities;
    process.stdout.write(`identities: ${i.applications.toLocaleString('en-US')} applications and ${i.apiKeys.toLocaleString('en-US')} API keys served ${i.reloadMs} ms after the change; gateway RSS then ${fmtMb(i.rssAfterLoadMb)}\n`);
  }
  for (const r of cpuRatios) {
    if (r.value !== undefined) process.stdout.write(`${r.name}: ${r.value.toFixed(2)}× (informational)${perRound(r)}\n`);
  }
  if (extra.largeApply.length > 0) {
    const a = extra.largeApply;
    process.stdout.write(`applying ${cfg.routes.toLocaleString('en-US')} routes: ${a.map((x) => x.applyMs).join(', ')} ms (admin API call), ${a.map((x) => x.untilServedMs).join(', ')} ms until served\n`);
  }
  const al = extra.accessLog;
  if (al) {
    process.stdout.write(`access log: on; ${al.accessLines.toLocaleString('en-US')} lines (${(al.bytes / 1048576).toFixed(1)} MB of stdout) for ${al.requestsSent.toLocaleString('en-US')} requests completed on the data plane\n`);
    if (al.accessLines < al.requestsSent * 0.99) {
      process.stdout.write(`WARNING: the access log recorded only ${((al.accessLines / al.requestsSent) * 100).toFixed(1)}% of the gateway's requests: the gateway figures do not measure a working access log\n`);
    }
    if (al.errorLines > 0) {
      process.stdout.write(`WARNING: the gateway logged ${al.errorLines.toLocaleString('en-US')} errors during the run; first: ${al.firstError}\n`);
    }
  }
  process.stdout.write(`CPU: the measured process during the measured run, in % of one core; CPU/req: its CPU time per request served; other CPU: processes outside the bench meanwhile${cfg.rounds > 1 ? `; * = a round in which other processes used more than ${NOISY_OTHER_CPU}% of a core` : ''}\n`);
  const noisy = results.filter((r) => !r.error && r.noisy);
  if (noisy.length > 0) {
    process.stdout.write(`WARNING: the machine was not idle during ${noisy.map((r) => r.scenario).join(', ')} (other processes used more than ${NOISY_OTHER_CPU}% of a core in every run): those figures are noisy; re-run when the machine is idle${cfg.rounds < 3 ? ', or with BENCH_ROUNDS=3' : ''}\n`);
  }
  // The handshake scenarios: a server that did not use a whole core was not what limited the rate (the
  // load client, which costs about as much CPU per handshake as a server, or the machine was).
  for (const r of [hsGw, hsNginx]) {
    if (r && r.cpuPct !== undefined && r.cpuPct < SATURATED_CPU) {
      process.stdout.write(`NOTE: "${r.scenario}": the server used ${fmtPct(r.cpuPct)} of a core (load client ${fmtPct(r.loadToolCpuPct)}): it was not saturated, so its rate is a floor set by the client and the machine, not its capacity; CPU per handshake compares capacity\n`);
    }
  }
  if (hsGw || hsNginx) {
    process.stdout.write(`handshakes: TLS ${[hsGw, hsNginx].filter(Boolean).map((r) => `${r.scenario.split(' ')[0]} ${r.tls ?? 'n/a'}, ${(r.ticketsPerConnection ?? 0).toFixed(1)} session tickets sent per connection`).join('; ')}; ${cfg.handshakeConnections} concurrent connections; the gateway's requests go to the fake upstream, nginx answers itself\n`);
  }
  if (nginxInfo?.errorLines > 0) process.stdout.write(`WARNING: nginx logged ${nginxInfo.errorLines} errors; first: ${nginxInfo.firstError}\n`);
  const failing = results.filter((r) => !r.error && (r.non2xx > 0 || r.errors > 0));
  if (failing.length > 0) {
    process.stdout.write(`WARNING: non-2xx responses or socket errors in: ${failing.map((r) => r.scenario).join(', ')}; their req/s are not comparable\n`);
  }
  process.stdout.write(`machine: ${info.nproc} CPUs (${info.cpu}), node ${info.node}, ${info.loadTool}; ${cfg.connections} connections, ${cfg.duration} s per run after ${cfg.warmup} s warm-up\n`);

  const resultsDir = join(BENCH, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = { date: new Date().toISOString(), machine: info, config: { ...cfg, scenarios: [...cfg.scenarios], body: BODY, path: CHAT_PATH }, scenarios: results, ratios, overheads, cpuRatios, gateway: extra, ...(nginxInfo ? { nginx: nginxInfo } : {}), failures };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results: ${join('bench', 'results', 'latest.json')}\n`);
  if (cfg.keep) process.stdout.write(`kept: ${dataDir}\n`);
  if (cfg.profile) process.stdout.write(`gateway CPU profile: ${join('bench', 'results', 'profiles')}/ (open in Chrome DevTools or speedscope)\n`);
  return failures.length === 0 ? 0 : 1;
}

main()
  .then(
    (code) => code,
    (err) => {
      if (!interrupted) log(`error: ${err.stack ?? err.message}`);
      return 1;
    },
  )
  .then(async (code) => {
    await stopAll();
    cleanupDir();
    process.exit(code);
  });
