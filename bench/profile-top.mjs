// Prints the functions with the most self time in a V8 .cpuprofile (as written by BENCH_PROFILE=1).
// Usage: node bench/profile-top.mjs [file.cpuprofile] [count] [--inclusive [filter]]
//   (default: the newest in bench/results/profiles, 30 functions)
// --inclusive: ranks by total time instead (the function and everything it called; recursion counted
// once per sample), only functions whose location contains `filter` when given (e.g. dist/llm).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const inc = argv.indexOf('--inclusive');
const inclusive = inc !== -1;
const filter = inclusive && argv[inc + 1] && !argv[inc + 1].startsWith('--') ? argv[inc + 1] : undefined;
const positional = inclusive ? argv.slice(0, inc) : argv;
let file = positional[0];
if (!file) {
  const dir = join(ROOT, 'bench', 'results', 'profiles');
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: run BENCH_PROFILE=1 npm run bench`);
  file = files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}
const count = Number(positional[1] ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: samples × their intervals.
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
const byFn = new Map();
let total = 0;
let idle = 0;
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  const cf = node.callFrame;
  if (cf.functionName === '(idle)') {
    idle += t;
    continue;
  }
  total += t;
  const where = cf.url ? `${relative(ROOT, cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'} ${where}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
}
if (inclusive) {
  // Total time per function: each sample's time goes to every distinct function on its stack.
  const parent = new Map();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const cf = n.callFrame;
    return `${cf.functionName || '(anonymous)'} ${cf.url ? `${relative(ROOT, cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : ''}`;
  };
  const totals = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const seen = new Set();
    for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const k = keyOf(nodes.get(id));
      if (!seen.has(k)) {
        seen.add(k);
        totals.set(k, (totals.get(k) ?? 0) + dt);
      }
    }
  }
  process.stdout.write(`${file}\nbusy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s\n\n  total %  total ms  function\n`);
  const rows = [...totals].filter(([k]) => !k.startsWith('(root)') && (!filter || k.includes(filter))).sort((a, b) => b[1] - a[1]).slice(0, count);
  for (const [key, t] of rows) process.stdout.write(`${((t / total) * 100).toFixed(1).padStart(7)}  ${(t / 1000).toFixed(0).padStart(8)}  ${key}\n`);
  process.exit(0);
}
process.stdout.write(`${file}\nbusy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s\n\n  self %   self ms  function\n`);
for (const [key, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, count)) {
  process.stdout.write(`${((t / total) * 100).toFixed(1).padStart(7)}  ${(t / 1000).toFixed(0).padStart(8)}  ${key}\n`);
}
