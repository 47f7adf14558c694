// Synthetic timers STIMER0..3 of every VTL of every VP (spec/vsm.md 7; TLFS "Synthetic Timers"), on the
// partition reference counter (100 ns units of the VP's virtual time).
//
// Nothing counts down: an armed timer holds its expiration time, the VP's nextDeadlineNs() includes
// it (so the scheduler stops the VP exactly there and HLT skips to it, whatever the quantum), and
// Vp.tick() fires what has expired. Expiry either posts HvMessageTypeTimerExpired into the SINT slot
// of the timer's own VTL (message mode) or raises the configured vector in that VTL's local APIC
// (direct mode). A VTL1 timer expiring while VTL0 runs therefore enters VTL1 through the usual
// interrupt check; a VTL0 timer expiring while VTL1 runs waits in VTL0's APIC or message page.
//
// Choices where the TLFS leaves room (as KVM does):
// - one-shot COUNT is an absolute reference time; a time in the past expires at once;
// - a periodic timer's first expiry is COUNT after it was started, then every COUNT on that grid;
//   periods that passed entirely while nobody ran collapse into one expiry ("lazy" behaviour);
// - a one-shot timer clears its enable bit when it expires;
// - in message mode a periodic expiry whose slot is still busy is dropped (KVM's no_retry); a
//   one-shot expiry waits in the queue and is delivered after EOM, with the delivery time of then;
// - writing COUNT 0 disables the timer; an enabled timer with COUNT 0 waits for a COUNT write; CONFIG bits 13..15 and 20..63 are reserved and read 0.

import type { Vp } from '../machine/vp.js';
import type { Hypervisor } from './hypervisor.js';
import { DeliveryMode } from '../devices/apicdefs.js';

export const STIMER_COUNT = 4;
const CFG = { ENABLE: 1, PERIODIC: 2, LAZY: 4, AUTO_ENABLE: 8, DIRECT: 0x1000, WRITABLE: 0xf1fff } as const;
/** HvMessageTypeTimerExpired (spec/vsm.md 6.3). */
export const HV_MESSAGE_TIMER_EXPIRED = 0x80000010;

export class SyntheticTimer {
  /** STIMERn_CONFIG (bits 0..12 and 16..19). */
  config = 0;
  countLo = 0;
  countHi = 0;
  /** Expiration time in reference-counter units (100 ns) while armed; -1 when not armed. */
  expiration = -1;

  get count(): number { return (this.countHi >>> 0) * 4294967296 + (this.countLo >>> 0); }
  get enabled(): boolean { return (this.config & CFG.ENABLE) !== 0; }
  get periodic(): boolean { return (this.config & CFG.PERIODIC) !== 0; }
  get direct(): boolean { return (this.config & CFG.DIRECT) !== 0; }
  get vector(): number { return (this.config >>> 4) & 0xff; }
  get sint(): number { return (this.config >>> 16) & 0xf; }

  save(): { config: number; countLo: number; countHi: number; expiration: number } {
    return { config: this.config, countLo: this.countLo, countHi: this.countHi, expiration: this.expiration };
  }

  restore(s: { config: number; countLo: number; countHi: number; expiration: number }): void {
    this.config = s.config; this.countLo = s.countLo; this.countHi = s.countHi; this.expiration = s.expiration;
  }
}

/** The reference counter (TIME_REF_COUNT) of a VP now. */
export function referenceTime(vp: Vp): number {
  return Math.floor(vp.nowNs() / 100);
}

/** (Re)arm or disarm timer `t` after a CONFIG or COUNT write. */
function rearm(vp: Vp, t: SyntheticTimer): void {
  t.expiration = -1;
  if (!t.enabled) return;
  const count = t.count;
  if (count === 0) return; // enabled but idle until COUNT is written
  t.expiration = t.periodic ? referenceTime(vp) + count : count;
  // The new deadline may fall inside the slice the VP is running: let the scheduler recompute it.
  vp.cpu.requestExit();
}

/** RDMSR of STIMERn_CONFIG/COUNT; `index` is the MSR number minus HV_X64_MSR_STIMER0_CONFIG. */
export function readStimerMsr(hv: Hypervisor, vp: Vp, vtl: number, index: number): { lo: number; hi: number } {
  const t = hv.vps[vp.index].vtl[vtl].stimer[index >> 1];
  return index & 1 ? { lo: t.countLo, hi: t.countHi } : { lo: t.config, hi: 0 };
}

/** WRMSR of STIMERn_CONFIG/COUNT. Always accepted (reserved bits are dropped). */
export function writeStimerMsr(hv: Hypervisor, vp: Vp, vtl: number, index: number, lo: number, hi: number): boolean {
  const n = index >> 1;
  const t = hv.vps[vp.index].vtl[vtl].stimer[n];
  if (index & 1) {
    t.countLo = lo >>> 0; t.countHi = hi >>> 0;
    if (t.count === 0) t.config &= ~CFG.ENABLE;
    else if (t.config & CFG.AUTO_ENABLE) t.config |= CFG.ENABLE;
  } else {
    t.config = lo & CFG.WRITABLE;
  }
  rearm(vp, t);
  return true;
}

/** Earliest expiry (ns of the VP's clock) over every armed timer of every VTL of `vp`. */
export function stimerDeadlineNs(hv: Hypervisor, vp: Vp): number {
  let d = Infinity;
  for (const v of hv.vps[vp.index].vtl) {
    for (const t of v.stimer) if (t.expiration >= 0 && t.expiration * 100 < d) d = t.expiration * 100;
  }
  return d;
}

/** Fire every timer of `vp` that has expired by `nowNs`. */
export function stimerTick(hv: Hypervisor, vp: Vp, nowNs: number): void {
  const vs = hv.vps[vp.index];
  for (let vtl = 0; vtl < vs.vtl.length; vtl++) {
    const timers = vs.vtl[vtl].stimer;
    for (let n = 0; n < timers.length; n++) {
      const t = timers[n];
      if (t.expiration < 0 || t.expiration * 100 > nowNs) continue;
      const expired = t.expiration;
      const now = Math.floor(nowNs / 100);
      if (t.periodic) t.expiration += t.count * (Math.floor((now - t.expiration) / t.count) + 1);
      else { t.expiration = -1; t.config &= ~CFG.ENABLE; }
      expire(hv, vp, vtl, n, t, expired, now);
    }
  }
}

function expire(hv: Hypervisor, vp: Vp, vtl: number, n: number, t: SyntheticTimer, expiration: number, now: number): void {
  const ctx = vp.vtls[vtl];
  // Message mode: a periodic expiry whose slot is still busy is dropped (the previous one is unread).
  const delivered = ctx !== undefined && (t.direct || !t.periodic || hv.synic.slotFree(vp, vtl, t.sint));
  hv.observe?.({
    kind: 'timer', vp: vp.index, vtl, timer: n, direct: t.direct, vector: t.direct ? t.vector : -1, sint: t.direct ? -1 : t.sint,
    expiration, delivered,
  });
  if (!delivered) return;
  if (t.direct) {
    ctx.apic.acceptInterrupt(DeliveryMode.FIXED, t.vector, 'edge');
    return;
  }
  const payload = new Uint8Array(24);
  const d = new DataView(payload.buffer);
  d.setUint32(0, n, true);
  d.setUint32(8, expiration % 4294967296, true); d.setUint32(12, Math.floor(expiration / 4294967296), true);
  d.setUint32(16, now % 4294967296, true); d.setUint32(20, Math.floor(now / 4294967296), true);
  hv.synic.post(vp, vtl, t.sint, HV_MESSAGE_TIMER_EXPIRED, payload);
}
