// IPI destination resolution for the machine's IpiRouter (SDM 10.6.2 / 10.12.9). It lives apart
// from LocalApic so that the APIC itself knows nothing about other APICs; apic.ts re-exports it.

import type { LocalApic } from './apic.js';
import { DeliveryMode, type Ipi, Shorthand } from './apicdefs.js';

/**
 * Deliver `ipi` from `src` to the matching APICs in `apics` (which should include `src`), per
 * SDM 10.6.2: shorthands, physical IDs, xAPIC flat/cluster and x2APIC cluster logical
 * destinations, broadcast. Lowest-priority delivery goes, as fixed, to the first match in
 * `apics` order (deterministic, and allowed: the arbitration is model-specific).
 */
export function routeIpi(apics: readonly LocalApic[], src: LocalApic, ipi: Ipi): void {
  // "INIT level de-assert" only synchronised arbitration IDs on P6-era buses; it is a no-op now.
  if (ipi.deliveryMode === DeliveryMode.INIT && !ipi.level && ipi.trigger === 'level') return;
  const mode = ipi.deliveryMode === DeliveryMode.LOWEST ? DeliveryMode.FIXED : ipi.deliveryMode;
  const firstOnly = ipi.deliveryMode === DeliveryMode.LOWEST;
  if (ipi.shorthand === Shorthand.SELF) {
    src.acceptInterrupt(mode, ipi.vector, ipi.trigger);
    return;
  }
  for (const a of apics) {
    if (!a.isEnabled()) continue;
    let hit: boolean;
    if (ipi.shorthand === Shorthand.ALL_INCLUDING_SELF) hit = true;
    else if (ipi.shorthand === Shorthand.ALL_EXCLUDING_SELF) hit = a !== src;
    else if (ipi.destMode === 'physical') hit = a.matchesPhysical(ipi.dest, ipi.x2apic);
    else hit = a.matchesLogical(ipi.dest, ipi.x2apic);
    if (!hit) continue;
    a.acceptInterrupt(mode, ipi.vector, ipi.trigger);
    if (firstOnly) return;
  }
}
