// A live debugging session that keeps its recording, then the same breakpoints on a replay of that
// trace: the same stops at the same instruction counts on the same threads. And launch
// configurations that cannot work end the launch with a message that says what to change.

import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { guestImage, requireBuilt, ROOT } from '../helpers/guests.js';
import { client, launch, position, resumeAndStop, topFrame } from './helpers.js';

const PINGPONG = guestImage('vsm-pingpong');
const SOURCE = `${ROOT}/guests/examples/vsm-pingpong.c`;
const TMP = join(ROOT, 'test', '.tmp', 'dap');

interface Stop { reason: string; threadId: number; icount: number; frame: string; line: number }

/** Continue `n` times from the entry stop with a breakpoint in VTL1's v1_add1, then step a line and back. */
async function stops(dc: DebugClient, n: number): Promise<Stop[]> {
  const out: Stop[] = [];
  const bp = await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [{ line: 70 }] });
  expect(bp.body.breakpoints[0].verified).toBe(true);
  const record = async (reason: string, threadId: number) => {
    const f = await topFrame(dc, threadId);
    out.push({ reason, threadId, icount: (await position(dc)).icount, frame: f.name, line: f.line });
  };
  for (let k = 0; k < n; k++) {
    const s = await resumeAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    await record(s.body.reason, s.body.threadId!);
  }
  const next = await resumeAndStop(dc, () => dc.nextRequest({ threadId: 2 }));
  await record(next.body.reason, next.body.threadId!);
  const back = await resumeAndStop(dc, () => dc.stepBackRequest({ threadId: 2 }));
  await record(back.body.reason, back.body.threadId!);
  const rc = await resumeAndStop(dc, () => dc.reverseContinueRequest({ threadId: 2 }));
  await record(rc.body.reason, rc.body.threadId!);
  return out;
}

describe('replaying a trace recorded by a debugging session', () => {
  const trace = join(TMP, 'pingpong.vsmtrace');
  beforeAll(() => { requireBuilt([PINGPONG]); mkdirSync(TMP, { recursive: true }); rmSync(trace, { force: true }); });

  it('gives the same stops as the live session', async () => {
    const live = await client();
    await launch(live, { program: PINGPONG, smp: 2, memory: 32, trace });
    const a = await stops(live, 3);
    // Run on so that the recording covers every stop, then end the session (the trace is finished).
    await resumeAndStop(live, () => live.customRequest('vsmrr/gotoInstructionCount', { icount: a[2].icount + 50_000 }));
    await live.stop();
    expect(a.slice(0, 3).map((s) => s.reason)).toEqual(['breakpoint', 'breakpoint', 'breakpoint']);
    expect(a.slice(0, 3).every((s) => s.threadId === 2 && s.frame === 'v1_add1 [VTL1]')).toBe(true);
    expect(a[3].reason).toBe('step');
    expect(a[3].line).not.toBe(a[2].line);
    expect(a[4].icount).toBe(a[2].icount);
    expect(a[5]).toMatchObject({ reason: 'breakpoint', icount: a[1].icount });

    const replay = await client();
    const entry = await launch(replay, { trace });
    expect(entry.body.reason).toBe('entry');
    expect((await position(replay)).kind).toBe('replay');
    const b = await stops(replay, 3);
    expect(b).toEqual(a);
    // History cannot be changed in a replay.
    await expect(replay.customRequest('writeMemory', { memoryReference: '0x100000', data: 'AA==' })).rejects.toThrow(/replay/);
    await replay.stop();
  });
});

describe('bad launch configurations', () => {
  beforeAll(() => { requireBuilt([PINGPONG]); mkdirSync(TMP, { recursive: true }); });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no program and no trace', { smp: 2 }, /needs "program" \(a Multiboot ELF to boot and record\) or "trace"/],
    ['a program that does not exist', { program: 'guests/build/no-such.elf' }, /program '.*no-such\.elf' does not exist: check 'program'/],
    ['a program that is not an ELF', { program: 'package.json' }, /cannot boot '.*package\.json': .*not an ELF file/],
    ['a bad smp', { program: PINGPONG, smp: 0 }, /'smp' must be a whole number from 1 to 64 \(the launch configuration has 0\)/],
    ['a corrupt trace', { trace: join('test', '.tmp', 'dap', 'corrupt.vsmtrace') }, /cannot replay '.*corrupt\.vsmtrace': /],
    ['a missing symbols file', { program: PINGPONG, symbols: 'nope.elf64' }, /symbols file '.*nope\.elf64' does not exist/],
    ['machine options on a replay', { trace: join('test', '.tmp', 'dap', 'corrupt.vsmtrace'), smp: 2 }, /'smp' has no meaning when replaying a trace/],
  ];

  for (const [what, args, message] of cases) {
    it(`fails the launch for ${what}, with a message that says what to change`, async () => {
      writeFileSync(join(TMP, 'corrupt.vsmtrace'), 'SQLite format 3\0 but not really a database'.repeat(50));
      const dc = await client();
      await dc.initializeRequest();
      const terminated = dc.waitForEvent('terminated', 10_000);
      await expect(dc.launchRequest(args as never)).rejects.toThrow(message);
      await terminated;
      await dc.stop();
    });
  }
});
