// Human-readable text for machine events and VSM values, shared by the scopes, the event list and
// stop descriptions.

import type { MachineEvent } from '../core/machine/events.js';

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** HV_VTL_ENTRY_REASON (spec/vsm.md 4). */
export function entryReasonName(r: number): string {
  switch (r) {
    case 0: return 'reserved (0)';
    case 1: return 'VTL call (1)';
    case 2: return 'interrupt (2)';
    case 3: return 'intercept (3)';
    default: return `unknown (${r})`;
  }
}

/** HvMessageType values a VTL1 SINT0 slot holds (spec/vsm.md 6.3). */
export function messageTypeName(t: number): string {
  switch (t >>> 0) {
    case 0: return 'none';
    case 0x80000001: return 'GPA intercept';
    case 0x80000010: return 'timer expired';
    case 0x80010001: return 'MSR intercept';
    case 0x80010006: return 'register intercept';
    default: return `message type ${hex(t >>> 0)}`;
  }
}

/** HV_MAP_GPA_FLAGS as R/W/KX/UX letters. */
export function protectionName(mask: number): string {
  const bits = [[1, 'R'], [2, 'W'], [4, 'KX'], [8, 'UX']] as const;
  const on = bits.filter(([b]) => mask & b).map(([, n]) => n);
  return `${on.length ? on.join('+') : 'no access'} (${hex(mask)})`;
}

export function vtlMask(mask: number): string {
  const out: string[] = [];
  for (let v = 0; v < 16; v++) if (mask & (1 << v)) out.push(`VTL${v}`);
  return out.join(', ') || 'none';
}

/** One line describing an event (without its position). */
export function describeEvent(e: MachineEvent): string {
  switch (e.kind) {
    case 'vtl-switch': {
      const why = e.to > e.from ? entryReasonName(e.reason).replace(/ \(\d+\)$/, '') : 'VTL return';
      return `VTL${e.from} → VTL${e.to} (${why}) at ${hex(e.ripBeforeHi * 4294967296 + (e.ripBeforeLo >>> 0))} → ${hex(e.ripAfterHi * 4294967296 + (e.ripAfterLo >>> 0))}`;
    }
    case 'intercept': return `intercept of VTL${e.vtl}: ${messageTypeName(e.type)}${e.type === 0x80000001 ? ` GPA ${hex(e.gpa)} access ${e.access}` : ''}${e.register ? ` register/MSR ${hex(e.register)}` : ''} at ${hex(e.ripHi * 4294967296 + (e.ripLo >>> 0))}`;
    case 'hypercall': return `hypercall ${hex(e.code)} from VTL${e.vtl}: status ${hex(e.status)}`;
    case 'hypercall-start': return `hypercall ${hex(e.code)} from VTL${e.vtl} starts`;
    case 'interrupt': return `interrupt vector ${hex(e.vector)} taken in VTL${e.vtl}`;
    case 'protection': return `VTL${e.vtl} protection of GPA page ${hex(e.gpn)} set to ${protectionName(e.mask)}`;
    case 'serial': return `serial ${JSON.stringify(String.fromCharCode(e.byte))}`;
    case 'vp-start': return `VP${e.vp} starts (${e.reason}) at ${hex(e.ripHi * 4294967296 + (e.ripLo >>> 0))}`;
    case 'vp-halt': return `VP${e.vp} halts`;
    case 'debug-exit': return `debug exit ${e.value}`;
    case 'triple-fault': return `triple fault: ${e.detail}`;
    default: {
      const rest = Object.entries(e).filter(([k]) => k !== 'kind' && k !== 'icount' && k !== 'vp').map(([k, v]) => `${k}=${typeof v === 'number' && k !== 'vtl' ? (Number.isInteger(v) && v > 9 ? hex(v) : v) : JSON.stringify(v)}`);
      return `${e.kind} ${rest.join(' ')}`;
    }
  }
}

/** Event kinds of the custom "run to event" requests. */
export const EVENT_GROUPS: Record<string, readonly string[]> = {
  'vtl-transition': ['vtl-switch'],
  intercept: ['intercept'],
  interrupt: ['interrupt', 'vina'],
  hypercall: ['hypercall'],
};

/** JSON-safe copy of an event. */
export function eventJson(e: MachineEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));
}
