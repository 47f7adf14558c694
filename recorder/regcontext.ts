// The register context of one (VP, VTL) of a machine, for the register table (registers.ts).

import type { Machine } from '../core/machine/machine.js';
import type { RegContext } from './registers.js';

export function regContext(m: Machine, vp: number, vtl: number): RegContext {
  const v = m.vps[vp];
  const ctx = v?.vtls[vtl];
  if (!ctx) throw new Error(`VP ${vp} has no VTL${vtl}`);
  const priv = ctx.cpu;
  return {
    priv, shared: v.cpu, vtl, icount: m.icount(),
    cr8: () => priv.host.getCr8(),
    setCr8: (x) => priv.host.setCr8(x),
  };
}
