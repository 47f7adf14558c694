// Guest MIPS of vsmrr on a CPU-bound guest (guests/examples/bench.c: CRC32, sort, matrix multiply,
// string work), side by side with QEMU TCG (plain and -icount shift=0) when QEMU is installed.
// All figures come from the same run, so compare the ratios: these machines are shared and noisy.
//
//   npm run bench [-- --iters N] [--repeat K]

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Machine } from '../core/machine/machine.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const k = args.indexOf(name);
  return k >= 0 ? Number(args[k + 1]) : def;
};
const iters = opt('--iters', 3);
const qemuIters = opt('--qemu-iters', 60);
const repeat = opt('--repeat', 3);
const image = 'guests/build/bench.elf';
if (!existsSync(image)) {
  console.error(`bench: ${image} is missing; run 'make -C guests' first`);
  process.exit(2);
}
const bytes = readFileSync(image);

function runVsmrr(cmdline: string): { icount: number; seconds: number; out: string } {
  const m = new Machine({ ramMiB: 128, smp: 1, cmdline }, bytes);
  let out = '';
  m.observer = { event: (e) => { if (e.kind === 'serial') out += String.fromCharCode(e.byte); } };
  const t0 = process.hrtime.bigint();
  const stop = m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (stop.kind !== 'debug-exit' || stop.value !== 0) throw new Error(`bench guest failed in vsmrr: ${JSON.stringify(stop)}\n${out}`);
  return { icount: m.icount(), seconds, out };
}

function qemuSeconds(extra: string[], cmdline: string): number | null {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', ['-accel', 'tcg', ...extra, '-m', '128', '-display', 'none', '-monitor', 'none',
    '-serial', 'null', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4', '-kernel', image, '-append', cmdline],
    { timeout: 600_000 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return r.status === 1 ? s : null; // guest exit(0) → QEMU status 1
}

const haveQemu = (() => { try { execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

// Subtract start-up and boot: a run with iters=0 does everything but the measured work.
const base = runVsmrr('iters=0');
let best = 0, icount = 0;
for (let k = 0; k < repeat; k++) {
  const r = runVsmrr(`iters=${iters}`);
  icount = r.icount - base.icount;
  best = Math.max(best, icount / Math.max(1e-9, r.seconds - base.seconds) / 1e6);
}
const rows: [string, number][] = [['vsmrr', best]];
if (haveQemu) {
  // QEMU is much faster: give it more iterations (the work per iteration is the same program, so the
  // instruction count scales exactly) and subtract its start-up the same way.
  const perIter = icount / iters;
  for (const [name, extra] of [['qemu tcg', []], ['qemu tcg -icount shift=0', ['-icount', 'shift=0,sleep=off']]] as const) {
    let q = 0;
    for (let k = 0; k < repeat; k++) {
      const b = qemuSeconds([...extra], 'iters=0');
      const s = qemuSeconds([...extra], `iters=${qemuIters}`);
      if (b !== null && s !== null && s > b) q = Math.max(q, (perIter * qemuIters) / (s - b) / 1e6);
    }
    rows.push([name, q]);
  }
}
console.log(`bench.elf iters=${iters}: ${(icount / 1e6).toFixed(1)} M guest instructions of measured work (best of ${repeat})`);
for (const [name, mips] of rows) {
  const ratio = name === 'vsmrr' ? '' : mips > 0 ? `  (vsmrr is ${(best / mips).toFixed(3)}x of it)` : '  (failed)';
  console.log(`  ${name.padEnd(26)} ${mips.toFixed(1).padStart(8)} MIPS${ratio}`);
}
if (!haveQemu) console.log('  (qemu-system-x86_64 not installed: no comparison)');
