// Determinism as a property (DESIGN.md "Time", STYLE.md "Tests"): a run is a pure function of the
// image, the options and the input.
//
// * `vsmrr run --hash` prints the same state hash and icount on every run: guests that use the
//   scheduler (smp --smp 4), the APIC timers and HLT (apic-timer), serial input, and a stop at
//   --max-insns in the middle of a multi-VP run. Each --quantum value is reproducible too (different
//   quanta may legitimately give different hashes, and the guest must still pass).
// * In process, through the Machine API: running to N instructions in one run() call and in many
//   calls whose limits step up to N give identical stateHash(); two machines stepped alternately
//   give the same result (no state shared between machines); and the in-process final hash equals
//   the one the CLI prints.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, type MachineConfig, type StopReason } from '../core/machine/machine.js';
import { scratchDir } from './helpers/toolchain.js';
import { buildAsmFixtures, describeRun, guestImage, requireBuilt, vsmrr, type ProcResult } from './helpers/guests.js';

/** Per-test timeout: runs queue for the two job slots, and CI machines are slow. */
const SLOW = 300_000;

const HASH_LINE = /^vsmrr: state hash ([0-9a-f]{16}) at icount (\d+)$/m;

interface Hashed { status: number | null; hash: string; icount: number; run: ProcResult }

async function hashedRun(args: string[]): Promise<Hashed> {
  const run = await vsmrr(['run', ...args, '--hash']);
  const m = HASH_LINE.exec(run.stderr);
  expect(m, `no state hash line on stderr\n${describeRun(run)}`).not.toBeNull();
  return { status: run.status, hash: m![1], icount: Number(m![2]), run };
}

/** Two runs of the same command: same status, hash, icount and serial output. */
async function expectReproducible(args: string[]): Promise<Hashed> {
  const [a, b] = await Promise.all([hashedRun(args), hashedRun(args)]);
  const what = `vsmrr run ${args.join(' ')} --hash, run twice`;
  expect({ status: b.status, hash: b.hash, icount: b.icount }, `${what}\n${describeRun(a.run)}\n${describeRun(b.run)}`)
    .toEqual({ status: a.status, hash: a.hash, icount: a.icount });
  expect(b.run.stdout.equals(a.run.stdout), `${what}: serial output differs`).toBe(true);
  return a;
}

/** VSM guests of issue 4 (timers, IPIs, TLB lock): reproducible at every quantum, same output at any quantum. */
const VSM_GUESTS: { name: string; smp: number }[] = [
  { name: 'vsm-timers', smp: 2 },
  { name: 'vsm-tlblock', smp: 2 },
  { name: 'vsm-tlblock', smp: 4 },
  { name: 'vsm-ipi', smp: 2 },
  { name: 'vsm-ipi', smp: 4 },
];

let fixtures: Record<string, string> = {};
let serialInput = Buffer.alloc(0);
const scratch = scratchDir('determinism');

beforeAll(() => {
  requireBuilt(['hello', 'exceptions', 'smp', 'apic-timer', ...VSM_GUESTS.map((g) => g.name)].map((n) => guestImage(n)));
  fixtures = buildAsmFixtures(scratch.dir);
  // Several FIFOs' worth of bytes, so input enters the UART over many scheduling rounds.
  serialInput = Buffer.concat([Buffer.from('0123456789abcdef'.repeat(40)), Buffer.from([4])]);
  return scratch.dispose;
});

describe.concurrent('vsmrr run --hash is reproducible', { timeout: SLOW }, () => {
  const cases: [string, () => string[]][] = [
    ['hello', () => [guestImage('hello'), '--cmdline', 'a b c']],
    ['smp --smp 4', () => [guestImage('smp'), '--smp', '4']],
    ['apic-timer', () => [guestImage('apic-timer')]],
    ['smp --smp 4 stopped at --max-insns 1234567', () => [guestImage('smp'), '--smp', '4', '--max-insns', '1234567']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await expectReproducible(args());
      if (name.includes('--max-insns')) {
        expect(r.status).toBe(5);
        expect(r.icount).toBe(1234567);
      } else {
        expect(r.status, describeRun(r.run)).toBe(0);
      }
    });
  }

  it('echo fixture with --serial-in', async () => {
    const input = join(scratch.dir, 'serial.in');
    writeFileSync(input, serialInput);
    const r = await expectReproducible([fixtures.echo, '--serial-in', input, '--max-insns', '50000000']);
    expect(r.status, describeRun(r.run)).toBe(0);
    expect(r.run.stdout.equals(serialInput.subarray(0, -1))).toBe(true);
  });

  for (const [smp, quantum] of [[4, 1], [4, 137], [2, 33]]) {
    it(`smp --smp ${smp} --quantum ${quantum}: reproducible, and the guest still passes`, async () => {
      const r = await expectReproducible([guestImage('smp'), '--smp', String(smp), '--quantum', String(quantum)]);
      expect(r.status, describeRun(r.run)).toBe(0);
      expect(r.run.stdout.toString()).toMatch(/^SUMMARY: \d+ passed, 0 failed$/m);
    });
  }
});

describe.concurrent('VSM guests: reproducible, and their serial output does not depend on the quantum', { timeout: SLOW }, () => {
  for (const g of VSM_GUESTS) {
    it(`${g.name} --smp ${g.smp} with --quantum 1, 137 and the default`, async () => {
      const runs: Hashed[] = [];
      for (const q of [[], ['--quantum', '1'], ['--quantum', '137']]) {
        const r = await expectReproducible([guestImage(g.name), '--smp', String(g.smp), ...q]);
        expect(r.status, describeRun(r.run)).toBe(0);
        expect(r.run.stdout.toString()).toMatch(/^SUMMARY: \d+ passed, 0 failed$/m);
        runs.push(r);
      }
      for (const r of runs.slice(1)) expect(r.run.stdout.toString()).toBe(runs[0].run.stdout.toString());
    });
  }
});

// ---- in process ----------------------------------------------------------------------------

function machine(image: string, config: Partial<MachineConfig> = {}): Machine {
  return new Machine({ ramMiB: 128, smp: 1, cmdline: '', ...config }, readFileSync(image));
}

/**
 * Run limits that step up to n: single instructions at the start, then irregular steps that stop
 * inside scheduling rounds and inside a VP's slice (run(limit) takes a global icount).
 */
function limitsUpTo(n: number, seed: number): number[] {
  const out: number[] = [];
  let at = 0;
  for (let k = 0; k < 300 && at < n; k++) out.push(++at);
  let s = seed >>> 0;
  while (at < n) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    at = Math.min(n, at + 1 + (s % 250_007));
    out.push(at);
  }
  return out;
}

/** Run to each limit in turn; stop early if the machine stops for another reason. */
function runInSteps(m: Machine, limits: number[]): StopReason {
  let r: StopReason = { kind: 'max-insns' };
  for (const lim of limits) {
    r = m.run(lim);
    if (r.kind !== 'max-insns') break;
  }
  return r;
}

describe('Machine API: one run() vs. many run() calls', { timeout: SLOW }, () => {
  const cases: { name: string; image: () => string; config: Partial<MachineConfig>; n: number }[] = [
    // One VP, no devices: only the virtual clock (RDTSC in the loop) can tell the runs apart.
    { name: 'spin fixture (RDTSC loop), 1 VP, to 500,000 instructions', image: () => fixtures.spin, config: {}, n: 500_000 },
    { name: 'smp.elf, 4 VPs, to 1,200,000 instructions', image: () => guestImage('smp'), config: { smp: 4 }, n: 1_200_000 },
    { name: 'smp.elf, 2 VPs, quantum 77, to the end', image: () => guestImage('smp'), config: { smp: 2, quantum: 77 }, n: 100_000_000 },
    { name: 'apic-timer.elf to 3,000,000 instructions', image: () => guestImage('apic-timer'), config: {}, n: 3_000_000 },
    { name: 'exceptions.elf to the end', image: () => guestImage('exceptions'), config: {}, n: 100_000_000 },
  ];
  for (const c of cases) {
    it(`${c.name}: identical stateHash()`, () => {
      const one = machine(c.image(), c.config);
      const oneStop = one.run(c.n);
      const many = machine(c.image(), c.config);
      const manyStop = runInSteps(many, limitsUpTo(c.n, 12345));
      expect({ stop: manyStop, icount: many.icount(), hash: many.stateHash() },
        `run(${c.n}) once vs. stepwise (config ${JSON.stringify(c.config)})`)
        .toEqual({ stop: oneStop, icount: one.icount(), hash: one.stateHash() });
      if (c.n < 10_000_000) expect(oneStop.kind).toBe('max-insns');
      else expect(oneStop).toEqual({ kind: 'debug-exit', value: 0 });
    });
  }

  it('two machines stepped alternately match one stepped alone (no state shared between machines)', () => {
    // All three take the same run() limits, so this holds even if stopping and resuming mattered.
    const n = 900_000, step = 100_000;
    const limits = Array.from({ length: n / step }, (_, k) => (k + 1) * step);
    const alone = machine(guestImage('smp'), { smp: 3 });
    runInSteps(alone, limits);
    const a = machine(guestImage('smp'), { smp: 3 });
    const b = machine(guestImage('smp'), { smp: 3 });
    for (const lim of limits) {
      a.run(lim);
      b.run(lim);
    }
    expect(a.icount()).toBe(n);
    expect({ a: a.stateHash(), b: b.stateHash() }).toEqual({ a: alone.stateHash(), b: alone.stateHash() });
  });
});

describe('Machine API vs. the CLI', { timeout: SLOW }, () => {
  it('hello.elf: the final stateHash() equals what `vsmrr run --hash` prints', async () => {
    const m = machine(guestImage('hello'), { cmdline: 'x y' });
    expect(m.run()).toEqual({ kind: 'debug-exit', value: 0 });
    const cli = await hashedRun([guestImage('hello'), '--cmdline', 'x y']);
    expect({ hash: cli.hash, icount: cli.icount },
      `dist/ (the CLI) and the TypeScript sources disagree; is dist/ stale? ('npm run build')\n${describeRun(cli.run)}`)
      .toEqual({ hash: m.stateHash(), icount: m.icount() });
  });
});
