// Flush hypercalls (spec/vsm.md 2.7) against the per-(VP, VTL) TLBs, and the TLB lock (spec/vsm.md 8):
// a VTL0 flush targeting a VP whose VTL0 TLB VTL1 locked stays on its VMCALL until the lock goes.

import { describe, expect, it } from 'vitest';
import type { Machine } from '../../core/machine/machine.js';
import type { MachineEvent } from '../../core/machine/events.js';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import { HvRegisterName as R } from '../../core/hv/defs/registers.js';
import { ENTRY, IN, hypercall, vsmMachine } from './vsm-machine.js';

/** Record the TLB maintenance each (VP, VTL) gets. */
function spyTlbs(m: Machine): string[] {
  const log: string[] = [];
  for (const vp of m.vps) {
    for (const ctx of vp.vtls) {
      if (!ctx) continue;
      const mmu = ctx.cpu.mmu, tag = `${vp.index}/${ctx.vtl}`;
      const all = mmu.flushAll.bind(mmu), ng = mmu.flushNonGlobal.bind(mmu), pg = mmu.flushPage.bind(mmu);
      mmu.flushAll = () => { log.push(`${tag} all`); all(); };
      mmu.flushNonGlobal = () => { log.push(`${tag} non-global`); ng(); };
      mmu.flushPage = (lo, hi) => { log.push(`${tag} page ${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`); pg(lo, hi); };
    }
  }
  return log;
}

function header(space: number, flags: number, mask: number): Uint8Array {
  const b = new Uint8Array(24);
  const d = new DataView(b.buffer);
  d.setUint32(0, space, true); d.setUint32(8, flags, true); d.setUint32(16, mask, true);
  return b;
}

const u64 = (lo: number, hi = 0) => { const b = new Uint8Array(8); const d = new DataView(b.buffer); d.setUint32(0, lo >>> 0, true); d.setUint32(4, hi >>> 0, true); return b; };
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const SPIN = [0xeb, 0xfe];

describe('flush hypercalls (spec/vsm.md 2.7)', () => {
  it('FlushVirtualAddressSpace flushes the caller VTL\'s TLB of each VP in the mask; non-global only when asked', () => {
    const m = vsmMachine(SPIN, SPIN, { smp: 3 });
    const log = spyTlbs(m);
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0x1000, 4, 0b101)).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['0/0 non-global', '2/0 non-global']);
    log.length = 0;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0, 1 | 2, 0)).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['0/0 all', '1/0 all', '2/0 all']);
    log.length = 0;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0, 0, 0)).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual([]); // an empty set flushes nothing
  });

  it('HV_FLUSH_USE_TARGET_VTL selects VTLs at or below the caller\'s; above is ACCESS_DENIED', () => {
    const m = vsmMachine(SPIN, SPIN, { smp: 2 });
    const log = spyTlbs(m);
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0, 0x10 | 0x200, 2)).status).toBe(S.HV_STATUS_ACCESS_DENIED);
    m.vps[0].activeVtl = 1;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0, 0x10 | 0x300, 2)).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['1/0 all', '1/1 all']);
  });

  it('FlushVirtualAddressList flushes each page of each range; a long list flushes everything', () => {
    const m = vsmMachine(SPIN, SPIN, { smp: 2 });
    const log = spyTlbs(m);
    const list = cat(header(0, 0, 2), u64(0x7000 | 2), u64(0xfffff000, 0xffff8000));
    const r = hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressList | 0, list, 2);
    expect(r).toMatchObject({ status: S.HV_STATUS_SUCCESS, reps: 2 });
    expect(log).toEqual(['1/0 page 0:7000', '1/0 page 0:8000', '1/0 page 0:9000', '1/0 page ffff8000:fffff000']);
    log.length = 0;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressList, cat(header(0, 4, 2), u64(0x10000 | 0xfff)), 1).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['1/0 non-global']);
  });

  it('the Ex forms take an HV_VP_SET (sparse banks in the variable header, or all VPs)', () => {
    const m = vsmMachine(SPIN, SPIN, { smp: 3 });
    const log = spyTlbs(m);
    const ex = (format: number, banks: number[]) => cat(u64(0), u64(0), u64(format), u64(banks.length ? 1 : 0), ...banks.map((b) => u64(b)));
    const varHeader = (n: number) => n << 17;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpaceEx | varHeader(1), ex(0, [0b110])).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['1/0 all', '2/0 all']);
    log.length = 0;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpaceEx, ex(0, [0b110])).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressListEx, cat(ex(1, []), u64(0x5000)), 1).status).toBe(S.HV_STATUS_SUCCESS);
    expect(log).toEqual(['0/0 page 0:5000', '1/0 page 0:5000', '2/0 page 0:5000']);
  });
});

describe('TLB lock (spec/vsm.md 8)', () => {
  // VP0, VTL0, 32-bit: slow FlushVirtualAddressSpace with the input at IN; status into EBP; exit 5.
  const FLUSHER = [
    0xb8, 2, 0, 0, 0, 0x31, 0xd2, 0x31, 0xdb, 0xb9, ...[IN & 0xff, (IN >>> 8) & 0xff, (IN >>> 16) & 0xff, IN >>> 24],
    0x31, 0xff, 0x31, 0xf6, 0x0f, 0x01, 0xc1, 0x89, 0xc5, 0xb8, 5, 0, 0, 0, 0xe7, 0xf4,
  ];
  const VMCALL_AT = ENTRY + 18;

  function lockedMachine(): { m: Machine; events: MachineEvent[] } {
    const m = vsmMachine(FLUSHER, SPIN, { smp: 2 });
    const events: MachineEvent[] = [];
    m.observer = { event: (e) => { if (e.kind === 'flush' || e.kind === 'tlb-lock' || (e.kind === 'hypercall' && e.code === 2)) events.push(e); } };
    // VP1's VTL1 locks its VTL0 TLB (SetVpRegisters VsmVpSecureConfigVtl0.tlb_locked).
    const set = new Uint8Array(48);
    const d = new DataView(set.buffer);
    set.fill(0xff, 0, 8); d.setUint32(8, 0xfffffffe, true);
    d.setUint32(16, R.VsmVpSecureConfigVtl0, true); d.setUint32(32, 2, true);
    m.vps[1].activeVtl = 1;
    expect(hypercall(m, m.vps[1], HvCall.HvCallSetVpRegisters, set, 1).status).toBe(S.HV_STATUS_SUCCESS);
    m.vps[1].activeVtl = 0;
    m.mem.writeBytes(IN, header(0, 0, 0b10)); // VP0's flush: VP1
    return { m, events };
  }

  it('a VTL0 flush of a locked VP stays on its VMCALL, with no result, until VTL1 unlocks; then it succeeds', () => {
    const { m, events } = lockedMachine();
    const vp0 = m.vps[0];
    const stop = m.run(1_000_000);
    expect(stop.kind).toBe('deadlock'); // VP0 blocked, VP1 waits for SIPI: nothing can run
    expect(vp0.cpu.st.ripLo).toBe(VMCALL_AT);
    expect(vp0.cpu.st.lo[0]).toBe(2); // EAX still the control word: no result written
    expect(events.map((e) => e.kind === 'flush' ? `flush${e.blocked ? ' blocked' : ''}` : e.kind)).toEqual(['tlb-lock', 'flush blocked']);
    const icount = m.icount();
    expect(m.run(2_000_000).kind).toBe('deadlock');
    expect(m.icount()).toBe(icount); // no busy loop: nothing retired while blocked
    m.hv!.setTlbLock(1, 0, false, 1);
    expect(m.run(2_000_000)).toEqual({ kind: 'debug-exit', value: 5 });
    expect(vp0.cpu.st.lo[5]).toBe(S.HV_STATUS_SUCCESS); // EBP = status
    expect(events.slice(2).map((e) => e.kind === 'flush' ? `flush${e.blocked ? ' blocked' : ''}` : e.kind)).toEqual(['tlb-lock', 'flush', 'hypercall']);
  });

  it('VTL1 itself is not blocked by its own lock; unrelated VPs are not blocked', () => {
    const { m } = lockedMachine();
    m.vps[0].activeVtl = 1;
    expect(hypercall(m, m.vps[0], HvCall.HvCallFlushVirtualAddressSpace, header(0, 0x10 | 0x100, 0b10)).status).toBe(S.HV_STATUS_SUCCESS);
    m.vps[0].activeVtl = 0;
    m.mem.writeBytes(IN, header(0, 0, 0b01)); // flush VP0 only
    expect(m.run(1_000_000)).toEqual({ kind: 'debug-exit', value: 5 });
  });

  it('a machine saved while a VP is blocked restores blocked, and both finish identically after the unlock', () => {
    const { m: a } = lockedMachine();
    expect(a.run(1_000_000).kind).toBe('deadlock');
    const snap = structuredClone(a.save());
    const { m: b } = lockedMachine();
    b.restore(snap);
    expect(b.stateHash()).toBe(a.stateHash());
    for (const m of [a, b]) {
      expect(m.run(1_000_000).kind).toBe('deadlock'); // still blocked
      m.hv!.setTlbLock(1, 0, false, 1);
      expect(m.run(2_000_000), m === a ? 'original' : 'restored').toEqual({ kind: 'debug-exit', value: 5 });
    }
    expect(b.stateHash()).toBe(a.stateHash());
  });
});
