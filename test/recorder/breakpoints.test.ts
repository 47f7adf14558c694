// Breakpoint regressions found through gdb: a VTL context created during a run (HvCallEnableVpVtl)
// gets the breakpoints of that run, forwards and when a reverse-continue replays the interval; a VP
// that moves with breakpoints disarmed (a step, a seek) does not skip its next breakpoint.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../recorder/session.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';

/** Addresses from the guest's symbols (the .elf64 of the same build). */
function symbol(name: string): bigint {
  const elf = readFileSync(guestImage('vsm-pingpong', 'elf64'));
  // 64-bit ELF: section headers → .symtab and its .strtab.
  const shoff = Number(elf.readBigUInt64LE(0x28)), shentsize = elf.readUInt16LE(0x3a), shnum = elf.readUInt16LE(0x3c);
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (elf.readUInt32LE(sh + 4) !== 2) continue;   // SHT_SYMTAB
    const off = Number(elf.readBigUInt64LE(sh + 0x18)), size = Number(elf.readBigUInt64LE(sh + 0x20));
    const strSh = shoff + elf.readUInt32LE(sh + 0x28) * shentsize;
    const strOff = Number(elf.readBigUInt64LE(strSh + 0x18));
    for (let s = off; s < off + size; s += 24) {
      const n = strOff + elf.readUInt32LE(s);
      const end = elf.indexOf(0, n);
      if (elf.toString('latin1', n, end) === name) return elf.readBigUInt64LE(s + 8);
    }
  }
  throw new Error(`no symbol ${name}`);
}

function live(): Session {
  requireBuilt([guestImage('vsm-pingpong'), guestImage('vsm-pingpong', 'elf64')]);
  return Session.live({ ramMiB: 32, smp: 1, cmdline: '' }, readFileSync(guestImage('vsm-pingpong')));
}

describe('breakpoints and VTL contexts', () => {
  it('a VTL1 breakpoint set before VTL1 exists is hit going forward, and found again by reverse-continue', () => {
    const s = live();
    const add1 = symbol('v1_add1');
    s.setBreakpoint(add1);
    const first = s.continue();
    expect(first).toMatchObject({ reason: 'breakpoint', addr: add1, vtl: 1 });
    const second = s.continue();
    expect(second).toMatchObject({ reason: 'breakpoint', addr: add1, vtl: 1 });
    expect(second.icount).toBeGreaterThan(first.icount);
    // Back over an interval that starts before VTL1 was enabled.
    const back = s.reverseContinue();
    expect(back).toMatchObject({ reason: 'breakpoint', addr: add1, vtl: 1, icount: first.icount });
  });

  it('stepping away from a breakpoint stop does not make the next breakpoint be skipped', () => {
    const fn = symbol('test_entry_and_return'), callee = symbol('vtl_call_regs');
    // Where vtl_call_regs is first reached, by a plain run.
    const ref = live();
    ref.setBreakpoint(callee);
    const want = ref.continue();
    expect(want).toMatchObject({ reason: 'breakpoint', addr: callee });
    const s = live();
    s.setBreakpoint(fn);
    expect(s.continue()).toMatchObject({ reason: 'breakpoint', addr: fn });
    s.clearBreakpoint(fn);
    for (let k = 0; k < 3; k++) s.step(0);
    s.setBreakpoint(callee);
    expect(s.continue()).toMatchObject({ reason: 'breakpoint', addr: callee, icount: want.icount });
  });
});
