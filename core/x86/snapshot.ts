// CPU state as a named, versioned snapshot section of plain data.

import type { SavedSection } from '../devices/types.js';
import type { CpuState } from './state.js';

export const CPU_STATE_VERSION = 1;

const SCALARS = [
  'ripLo', 'ripHi', 'flags', 'lf', 'lfSize', 'lfResLo', 'lfResHi', 'lfALo', 'lfAHi', 'lfBLo', 'lfBHi', 'lfCarry',
  'cr0', 'cr2Lo', 'cr2Hi', 'cr3Lo', 'cr3Hi', 'cr4', 'eferLo', 'xcr0Lo', 'sysenterCs', 'sysenterEspLo',
  'sysenterEspHi', 'sysenterEipLo', 'sysenterEipHi', 'starLo', 'starHi', 'lstarLo', 'lstarHi', 'cstarLo',
  'cstarHi', 'fmask', 'kernelGsBaseLo', 'kernelGsBaseHi', 'tscAux', 'patLo', 'patHi', 'mxcsr', 'fcw', 'fsw',
  'ftw', 'cpl', 'tscOffset',
] as const;

export function saveCpuState(st: CpuState): SavedSection {
  const o: Record<string, unknown> = { version: CPU_STATE_VERSION };
  for (const k of SCALARS) o[k] = st[k];
  o.intShadow = st.intShadow; o.nmiBlocked = st.nmiBlocked; o.halted = st.halted;
  o.lo = Array.from(st.lo); o.hi = Array.from(st.hi);
  o.xmm = Array.from(st.xmm); o.dr = Array.from(st.dr); o.fpregs = Array.from(st.fpregs);
  o.seg = st.seg.map((s) => [s.selector, s.baseLo, s.baseHi, s.limit, s.attr]);
  o.gdtr = [st.gdtr.baseLo, st.gdtr.baseHi, st.gdtr.limit];
  o.idtr = [st.idtr.baseLo, st.idtr.baseHi, st.idtr.limit];
  return o as SavedSection;
}

export function restoreCpuState(st: CpuState, s: SavedSection): void {
  if (s.version !== CPU_STATE_VERSION) throw new Error(`cpu state section version ${s.version} is not supported`);
  const o = s as unknown as Record<string, unknown>;
  for (const k of SCALARS) (st as unknown as Record<string, number>)[k] = o[k] as number;
  st.intShadow = o.intShadow as boolean; st.nmiBlocked = o.nmiBlocked as boolean; st.halted = o.halted as boolean;
  st.lo.set(o.lo as number[]); st.hi.set(o.hi as number[]);
  st.xmm.set(o.xmm as number[]); st.dr.set(o.dr as number[]); st.fpregs.set(o.fpregs as number[]);
  (o.seg as number[][]).forEach((v, k) => {
    const sg = st.seg[k];
    [sg.selector, sg.baseLo, sg.baseHi, sg.limit, sg.attr] = v;
  });
  [st.gdtr.baseLo, st.gdtr.baseHi, st.gdtr.limit] = o.gdtr as number[];
  [st.idtr.baseLo, st.idtr.baseHi, st.idtr.limit] = o.idtr as number[];
}
