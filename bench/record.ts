// Recording overhead and trace size on the CPU-bound guest: the same run plain and recorded (with
// the default hash and checkpoint intervals), in the same process, best of N each.
//
//   node dist/bench/record.js [--iters N] [--repeat K]

import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../core/machine/machine.js';
import { TraceWriter } from '../recorder/trace.js';
import { DEFAULT_RECORD, recordRun } from '../recorder/recorder.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => { const k = args.indexOf(name); return k >= 0 ? Number(args[k + 1]) : def; };
const iters = opt('--iters', 3);
const repeat = opt('--repeat', 3);
const image = 'guests/build/bench.elf';
if (!existsSync(image)) { console.error(`bench: ${image} is missing; run 'make -C guests' first`); process.exit(2); }
const bytes = readFileSync(image);
const config = { ramMiB: 128, smp: 1, cmdline: `iters=${iters}` };

let plain = Infinity, recorded = Infinity, icount = 0, traceBytes = 0;
for (let k = 0; k < repeat; k++) {
  const m = new Machine(config, bytes);
  const t0 = process.hrtime.bigint();
  m.run();
  plain = Math.min(plain, Number(process.hrtime.bigint() - t0) / 1e9);
  icount = m.icount();

  const path = join(tmpdir(), `vsmrr-bench-${process.pid}-${k}.trace`);
  rmSync(path, { force: true });
  const r = new Machine(config, bytes);
  const t1 = process.hrtime.bigint();
  const w = new TraceWriter(path);
  w.begin({ smp: 1, mem: 128, cmdline: config.cmdline, quantum: null, hv: true, maxInsns: null }, { name: 'bench.elf', bytes }, 'bench');
  recordRun(r, w, DEFAULT_RECORD);
  w.finish({ final_icount: String(r.icount()) });
  recorded = Math.min(recorded, Number(process.hrtime.bigint() - t1) / 1e9);
  traceBytes = statSync(path).size;
  rmSync(path, { force: true });
}
console.log(`bench.elf iters=${iters}: ${(icount / 1e6).toFixed(1)} M instructions (best of ${repeat})`);
console.log(`  run     ${plain.toFixed(2)} s`);
console.log(`  record  ${recorded.toFixed(2)} s   (${(recorded / plain).toFixed(2)}x of run; target at most 1.3x)`);
console.log(`  trace   ${traceBytes} bytes, ${(traceBytes / (icount / 1e6)).toFixed(0)} bytes per million instructions`);
