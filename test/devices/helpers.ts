// Shared test helpers for device tests.

import type { Clock } from '../../core/devices/types.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  t = 0;
  nowNs(): number {
    return this.t;
  }
}

/** Round-trip through JSON: snapshots must be plain data. */
export function viaJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
