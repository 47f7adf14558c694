// SynIC connections (spec/vsm.md 7, core/hv/connections.ts): HvCallPostMessage into a message slot,
// HvCallSignalEvent into the event flags page, the partition's connection table in snapshots, and
// QEMU's hyperv-testdev port through which a guest creates connections.

import { describe, expect, it } from 'vitest';
import type { Machine } from '../../core/machine/machine.js';
import type { Vp } from '../../core/machine/vp.js';
import { dispatchHypercall } from '../../core/hv/hypercall.js';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import type { MachineEvent } from '../../core/machine/events.js';
import { enableHypercalls, ENTRY, HC_PAGE, hypercall, IN, plainMachine, SIMP0 } from './vsm-machine.js';
import { join } from 'node:path';
import { Machine as MachineClass } from '../../core/machine/machine.js';
import { TraceReader, TraceWriter } from '../../recorder/trace.js';
import { recordRun } from '../../recorder/recorder.js';
import { replay } from '../../recorder/replay.js';
import { elf32, multibootHeader } from '../helpers/guests.js';
import { scratchDir } from '../helpers/toolchain.js';

const SPIN = [0xeb, 0xfe];
const SINT0 = 0x40000090, SIEFP = 0x40000082, EOM = 0x40000084;
const SIEF0 = 0x340000;
const FAST = 0x10000;

function postInput(conn: number, type: number, size: number, payload: number[] = []): Uint8Array {
  const b = new Uint8Array(256);
  const d = new DataView(b.buffer);
  d.setUint32(0, conn, true); d.setUint32(8, type, true); d.setUint32(12, size, true);
  b.set(payload, 16);
  return b;
}

/** A fast hypercall (32-bit ABI: input in EBX:ECX); returns the status. */
function fastcall(m: Machine, vp: Vp, control: number, lo: number, hi = 0): number {
  const st = vp.cpu.st;
  const save = [...st.lo];
  const rip = st.ripLo;
  st.lo[0] = control | FAST; st.lo[2] = 0; st.lo[1] = lo; st.lo[3] = hi; st.lo[7] = 0; st.lo[6] = 0;
  dispatchHypercall(m.hv!, vp);
  const status = vp.cpu.st.lo[0] & 0xffff;
  st.lo.set(save); st.ripLo = rip;
  return status;
}

function setup(): { m: Machine; vp: Vp; events: MachineEvent[] } {
  const m = plainMachine(SPIN);
  const vp = m.vps[0];
  enableHypercalls(m, 0, 0);
  const hv = m.hv!;
  expect(hv.wrmsr(vp, 0, SINT0 + 2, 0x50, 0)).toBe(true);
  expect(hv.wrmsr(vp, 0, SINT0 + 3, 0x51, 0)).toBe(true);
  expect(hv.wrmsr(vp, 0, SIEFP, SIEF0 | 1, 0)).toBe(true);
  expect(hv.connectMessage(0x10, { vp: 0, sint: 2 })).toBe(true);
  expect(hv.connectEvent(0x21, { vp: 0, sint: 3, flagBase: 0x21 })).toBe(true);
  const events: MachineEvent[] = [];
  m.observer = { event: (e) => { if (e.kind === 'message' || e.kind === 'event-signal') events.push(e); } };
  return { m, vp, events };
}

describe('HvCallPostMessage', () => {
  it('CPUID advertises PostMessages and SignalEvents (EBX bits 4, 5)', () => {
    const out = new Uint32Array(4);
    plainMachine(SPIN).hv!.cpuid(0x40000003, out);
    expect(out[1] & 0x30).toBe(0x30);
  });

  it('delivers type, size and payload into the SINT slot and raises the SINT', () => {
    const { m, vp, events } = setup();
    const r = hypercall(m, vp, HvCall.HvCallPostMessage, postInput(0x10, 0x12345678, 8, [1, 2, 3, 4, 5, 6, 7, 8]));
    expect(r.status).toBe(S.HV_STATUS_SUCCESS);
    const slot = SIMP0 + 2 * 256;
    expect(m.mem.read32(slot)).toBe(0x12345678);
    expect(m.mem.read8(slot + 4)).toBe(8);
    expect(m.mem.read8(slot + 5)).toBe(0);
    expect([...m.mem.ram.slice(slot + 16, slot + 24)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(vp.apic0.pendingVector()).toBe(0x50);
    expect(events).toMatchObject([{ kind: 'message', vp: 0, vtl: 0, sint: 2, type: 0x12345678, queued: false, connection: 0x10 }]);
  });

  it('a busy slot takes one waiting message (pending flag, delivered after EOM); more is INSUFFICIENT_BUFFERS', () => {
    const { m, vp } = setup();
    const slot = SIMP0 + 2 * 256;
    expect(hypercall(m, vp, HvCall.HvCallPostMessage, postInput(0x10, 0x111, 4, [1])).status).toBe(S.HV_STATUS_SUCCESS);
    expect(hypercall(m, vp, HvCall.HvCallPostMessage, postInput(0x10, 0x222, 4, [2])).status).toBe(S.HV_STATUS_SUCCESS);
    expect(m.mem.read32(slot)).toBe(0x111);
    expect(m.mem.read8(slot + 5) & 1).toBe(1);
    expect(hypercall(m, vp, HvCall.HvCallPostMessage, postInput(0x10, 0x333, 4, [3])).status).toBe(S.HV_STATUS_INSUFFICIENT_BUFFERS);
    m.mem.write32(slot, 0);
    m.hv!.wrmsr(vp, 0, EOM, 0, 0);
    expect(m.mem.read32(slot)).toBe(0x222);
    expect(m.mem.read8(slot + 16)).toBe(2);
    expect(m.mem.read8(slot + 5) & 1).toBe(0);
    expect(hypercall(m, vp, HvCall.HvCallPostMessage, postInput(0x10, 0x333, 4, [3])).status).toBe(S.HV_STATUS_SUCCESS);
  });

  it('rejects unknown connections, bad sizes and types, a disabled message page and the fast form', () => {
    const { m, vp } = setup();
    const post = (input: Uint8Array) => hypercall(m, vp, HvCall.HvCallPostMessage, input).status;
    expect(post(postInput(0x11, 1, 0))).toBe(S.HV_STATUS_INVALID_CONNECTION_ID);
    expect(post(postInput(0x10, 1, 241))).toBe(S.HV_STATUS_INVALID_PARAMETER);
    expect(post(postInput(0x10, 0x80000001, 8))).toBe(S.HV_STATUS_INVALID_PARAMETER);
    expect(post(postInput(0x10, 0, 8))).toBe(S.HV_STATUS_INVALID_PARAMETER);
    expect(post(postInput(0x10, 1, 240))).toBe(S.HV_STATUS_SUCCESS);
    // The connection id is the low 24 bits.
    m.mem.write32(SIMP0 + 2 * 256, 0);
    expect(post(postInput(0x5a000010, 1, 0))).toBe(S.HV_STATUS_SUCCESS);
    expect(fastcall(m, vp, HvCall.HvCallPostMessage, 0x10)).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    m.hv!.wrmsr(vp, 0, 0x40000083, 0, 0);
    expect(post(postInput(0x10, 1, 0))).toBe(S.HV_STATUS_INVALID_SYNIC_STATE);
    expect(m.hv!.disconnectMessage(0x10)).toBe(true);
    expect(post(postInput(0x10, 1, 0))).toBe(S.HV_STATUS_INVALID_CONNECTION_ID);
  });
});

describe('HvCallSignalEvent', () => {
  const flagSet = (m: Machine, sint: number, bit: number) => (m.mem.read8(SIEF0 + sint * 256 + (bit >>> 3)) >>> (bit & 7)) & 1;

  it('sets the connection flag in the SINT slot of the event flags page and raises the SINT once', () => {
    const { m, vp, events } = setup();
    const apic = vp.apic0;
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21)).toBe(S.HV_STATUS_SUCCESS);
    expect(flagSet(m, 3, 0x21)).toBe(1);
    expect(m.mem.read32(SIEF0 + 3 * 256)).toBe(0);
    expect(m.mem.read32(SIEF0 + 3 * 256 + 4)).toBe(2); // bit 0x21 = dword 1, bit 1
    expect(apic.pendingVector()).toBe(0x51);
    apic.acknowledge(0x51);
    apic.mmioWrite(0xb0, 4, 0);
    // The flag is still set: no new interrupt.
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21)).toBe(S.HV_STATUS_SUCCESS);
    expect(apic.pendingVector()).toBe(-1);
    expect(events.map((e) => e.kind === 'event-signal' && e.raised)).toEqual([true, false]);
    // Flag number n sets base + n; the slow form works too.
    expect(hypercall(m, vp, HvCall.HvCallSignalEvent, Uint8Array.from([0x21, 0, 0, 0, 1, 0, 0, 0])).status).toBe(S.HV_STATUS_SUCCESS);
    expect(flagSet(m, 3, 0x22)).toBe(1);
    expect(apic.pendingVector()).toBe(0x51);
    // The guest clears the flag: the next signal raises the SINT again.
    m.mem.write8(SIEF0 + 3 * 256 + 4, 0);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21)).toBe(S.HV_STATUS_SUCCESS);
    expect(events.filter((e) => e.kind === 'event-signal').map((e) => e.kind === 'event-signal' && [e.flag, e.raised])).toEqual([[0x21, true], [0x21, false], [0x22, true], [0x21, true]]);
  });

  it('rejects flags past 2047, unknown connections, reserved bits and a disabled event flags page', () => {
    const { m, vp } = setup();
    const hv = m.hv!;
    expect(hv.connectEvent(0x30, { vp: 0, sint: 4 })).toBe(true);
    expect(hv.wrmsr(vp, 0, SINT0 + 4, 0x52, 0)).toBe(true);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x30, 2047)).toBe(S.HV_STATUS_SUCCESS);
    expect(flagSet(m, 4, 2047)).toBe(1);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x30, 2048)).toBe(S.HV_STATUS_INVALID_PARAMETER);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21, 2048 - 0x21)).toBe(S.HV_STATUS_INVALID_PARAMETER);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x1234)).toBe(S.HV_STATUS_INVALID_CONNECTION_ID);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x01000021)).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21, 0x10000)).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    hv.wrmsr(vp, 0, SIEFP, 0, 0);
    expect(fastcall(m, vp, HvCall.HvCallSignalEvent, 0x21)).toBe(S.HV_STATUS_INVALID_SYNIC_STATE);
    // Duplicate ids and bad targets are refused.
    expect(hv.connectEvent(0x21, { vp: 0, sint: 1 })).toBe(false);
    expect(hv.connectEvent(0x40, { vp: 1, sint: 1 })).toBe(false);
    expect(hv.connectMessage(0x41, { vp: 0, sint: 16 })).toBe(false);
  });
});

// --- A guest that drives the hyperv-testdev port, PostMessage and SignalEvent ---------------------

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const movEax = (v: number) => [0xb8, ...le32(v)];
const ctl = (conn: number, code: number, vpi: number, sint: number) => (conn << 24 | code << 16 | vpi << 8 | sint) >>> 0;
const RESULT = 0x305000;

const wrmsr = (msr: number, lo: number) => [0xb9, ...le32(msr), ...movEax(lo), 0x31, 0xd2, 0x0f, 0x30]; // mov ecx; mov eax; xor edx,edx; wrmsr
const store = (at: number, v: number) => [0xc7, 0x05, ...le32(at), ...le32(v)]; // mov dword [at], v

/**
 * A guest that sets up its own hypercall page and SynIC (so a trace of it replays from the image
 * alone), creates a message connection 0x10 → SINT2, an event connection 0x21 → SINT3 and a SINT5
 * route through port 0x3000, then posts a message, signals the event and raises SINT5.
 */
const GUEST = [
  ...wrmsr(0x40000000, 1), ...wrmsr(0x40000001, HC_PAGE | 1), ...wrmsr(0x40000083, SIMP0 | 1), ...wrmsr(SIEFP, SIEF0 | 1),
  ...wrmsr(0x40000080, 1), ...wrmsr(SINT0 + 2, 0x50), ...wrmsr(SINT0 + 3, 0x51), ...wrmsr(SINT0 + 5, 0x55),
  ...store(0xfee000f0, 0x1ff), // software-enable the local APIC
  ...store(IN, 0x10), ...store(IN + 8, 0x12345678), ...store(IN + 12, 8), ...store(IN + 16, 0x06070809), ...store(IN + 20, 0x02030405),
  0xba, ...le32(0x3000), // mov edx, 0x3000
  ...movEax(ctl(0x10, 4, 0, 2)), 0xef, // out dx, eax: message connection
  ...movEax(ctl(0x21, 6, 0, 3)), 0xef, // event connection
  ...movEax(ctl(0, 1, 0, 5)), 0xef, // SINT route VP0/SINT5
  ...Array(40).fill(0x90),
  // PostMessage: control 0x5C in EDX:EAX, input GPA in EBX:ECX, output in EDI:ESI.
  0x31, 0xd2, 0x31, 0xdb, 0x31, 0xff, 0x31, 0xf6, // xor edx,edx; xor ebx,ebx; xor edi,edi; xor esi,esi
  0xb9, ...le32(IN), ...movEax(0x5c), 0x0f, 0x01, 0xc1, // mov ecx, IN; mov eax, 0x5c; vmcall
  0xa3, ...le32(RESULT), // mov [RESULT], eax
  // SignalEvent (fast): input 0x21 in EBX:ECX.
  0x31, 0xd2, 0x31, 0xdb, 0xb9, ...le32(0x21), ...movEax(0x1005d), 0x0f, 0x01, 0xc1,
  0xa3, ...le32(RESULT + 4),
  0xba, ...le32(0x3000), ...movEax(ctl(0, 3, 0, 5)), 0xef, // raise the routed SINT5
  ...movEax(0), 0xe7, 0xf4, // debug exit 0
  0xeb, 0xfe,
];
/** Instructions before the first port write. */
const SETUP_INSNS = 8 * 4 + 1 + 5 + 1;

function testdevMachine(): Machine {
  return plainMachine(GUEST, { hvTestdev: true });
}

describe('hyperv-testdev', () => {
  it('a guest creates connections through port 0x3000, posts a message and signals an event', () => {
    const m = testdevMachine();
    const seen: MachineEvent[] = [];
    m.observer = { event: (e) => { if (e.kind === 'message' || e.kind === 'event-signal' || e.kind === 'hypercall') seen.push(e); } };
    expect(m.run(100_000)).toEqual({ kind: 'debug-exit', value: 0 });
    expect(m.mem.read32(RESULT)).toBe(S.HV_STATUS_SUCCESS);
    expect(m.mem.read32(RESULT + 4)).toBe(S.HV_STATUS_SUCCESS);
    expect(m.mem.read32(SIMP0 + 2 * 256)).toBe(0x12345678);
    expect(m.mem.read8(SIMP0 + 2 * 256 + 16)).toBe(9);
    expect(m.mem.read32(SIEF0 + 3 * 256 + 4)).toBe(2); // flag 0x21 (the connection id)
    const apic = m.vps[0].apic0;
    const irr = (v: number) => (apic.mmioRead(0x200 + 0x10 * (v >> 5), 4) >>> (v & 31)) & 1;
    expect([irr(0x50), irr(0x51), irr(0x55)]).toEqual([1, 1, 1]);
    expect(seen.map((e) => e.kind)).toEqual(['message', 'hypercall', 'event-signal', 'hypercall']);
    expect(m.hv!.connections.save()).toEqual({
      messages: [[0x10, { vp: 0, vtl: 0, sint: 2 }]],
      events: [[0x21, { vp: 0, vtl: 0, sint: 3, flagBase: 0x21 }]],
    });
  });

  it('a snapshot taken after the connections were made restores to a machine that hashes the same and runs the same', () => {
    const a = testdevMachine();
    expect(a.run(SETUP_INSNS + 6).kind).toBe('max-insns');
    expect(a.hv!.connections.messages.size).toBe(1);
    const snap = a.save();
    const b = testdevMachine();
    b.restore(snap);
    expect(b.stateHash()).toBe(a.stateHash());
    expect(b.hv!.connections.save()).toEqual(a.hv!.connections.save());
    expect(a.run(100_000)).toEqual({ kind: 'debug-exit', value: 0 });
    expect(b.run(100_000)).toEqual({ kind: 'debug-exit', value: 0 });
    expect(b.stateHash()).toBe(a.stateHash());
    expect(b.mem.read32(RESULT)).toBe(S.HV_STATUS_SUCCESS);
    // A machine without the connections hashes differently.
    const c = testdevMachine();
    expect(c.stateHash()).not.toBe(a.stateHash());
  });

  it('is absent by default and needs the Hyper-V interface', () => {
    expect(plainMachine(SPIN).devices.hvtestdev).toBeUndefined();
    expect(() => plainMachine(SPIN, { hvTestdev: true, hv: false })).toThrow(/--hv-testdev/);
  });

  it('a recorded run with the device replays (the trace configuration carries hvTestdev)', () => {
    const bytes = elf32([{ paddr: 0x100000, data: Buffer.concat([multibootHeader(), Buffer.from(GUEST)]) }], ENTRY);
    const scratch = scratchDir('hv-connections');
    try {
      const path = join(scratch.dir, 'testdev.trace');
      const m = new MachineClass({ ramMiB: 16, smp: 1, cmdline: '', hvTestdev: true }, bytes);
      const w = new TraceWriter(path);
      w.begin({ smp: 1, mem: 16, cmdline: '', quantum: null, hv: true, mbec: false, hvTestdev: true, maxInsns: null }, { name: 'testdev', bytes }, 'test');
      const stop = recordRun(m, w, { hashEvery: 20, checkpointEvery: 1_000_000 });
      w.finish({ final_icount: String(m.icount()), exit_status: '0', stop: JSON.stringify(stop) });
      expect(stop).toEqual({ kind: 'debug-exit', value: 0 });
      expect(m.mem.read32(RESULT)).toBe(S.HV_STATUS_SUCCESS);
      const t = new TraceReader(path);
      const kinds: string[] = [];
      const res = replay(t, { verify: true, onEvent: (e) => { kinds.push(e.kind); } });
      t.close();
      expect(res.divergence).toBeNull();
      expect(res.eventDivergence).toBeNull();
      expect(res.hashesChecked).toBeGreaterThan(2);
      expect(res.stop).toEqual(stop);
      expect(kinds).toContain('event-signal');
    } finally { scratch.dispose(); }
  });
});

