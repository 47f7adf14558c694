// The GDB stub end to end: `vsmrr gdb` on an example VSM guest, driven by real gdb 13 in batch mode,
// checking gdb's own output (spec/interfaces.md A.9). Reverse execution here goes back across the
// guest's VTL1 enablement (to checkpoints taken before VTL1 existed).

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, guestImage, requireBuilt } from '../helpers/guests.js';
import { PINGPONG, PINGPONG_SYMS, gdbAvailable, runGdb, startStub, type StubProcess } from './helpers.js';

const stubs: StubProcess[] = [];
async function stub(args: string[]): Promise<StubProcess> {
  const s = await startStub(args);
  stubs.push(s);
  return s;
}

/** The value gdb printed for `p EXPR` as the n-th `$k = value` line matching `label` printf output. */
function printed(out: string, label: string): string[] {
  return [...out.matchAll(new RegExp(`^${label} (.*)$`, 'gm'))].map((m) => m[1]);
}

afterEach(async () => {
  await Promise.all(stubs.splice(0).map((s) => s.stop()));
});

describe.skipIf(!gdbAvailable())('gdb stub with real gdb', () => {
  beforeAll(() => requireBuilt([PINGPONG, PINGPONG_SYMS, guestImage('hello'), guestImage('bench')]));

  it('connects without an ELF or set architecture: QEMU register layout plus vtl and icount, VTL threads', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, ['info registers rip eflags', 'info registers vtl icount', 'maint print remote-registers', 'info threads']);
    expect(r.all).not.toMatch(/too long|Truncated register|does not support this command/);
    expect(r.stdout).toMatch(/^rip\s+0x10000c\s+0x10000c$/m);
    expect(r.stdout).toMatch(/^eflags\s+0x2\s+\[ \]$/m);
    expect(r.stdout).toMatch(/^vtl\s+0x0\s+0$/m);
    expect(r.stdout).toMatch(/^icount\s+0x0\s+0$/m);
    // Remote number and g offset: QEMU's 66 core registers, then the project feature.
    const reg = (name: string, num: number, off: number) => expect(r.stdout).toMatch(new RegExp(`^ ${name}\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\S+\\s+${num}\\s+${off}\\s*$`, 'm'));
    reg('rax', 0, 0); reg('rsp', 7, 56); reg('rip', 16, 128); reg('eflags', 17, 136); reg('cs', 18, 140); reg('fs_base', 24, 164);
    reg('cr0', 27, 188); reg('efer', 32, 228); reg('st0', 33, 236); reg('fctrl', 41, 316); reg('xmm0', 49, 348); reg('mxcsr', 65, 604);
    reg('vtl', 66, 608); reg('icount', 67, 609);
    expect(r.stdout).toMatch(/\* 1\s+Thread 1 "vp0 VTL0 \(active\)" \(runnable\) 0x000000000010000c in \?\? \(\)/);
  });

  it('steps from VTL0 into the hypercall page and on into VTL1 (a thread switch), and reverse-steps back out', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'break vtl_call', 'continue', 'delete',
      'info threads',
      // The inactive VTL's thread: its own registers, and memory through its own page tables.
      'thread 2', 'printf "VTL1-THREAD vtl=%d cr3=%#lx\\n", $vtl, $cr3', 'x/i $pc', 'thread 1',
      'printf "VTL0-THREAD vtl=%d cr3=%#lx\\n", $vtl, $cr3',
      'set $n = 0',
      'while ($pc < (unsigned long)&hv_vtl0_hypercall_page || $pc >= (unsigned long)&hv_vtl0_hypercall_page + 4096) && $n < 40',
      '  stepi', '  set $n = $n + 1', 'end',
      'printf "HCPAGE vtl=%d thread=%d\\n", $vtl, $_thread',
      'set $n = 0',
      'while $vtl == 0 && $n < 10', '  stepi', '  set $n = $n + 1', 'end',
      'printf "ENTERED vtl=%d thread=%d\\n", $vtl, $_thread',
      'info threads',
      'reverse-stepi',
      'printf "BACK vtl=%d thread=%d\\n", $vtl, $_thread',
      'x/i $pc',
    ], { elf: PINGPONG_SYMS });
    expect(r.all).toMatch(/Thread 1 "vp0 VTL0 \(active\)" hit Breakpoint 1, 0x[0-9a-f]+ in vtl_call \(\)/);
    expect(r.stdout).toMatch(/2\s+Thread 2 "vp0 VTL1" \(runnable\)\s+0x[0-9a-f]+ in vtl1_start \(\)/);
    const [v1] = printed(r.stdout, 'VTL1-THREAD'), [v0] = printed(r.stdout, 'VTL0-THREAD');
    expect(v1).toMatch(/^vtl=1 cr3=0x[0-9a-f]+$/);
    expect(v0).toMatch(/^vtl=0 cr3=0x[0-9a-f]+$/);
    expect(v1.split('cr3=')[1]).not.toBe(v0.split('cr3=')[1]);
    expect(r.stdout).toMatch(/=> 0x[0-9a-f]+ <vtl1_start>:/);
    expect(printed(r.stdout, 'HCPAGE')).toEqual(['vtl=0 thread=1']);
    expect(r.all).toMatch(/\[Switching to Thread 2\]/);
    expect(printed(r.stdout, 'ENTERED')).toEqual(['vtl=1 thread=2']);
    expect(r.stdout).toMatch(/\* 2\s+Thread 2 "vp0 VTL1 \(active\)"/);
    expect(r.stdout).toMatch(/ 1\s+Thread 1 "vp0 VTL0" \(runnable\)\s+0x[0-9a-f]+ in hv_vtl0_hypercall_page \(\)/);
    expect(printed(r.stdout, 'BACK')).toEqual(['vtl=0 thread=1']);
    expect(r.stdout).toMatch(/=> 0x[0-9a-f]+ <hv_vtl0_hypercall_page\+\d+>:\s+vmcall/);
  });

  it('breaks on a VTL1 function and reverse-continues to its previous hit', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'break test_entry_and_return', 'continue', 'delete',
      'break v1_add1', 'continue', 'continue', 'continue',
      'printf "FORWARD arg=%d vtl=%d icount=%d\\n", c->arg, $vtl, $icount',
      'reverse-continue',
      'printf "REVERSE arg=%d vtl=%d icount=%d\\n", c->arg, $vtl, $icount',
    ], { elf: PINGPONG_SYMS });
    expect(r.all).toMatch(/Thread 2 "vp0 VTL1 \(active\)" hit Breakpoint 2, v1_add1 \(c=/);
    const [f] = printed(r.stdout, 'FORWARD'), [b] = printed(r.stdout, 'REVERSE');
    expect(f).toMatch(/^arg=14 vtl=1 icount=\d+$/);
    expect(b).toMatch(/^arg=7 vtl=1 icount=\d+$/);
    expect(Number(b.split('icount=')[1])).toBeLessThan(Number(f.split('icount=')[1]));
  });

  it('a write watchpoint hit in reverse stops before the write, with the old value', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'break spin_with_patterns', 'continue', 'delete',
      'watch spin_count', 'continue', 'continue',
      'printf "AFTER %d\\n", spin_count',
      'reverse-continue',
      'printf "BEFORE %d\\n", spin_count',
      'x/i $pc',
    ], { elf: PINGPONG_SYMS });
    expect(r.stdout).toMatch(/Hardware watchpoint 2: spin_count\s+Old value = 50000\s+New value = 49999/);
    expect(printed(r.stdout, 'AFTER')).toEqual(['49998']);
    // Going backwards gdb reports the change it sees: from the value after the write to the one before.
    expect(r.stdout).toMatch(/Hardware watchpoint 2: spin_count\s+Old value = 49998\s+New value = 49999/);
    expect(printed(r.stdout, 'BEFORE')).toEqual(['49999']);
    expect(r.stdout).toMatch(/=> 0x[0-9a-f]+ <spin_with_patterns\+\d+>:\s+decq/);
  });

  it('reverse-continue and reverse-stepi past the start report the end of the history', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'stepi', 'stepi', 'stepi', 'printf "STEPPED %d\\n", $icount',
      'reverse-continue', 'printf "START %d %#lx\\n", $icount, $pc',
      'reverse-stepi', 'printf "STILL %d\\n", $icount',
    ]);
    expect(printed(r.stdout, 'STEPPED')).toEqual(['3']);
    expect(r.all.match(/No more reverse-execution history\./g)?.length).toBe(2);
    expect(printed(r.stdout, 'START')).toEqual(['0 0x10000c']);
    expect(printed(r.stdout, 'STILL')).toEqual(['0']);
  });

  it('loads the ELF for symbols: reverse-next and reverse-finish at source level', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'break test_entry_and_return', 'continue', 'delete',
      'break msr_case', 'continue', 'continue', 'delete',
      'next', 'next', 'printf "LINE-A %d\\n", $icount', 'info line *$pc',
      'next', 'info line *$pc',
      'reverse-next', 'printf "LINE-B %d\\n", $icount', 'info line *$pc',
      'reverse-finish', 'info symbol $pc', 'bt 1',
    ], { elf: PINGPONG_SYMS });
    const lines = [...r.stdout.matchAll(/^Line (\d+) of "([^"]+)"/gm)].map((m) => `${m[2]}:${m[1]}`);
    expect(lines).toHaveLength(3);
    // reverse-next comes back to the line the last next started from, at the same instruction.
    expect(lines[2]).toBe(lines[0]);
    expect(lines[1]).not.toBe(lines[0]);
    expect(printed(r.stdout, 'LINE-B')).toEqual(printed(r.stdout, 'LINE-A'));
    // reverse-finish: back in the caller, at the call of msr_case.
    expect(r.stdout).toMatch(/in test_private_msrs \(\) at examples\/vsm-pingpong\.c:\d+\n\d+\s+msr_case\("SYSENTER_EIP"/);
    expect(r.stdout).toMatch(/^#0\s+0x[0-9a-f]+ in test_private_msrs \(\)/m);
  });

  it('monitor commands: help, when, goto, bookmarks, vtl, events, break-on (both directions), checkpoint, phys', async () => {
    const s = await stub([PINGPONG]);
    const r = await runGdb(s.port, [
      'monitor help', 'monitor when',
      'monitor goto 60000', 'maintenance flush register-cache', 'printf "AT %d\\n", $icount',
      'monitor bookmark early', 'monitor goto 80000', 'monitor vtl', 'monitor events 3',
      'monitor goto-bookmark early', 'maintenance flush register-cache', 'printf "BOOKMARK %d\\n", $icount',
      'monitor break-on vtl-transition',
      'continue', 'printf "EVENT1 vtl=%d thread=%d icount=%d\\n", $vtl, $_thread, $icount',
      'continue', 'printf "EVENT2 vtl=%d thread=%d icount=%d\\n", $vtl, $_thread, $icount',
      'reverse-continue', 'printf "EVENT3 vtl=%d thread=%d icount=%d\\n", $vtl, $_thread, $icount',
      'monitor break-on off',
      'monitor break-on hypercall 0x11',
      'monitor break-on',
      'continue', 'printf "HYPERCALL rcx=%#lx vtl=%d\\n", $rcx, $vtl',
      'monitor break-on off',
      'monitor checkpoint',
      'monitor phys on', 'maint packet qqemu.PhyMemMode', 'x/2xb 0x10000c', 'monitor phys off',
      'monitor goto 99999999999', 'monitor goto soon',
    ]);
    const all = r.all;
    expect(all).toMatch(/goto ICOUNT\s+go to instruction count ICOUNT/);
    expect(all).toMatch(/instruction 0 \(live edge at 0\); VP 0, VTL0 \(thread 1\)/);
    expect(printed(r.stdout, 'AT')).toEqual(['60000']);
    expect(all).toMatch(/bookmark 'early' at instruction 60000, VP 0/);
    expect(all).toMatch(/VP 0 VTL0 \(active\), thread 1: rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+/);
    expect(all).toMatch(/VP 0 VTL1, thread 2: rip=0x[0-9a-f]+/);
    expect(all).toMatch(/#\d+ @\d+ (hypercall|hypercall-start|vtl-switch) vp0/);
    expect(all).toMatch(/---- now: instruction 80000/);
    expect(printed(r.stdout, 'BOOKMARK')).toEqual(['60000']);
    expect(all).toMatch(/maintenance flush register-cache/);
    // Event stops, forward and backward: the first VTL entry, the return, then back to the entry.
    const ev = [1, 2, 3].map((k) => printed(r.stdout, `EVENT${k}`)[0]);
    expect(ev[0]).toMatch(/^vtl=1 thread=2 icount=\d+$/);
    expect(ev[1]).toMatch(/^vtl=0 thread=1 icount=\d+$/);
    expect(ev[2]).toBe(ev[0]);
    expect(all).toMatch(/stopped at event #\d+ \(instruction \d+\): vtl-switch vp0 VTL0->VTL1/);
    expect(all).toMatch(/event stops: hypercall 0x11/);
    expect(all).toMatch(/stopped at event #\d+ \(instruction \d+\): hypercall-start vp0 vtl=0 code=0x11/);
    // The stop comes after the event: the VTL call's VMCALL has already entered VTL1.
    expect(printed(r.stdout, 'HYPERCALL')).toEqual(['rcx=0x11 vtl=1']);
    expect(all).toMatch(/checkpoint at instruction \d+/);
    expect(all).toMatch(/memory accesses use guest-physical addresses/);
    expect(all).toMatch(/received: "1"/);
    expect(r.stdout).toMatch(/0x10000c:\s+0x[0-9a-f]{2}\s+0x[0-9a-f]{2}/);
    // Past the end of a live run: the machine runs to where it stops by itself.
    expect(all).toMatch(/now at instruction (\d+) of \1 \(the machine stopped there\)/);
    expect(all).toMatch(/error: goto ICOUNT must be a number, not 'soon'/);
  });

  it('Ctrl-C (SIGINT to gdb) interrupts a running guest', async () => {
    const s = await stub([guestImage('bench')]);
    // Batch gdb prints nothing when it resumes: the marker before `continue` starts the clock.
    const r = await runGdb(s.port, ['echo RUNNING\\n', 'continue', 'printf "STOPPED %d\\n", $icount', 'monitor when'], {
      onOutput: { match: /RUNNING/, then: (p) => setTimeout(() => p.kill('SIGINT'), 1500) },
    });
    expect(r.all).toMatch(/received signal SIGINT, Interrupt\./);
    const [n] = printed(r.stdout, 'STOPPED');
    expect(Number(n)).toBeGreaterThan(1_000_000);
    expect(r.all).toMatch(new RegExp(`instruction ${n} \\(live edge at ${n}\\)`));
  });

  it('register writes at the live edge take effect; in the past and in a replay they are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsmrr-gdbtrace-'));
    const trace = join(dir, 'hello.vsmtrace');
    execFileSync(process.execPath, [CLI, 'record', guestImage('hello'), '-o', trace], { stdio: 'ignore' });
    const live = await stub([guestImage('hello')]);
    const a = await runGdb(live.port, [
      'stepi 5', 'set $rbx = 0x1234', 'printf "SET %#lx\\n", $rbx',
      'reverse-stepi', 'set $rbx = 1',
    ]);
    expect(printed(a.stdout, 'SET')).toEqual(['0x1234']);
    expect(a.all).toMatch(/Could not write register "rbx"; remote failure reply 'E01'/);
    const replay = await stub([trace]);
    const b = await runGdb(replay.port, ['continue', 'printf "END %d\\n", $icount', 'monitor when', 'set $rbx = 1']);
    expect(b.all).toMatch(/No more reverse-execution history\./);
    expect(b.all).not.toMatch(/exited|Remote connection closed/);
    expect(printed(b.stdout, 'END')).toEqual(['50689']);
    expect(b.all).toMatch(/instruction 50689 of 50689 recorded/);
    expect(b.all).toMatch(/Could not write register "rbx"; remote failure reply 'E01'/);
  });
});
