// SynIC connections (spec/vsm.md 7, TLFS "Inter-partition communication"): the partition-wide table
// of message and event connections, HvCallPostMessage and HvCallSignalEvent, and the SIEF event
// flags page. There is no parent partition to create ports, so connections are made by the
// hypervisor's own API (connectMessage/connectEvent), which the hyperv test device
// (core/devices/hvtestdev.ts) and unit tests use.

import type { HypercallHandler } from './hypercall.js';
import { HvStatus as S } from './defs/status.js';
import type { Hypervisor } from './hypervisor.js';

/** HV_CONNECTION_ID: the id is the low 24 bits. */
export const CONNECTION_ID_MASK = 0x00ffffff;
/** A message payload is at most 240 bytes. */
export const MESSAGE_PAYLOAD_BYTES = 240;
/** Each SINT's slot of the event flags page holds 2048 flags (256 bytes). */
export const EVENT_FLAG_COUNT = 2048;

/** Where a connection's messages or events go: a SINT of one VTL of one VP. */
export interface ConnectionTarget {
  vp: number;
  /** The target VTL (VTL0 unless the creator says otherwise). */
  vtl: number;
  sint: number;
}

/** An event connection also names the first flag of its port: flag number n sets flag base + n. */
export interface EventConnectionTarget extends ConnectionTarget {
  flagBase: number;
}

export interface SavedConnections {
  messages: [number, ConnectionTarget][];
  events: [number, EventConnectionTarget][];
}

/** The partition's connections, by connection id. */
export class Connections {
  readonly messages = new Map<number, ConnectionTarget>();
  readonly events = new Map<number, EventConnectionTarget>();

  save(): SavedConnections {
    const sorted = <T>(m: Map<number, T>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, { ...v }] as [number, T]);
    return { messages: sorted(this.messages), events: sorted(this.events) };
  }

  restore(s: SavedConnections | undefined): void {
    this.messages.clear();
    this.events.clear();
    for (const [k, v] of s?.messages ?? []) this.messages.set(k, { ...v });
    for (const [k, v] of s?.events ?? []) this.events.set(k, { ...v });
  }
}

/** Whether the target's SynIC is enabled with the page (SIMP or SIEFP) a delivery needs. */
function synicReady(hv: Hypervisor, t: ConnectionTarget, page: 'simp' | 'siefp'): boolean {
  const vp = hv.machine.vps[t.vp];
  if (!vp || !vp.vtls[t.vtl] || !((hv.vps[t.vp].enabledVtls >> t.vtl) & 1)) return false;
  const s = hv.vps[t.vp].vtl[t.vtl];
  return (s.scontrol & 1) === 1 && ((page === 'simp' ? s.simpLo : s.siefpLo) & 1) === 1;
}

/**
 * HvCallPostMessage (0x5C, slow only): connection id u32, reserved u32, message type u32, payload
 * size u32, 240 payload bytes. The message goes to the connection's SINT slot; a busy slot takes one
 * waiting message (its pending flag set, delivered after EOM); any more is INSUFFICIENT_BUFFERS.
 */
export const postMessage: HypercallHandler = {
  headerBytes: 16 + MESSAGE_PAYLOAD_BYTES,
  run({ hv, input }) {
    const id = input.getUint32(0, true) & CONNECTION_ID_MASK;
    const type = input.getUint32(8, true);
    const size = input.getUint32(12, true);
    if (size > MESSAGE_PAYLOAD_BYTES) return { status: S.HV_STATUS_INVALID_PARAMETER };
    // The caller may use any type with the top bit clear, except 0 (TLFS).
    if (type === 0 || (type & 0x80000000)) return { status: S.HV_STATUS_INVALID_PARAMETER };
    const t = hv.connections.messages.get(id);
    if (!t) return { status: S.HV_STATUS_INVALID_CONNECTION_ID };
    if (!synicReady(hv, t, 'simp')) return { status: S.HV_STATUS_INVALID_SYNIC_STATE };
    const vp = hv.machine.vps[t.vp];
    if (hv.synic.queued(vp, t.vtl, t.sint) > 0) return { status: S.HV_STATUS_INSUFFICIENT_BUFFERS };
    const payload = new Uint8Array(input.buffer, input.byteOffset + 16, size).slice();
    hv.synic.post(vp, t.vtl, t.sint, type, payload, id);
    return { status: S.HV_STATUS_SUCCESS };
  },
};

/**
 * HvCallSignalEvent (0x5D, fast or slow): connection id u32, flag number u16, reserved u16. Sets flag
 * base + flag number in the target's event flags page slot of the connection's SINT, and raises the
 * SINT when the flag was clear.
 */
export const signalEvent: HypercallHandler = {
  headerBytes: 8,
  run({ hv, vp: caller, vtl: callerVtl, input }) {
    const raw = input.getUint32(0, true);
    const flag = input.getUint16(4, true);
    // Reserved bits of the connection id and RsvdZ (QEMU, KVM: INVALID_HYPERCALL_INPUT).
    if ((raw & ~CONNECTION_ID_MASK) || input.getUint16(6, true)) return { status: S.HV_STATUS_INVALID_HYPERCALL_INPUT };
    const t = hv.connections.events.get(raw);
    if (!t) return { status: S.HV_STATUS_INVALID_CONNECTION_ID };
    const bit = t.flagBase + flag;
    if (bit >= EVENT_FLAG_COUNT) return { status: S.HV_STATUS_INVALID_PARAMETER };
    if (!synicReady(hv, t, 'siefp')) return { status: S.HV_STATUS_INVALID_SYNIC_STATE };
    const raised = hv.setEventFlag(t.vp, t.vtl, t.sint, bit);
    hv.observe?.({ kind: 'event-signal', vp: t.vp, vtl: t.vtl, sint: t.sint, flag: bit, connection: raw, raised, fromVp: caller.index, fromVtl: callerVtl });
    return { status: S.HV_STATUS_SUCCESS };
  },
};
