// The CPU profile behind docs/benchmarks.md "Overhead and concurrency (issue 15)": bench/infer-server.ts under
// `node --cpu-prof`, BENCH_N (default 800) POST /v1/infer requests from two clients, then the server's CPU by module
// and the functions with the most self time. Env: the server's (e.g. RIL_KEY_CACHE_MS=0, RIL_INFER_FAST_PNG=0).
// Usage: node --import tsx bench/infer-profile.ts   (the .cpuprofile stays in a temp folder, printed at the end)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { studentBundle } from '../test/helpers/bundle.js';

const N = Number(process.env.BENCH_N ?? 800);
const fx = await studentBundle({ size: 'small', steps: 2, examples: 300, parity: 16, maxNewTokens: 32 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-infer-profile-'));
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', path.join('bench', 'infer-server.ts'),
  path.join(path.dirname(fx.bundleDir), 'bundle.tar.gz')], { stdio: ['ignore', 'pipe', 'inherit'] });
const { url, key } = JSON.parse(await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve)));
const ex = fx.torch[0];
const body = JSON.stringify({ deployment: 'small', image: fs.readFileSync(path.join(fx.data, ex.image)).toString('base64'), question: ex.question, max_tokens: 16 });
let next = 0;
await Promise.all([0, 1].map(async () => {
  while (next++ < N) {
    const r = await fetch(`${url}/v1/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    if (r.status !== 200) throw new Error(await r.text());
    await r.arrayBuffer();
  }
}));
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));

// the largest profile is the main thread's
const file = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + prof.timeDeltas[i]));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const moduleOf = (u: string, name: string) => (u.includes('/node_modules/') ? u.split('/node_modules/')[1].split('/')[0] : u ? u.replace(/^file:\/\/.*?\/(api|bench|test)\//, '$1/') : name);
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const mods = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url: u, lineNumber } = byId.get(id)!.callFrame;
  add(mods, moduleOf(u, functionName || '(anonymous)'), us);
  add(fns, `${functionName || '(anonymous)'} ${moduleOf(u, '')}:${lineNumber + 1}`, us);
}
const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, us]) => `${(100 * us / total).toFixed(1).padStart(5)} %  ${name}`).join('\n');
console.log(`server CPU profile, ${N} requests from 2 clients, ${(total / 1e6).toFixed(1)} s sampled (start-up included): ${file}\n\nby module:\n${top(mods, 20)}\n\nby function (self time):\n${top(fns, 20)}`);
