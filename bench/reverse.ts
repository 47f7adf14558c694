// Reverse-step latency: run bench.elf for 100 million instructions in a live session (recording as it
// runs, as under gdb or VS Code), then at random positions measure one reverse step of VP 0 (the
// time a user waits after pressing reverse-stepi there). Positions are seeded, so every run measures
// the same ones.
//
//   node dist/bench/reverse.js [--insns N] [--samples K]

import { existsSync, readFileSync } from 'node:fs';
import { Session } from '../recorder/session.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => { const k = args.indexOf(name); return k >= 0 ? Number(args[k + 1]) : def; };
const insns = opt('--insns', 100_000_000);
const samples = opt('--samples', 30);
const image = 'guests/build/bench.elf';
if (!existsSync(image)) { console.error(`bench: ${image} is missing; run 'make -C guests' first`); process.exit(2); }

const s = Session.live({ ramMiB: 128, smp: 1, cmdline: 'iters=8' }, readFileSync(image));
const t0 = process.hrtime.bigint();
const end = s.continue({ limit: insns });
const runS = Number(process.hrtime.bigint() - t0) / 1e9;
const length = end.icount;

// xorshift32, fixed seed.
let x = 0x9e3779b9;
const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };

const stepMs: number[] = [];
const seekMs: number[] = [];
for (let k = 0; k < samples; k++) {
  const at = 1 + Math.floor(rnd() * (length - 1));
  const a = process.hrtime.bigint();
  s.seek(at);
  const b = process.hrtime.bigint();
  s.reverseStep(0);
  const c = process.hrtime.bigint();
  seekMs.push(Number(b - a) / 1e6);
  stepMs.push(Number(c - b) / 1e6);
}
const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(p * v.length))];
console.log(`bench.elf, live session: ${(length / 1e6).toFixed(1)} M instructions in ${runS.toFixed(1)} s; checkpoints at ${s.timeline.checkpointPositions().length} positions`);
console.log(`  reverse step at ${samples} random positions: median ${pct(stepMs, 0.5).toFixed(0)} ms, 90th percentile ${pct(stepMs, 0.9).toFixed(0)} ms, max ${Math.max(...stepMs).toFixed(0)} ms (target: median under 200 ms)`);
console.log(`  seek to those positions first: median ${pct(seekMs, 0.5).toFixed(0)} ms, max ${Math.max(...seekMs).toFixed(0)} ms`);
