// The debug adapter end to end: `vsmrr dap` (the built CLI) driven by DebugClient over a live
// recording of the vsm-pingpong guest (VP0 makes 1000 VTL calls into VTL1's v1_add1). The tests of
// this file run in order on one debug session: each starts where the previous one stopped.

import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestImage, requireBuilt, ROOT } from '../helpers/guests.js';
import { client, elfBytes, evaluate, launch, mnemonic, objdumpMnemonic, position, readMemory, resumeAndStop, scopeVars, topFrame } from './helpers.js';

const PINGPONG = guestImage('vsm-pingpong');
const SYMBOLS = guestImage('vsm-pingpong', 'elf64');
const SOURCE = `${ROOT}/guests/examples/vsm-pingpong.c`;
/** `return c->arg + 1;` in v1_add1, which runs in VTL1. */
const VTL1_LINE = 70;
const VP0_VTL0 = 1, VP0_VTL1 = 2;

describe('debug adapter on a live VSM guest', () => {
  let dc: DebugClient;
  let bpId = 0;
  const hits: number[] = [];

  beforeAll(async () => {
    requireBuilt([PINGPONG, SYMBOLS]);
    dc = await client();
  });
  afterAll(async () => { await dc?.stop(); });

  it('launches, stops on entry at instruction 0 on VP0 VTL0, and reports the capabilities DAP clients need', async () => {
    let caps: DebugProtocol.Capabilities = {};
    const entry = await launch(dc, { program: PINGPONG, smp: 2, memory: 32 }, (c) => { caps = c; });
    for (const c of ['supportsStepBack', 'supportsDataBreakpoints', 'supportsDisassembleRequest', 'supportsReadMemoryRequest', 'supportsWriteMemoryRequest',
      'supportsInstructionBreakpoints', 'supportsFunctionBreakpoints', 'supportsSteppingGranularity', 'supportsCancelRequest', 'supportsEvaluateForHovers'] as const) {
      expect(caps[c], c).toBe(true);
    }
    expect(entry.body).toMatchObject({ reason: 'entry', threadId: VP0_VTL0, allThreadsStopped: true });
    expect(await position(dc)).toMatchObject({ icount: 0, vp: 0, vtl: 0, kind: 'live' });
    const threads = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    expect(threads).toEqual(['VP0 VTL0 (active)', 'VP1 VTL0 (active, waiting)']);
    // At the live edge a write is possible (and recorded): write back the bytes that are there.
    const here = await readMemory(dc, 0x100000n, 4);
    const w = await dc.customRequest('writeMemory', { memoryReference: '0x100000', data: here.toString('base64') });
    expect(w.body.bytesWritten).toBe(4);
  });

  it('a source breakpoint in VTL1 code stops on the VP0 VTL1 thread; the VSM scope shows the VTL call entry', async () => {
    const set = await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [{ line: VTL1_LINE }] });
    const bp = set.body.breakpoints[0];
    expect(bp.verified).toBe(true);
    bpId = bp.id!;
    const stop = await resumeAndStop(dc, () => dc.continueRequest({ threadId: VP0_VTL0 }));
    expect(stop.body).toMatchObject({ reason: 'breakpoint', threadId: VP0_VTL1, hitBreakpointIds: [bpId] });
    const frame = await topFrame(dc, VP0_VTL1);
    expect(frame.source?.path).toBe(SOURCE);
    expect(frame.name).toMatch(/^v1_add1 \[VTL1\]$/);
    const vsm = await scopeVars(dc, frame.id, 'VSM');
    expect(vsm.get('active VTL')).toBe('VTL1');
    expect(vsm.get('enabled VTLs (this VP)')).toBe('VTL0, VTL1');
    expect(vsm.get('entry reason')).toMatch(/^VTL call \(1\): VTL0 → VTL1 at instruction \d+/);
    expect(vsm.get('VTL1 VP assist page')).toMatch(/entry reason VTL call \(1\)/);
    const threads = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    expect(threads).toContain('VP0 VTL1 (active)');
    expect(threads).toContain('VP0 VTL0');
    // The VTL1 and VTL0 register scopes are two different contexts: RIP differs (VTL0 waits in its VTL call).
    const r1 = await scopeVars(dc, frame.id, 'VTL1 registers'), r0 = await scopeVars(dc, frame.id, 'VTL0 registers');
    expect(BigInt(r1.get('rip')!)).toBe(BigInt(frame.instructionPointerReference!));
    expect(BigInt(r0.get('rip')!)).not.toBe(BigInt(frame.instructionPointerReference!));
    hits.push((await position(dc)).icount);
  });

  it('readMemory and disassemble around RIP give the bytes of the guest image and objdump\'s instructions', async () => {
    const frame = await topFrame(dc, VP0_VTL1);
    const rip = BigInt(frame.instructionPointerReference!);
    const mem = await readMemory(dc, rip - 32n, 96);
    expect(mem.equals(elfBytes(SYMBOLS, rip - 32n, 96))).toBe(true);
    const dis = (await dc.disassembleRequest({ memoryReference: frame.instructionPointerReference!, instructionOffset: -4, instructionCount: 12 })).body!.instructions;
    expect(dis.length).toBe(12);
    expect(BigInt(dis[4].address)).toBe(rip);
    for (let k = 0; k < dis.length; k++) {
      const addr = BigInt(dis[k].address);
      const bytes = Buffer.from(dis[k].instructionBytes!.split(' ').map((h) => parseInt(h, 16)));
      expect(bytes.equals(await readMemory(dc, addr, bytes.length)), `bytes at ${dis[k].address}`).toBe(true);
      if (k + 1 < dis.length) expect(BigInt(dis[k + 1].address)).toBe(addr + BigInt(bytes.length));
      expect(mnemonic(dis[k].instruction), `mnemonic at ${dis[k].address}`).toBe(objdumpMnemonic(SYMBOLS, addr));
    }
    expect(await evaluate(dc, '$rip', frame.id)).toBe(`0x${rip.toString(16).padStart(16, '0')}`);
    expect(await evaluate(dc, `*(uint8_t*)0x${rip.toString(16)}`, frame.id)).toBe(`0x${mem[32].toString(16).padStart(2, '0')} (${mem[32]})`);
  });

  it('reverseContinue goes back to the previous hit of the breakpoint, continue comes forward to the same one', async () => {
    // Two more hits forward first.
    for (let k = 0; k < 2; k++) {
      const s = await resumeAndStop(dc, () => dc.continueRequest({ threadId: VP0_VTL1 }));
      expect(s.body).toMatchObject({ reason: 'breakpoint', threadId: VP0_VTL1 });
      hits.push((await position(dc)).icount);
    }
    expect(hits[1]).toBeGreaterThan(hits[0]);
    expect(hits[2]).toBeGreaterThan(hits[1]);
    const back = await resumeAndStop(dc, () => dc.reverseContinueRequest({ threadId: VP0_VTL1 }));
    expect(back.body).toMatchObject({ reason: 'breakpoint', threadId: VP0_VTL1, hitBreakpointIds: [bpId] });
    expect((await position(dc)).icount).toBe(hits[1]);
    const fwd = await resumeAndStop(dc, () => dc.continueRequest({ threadId: VP0_VTL1 }));
    expect(fwd.body.reason).toBe('breakpoint');
    expect((await position(dc)).icount).toBe(hits[2]);
  });

  it('stepOut leaves v1_add1 for its VTL1 caller; stepIn and next move by source lines', async () => {
    const before = (await position(dc)).icount;
    const out = await resumeAndStop(dc, () => dc.stepOutRequest({ threadId: VP0_VTL1 }));
    expect(out.body).toMatchObject({ reason: 'step', threadId: VP0_VTL1 });
    const f = await topFrame(dc, VP0_VTL1);
    expect(f.name).toMatch(/^v1_call_entry[.\w]*\+0x[0-9a-f]+ \[VTL1\]$/);
    expect(f.source?.path).toBe(`${ROOT}/guests/sdk/vsm.c`);
    expect((await position(dc)).icount).toBeGreaterThan(before);
    const line = f.line;
    const s = await resumeAndStop(dc, () => dc.nextRequest({ threadId: VP0_VTL1 }));
    expect(s.body.reason).toBe('step');
    const g = await topFrame(dc, s.body.threadId!);
    expect(`${g.source?.path}:${g.line}`).not.toBe(`${f.source?.path}:${line}`);
    // Back to the breakpoint hit this test started from.
    const b = await resumeAndStop(dc, () => dc.reverseContinueRequest({ threadId: VP0_VTL1 }));
    expect(b.body.reason).toBe('breakpoint');
    expect((await position(dc)).icount).toBe(before);
  });

  it('a data breakpoint is hit in reverse before the write: the call that pushed v1_add1\'s return address', async () => {
    const frame = await topFrame(dc, VP0_VTL1);
    const rsp = BigInt(await evaluate(dc, 'rsp', frame.id));
    const ret = (await readMemory(dc, rsp, 8)).readBigUInt64LE();
    const info = (await dc.dataBreakpointInfoRequest({ name: `*(uint64_t*)0x${rsp.toString(16)}` })).body;
    expect(info.dataId).toBe(`0x${rsp.toString(16)}/8`);
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
    expect(set.body.breakpoints[0].verified).toBe(true);
    const stop = await resumeAndStop(dc, () => dc.reverseContinueRequest({ threadId: VP0_VTL1 }));
    expect(stop.body).toMatchObject({ reason: 'data breakpoint', threadId: VP0_VTL1, hitBreakpointIds: [set.body.breakpoints[0].id] });
    // Stopped before the write, at the call (an earlier call from the same place: same slot, same value).
    expect((await position(dc)).icount).toBeLessThan(hits[2]);
    const f2 = await topFrame(dc, VP0_VTL1);
    const dis = (await dc.disassembleRequest({ memoryReference: f2.instructionPointerReference!, instructionCount: 1 })).body!.instructions;
    expect(dis[0].instruction).toMatch(/^call /);
    expect(BigInt(f2.instructionPointerReference!) + BigInt(dis[0].instructionBytes!.split(' ').length)).toBe(ret);
    // One instruction forward executes the write again.
    const step = await resumeAndStop(dc, () => dc.stepInRequest({ threadId: VP0_VTL1, granularity: 'instruction' }));
    expect(step.body.reason).toBe('data breakpoint');
    expect((await readMemory(dc, rsp, 8)).readBigUInt64LE()).toBe(ret);
    expect((await topFrame(dc, VP0_VTL1)).name).toBe('v1_add1 [VTL1]');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
  });

  it('back to the previous VTL transition, then stepBack leaves VTL1 for the VTL0 caller', async () => {
    const t = await resumeAndStop(dc, () => dc.customRequest('vsmrr/reverseToEvent', { kind: 'vtl-transition' }));
    expect(t.body).toMatchObject({ reason: 'vtl transition', threadId: VP0_VTL1 });
    expect(t.body.description).toMatch(/VTL0 → VTL1 \(VTL call\)/);
    const at = (await position(dc)).icount;
    // One instruction back: VTL0's VMCALL in the hypercall page.
    const s1 = await resumeAndStop(dc, () => dc.stepBackRequest({ threadId: VP0_VTL1, granularity: 'instruction' }));
    expect(s1.body).toMatchObject({ reason: 'step', threadId: VP0_VTL0 });
    expect((await position(dc)).icount).toBeLessThanOrEqual(at);
    const f1 = await topFrame(dc, VP0_VTL0);
    expect((await readMemory(dc, BigInt(f1.instructionPointerReference!), 3)).toString('hex')).toBe('0f01c1');
    // One line back: the C line in VTL0 that made the call.
    const s2 = await resumeAndStop(dc, () => dc.stepBackRequest({ threadId: VP0_VTL0 }));
    expect(s2.body).toMatchObject({ reason: 'step', threadId: VP0_VTL0 });
    const f2 = await topFrame(dc, VP0_VTL0);
    expect(f2.source?.path).toMatch(/\.[ch]$/);
    // vsm_vtl1_call() in vsm.h, inlined into the pingpong test that made the VTL call.
    expect(readFileSync(f2.source!.path!, 'utf8').split('\n')[f2.line - 1]).toMatch(/\bvtl_call\(/);
    expect(f2.name).toMatch(/^test_entry_and_return\+0x[0-9a-f]+ \[VTL0\]$/);
    expect(f2.name).toMatch(/\[VTL0\]$/);
    expect(f2.name).not.toMatch(/^(v1_|vtl1_)/);
    expect((await position(dc)).icount).toBeLessThan(at - 1);
  });

  it('custom requests: list events in a range, go to event N, go to an instruction count', async () => {
    const list = (await dc.customRequest('vsmrr/listEvents', { kinds: ['vtl-switch'], vp: 0, limit: 4 })).body;
    expect(list.total).toBeGreaterThan(4);
    expect(list.events.length).toBe(4);
    const ev = list.events[2];
    expect(ev).toMatchObject({ kind: 'vtl-switch', vp: 0 });
    const stop = await resumeAndStop(dc, () => dc.customRequest('vsmrr/gotoEvent', { index: ev.index }));
    const p = await position(dc);
    expect(stop.body.reason).toBe('goto');
    expect(stop.body.description).toContain(`event #${ev.index}`);
    expect(p.icount).toBeGreaterThanOrEqual(ev.icount);
    expect(p.icount).toBeLessThanOrEqual(ev.icount + 1);
    expect(stop.body.threadId).toBe(ev.event.to + 1);
    const g = await resumeAndStop(dc, () => dc.customRequest('vsmrr/gotoInstructionCount', { icount: 123_456 }));
    expect(g.body.reason).toBe('goto');
    expect((await position(dc)).icount).toBe(123_456);
    const events = await scopeVars(dc, (await topFrame(dc, g.body.threadId!)).id, 'Events');
    expect(events.size).toBeGreaterThan(0);
    await expect(dc.customRequest('vsmrr/gotoEvent', { index: 10_000_000 })).rejects.toThrow(/no event 10000000/);
  });

  it('a long reverseContinue reports progress and can be cancelled', async () => {
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    await resumeAndStop(dc, () => dc.customRequest('vsmrr/gotoInstructionCount', { icount: 1_000_000 }));
    // A data breakpoint on memory nothing writes: the search replays every checkpoint interval (a
    // breakpoint whose code never ran would be answered from the intervals' summaries at once).
    const info = (await dc.dataBreakpointInfoRequest({ name: '*(uint64_t*)0x7ff000' })).body;
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
    const started = dc.waitForEvent('progressStart') as Promise<DebugProtocol.ProgressStartEvent>;
    const ended = dc.waitForEvent('progressEnd');
    const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.reverseContinueRequest({ threadId: VP0_VTL0 });
    const ps = await started;
    expect(ps.body.cancellable).toBe(true);
    await dc.customRequest('cancel', { progressId: ps.body.progressId });
    const s = await stopped;
    await ended;
    expect(s.body.reason).toBe('pause');
    const p = (await position(dc)).icount;
    expect(p).toBeGreaterThan(0);
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
  });
});
