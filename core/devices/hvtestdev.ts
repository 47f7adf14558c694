// The Hyper-V test device of QEMU (`-device hyperv-testdev`) that the kvm-unit-tests hyperv_synic and
// hyperv_connections tests drive: one 32-bit write-only control port at 0x3000,
//   bits 0..7 SINT, 8..15 VP index, 16..23 control code, 24..31 connection id.
// Control codes: 1 create a SINT route, 2 destroy it, 3 raise the routed SINT, 4 create a message
// connection (conn id → VP, SINT), 5 destroy it, 6 create an event connection, 7 destroy it.
// Messages and events go to VTL0. An event connection's flag is its connection id (QEMU's device
// signals flag conn_id whatever flag number the guest passes), so its flag base is the id.
// The connections live in the hypervisor's table (core/hv/connections.ts); the device keeps its SINT
// routes. Where QEMU asserts (a route or connection that does not exist, a duplicate), the write is
// ignored.

import type { IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const HV_TESTDEV_PORT = 0x3000;

export const HV_TESTDEV_CTL = {
  SINT_ROUTE_CREATE: 1,
  SINT_ROUTE_DESTROY: 2,
  SINT_ROUTE_SET_SINT: 3,
  MSG_CONN_CREATE: 4,
  MSG_CONN_DESTROY: 5,
  EVT_CONN_CREATE: 6,
  EVT_CONN_DESTROY: 7,
} as const;

/** What the device needs of the hypervisor. */
export interface HvTestDevHost {
  connectMessage(id: number, t: { vp: number; sint: number }): boolean;
  disconnectMessage(id: number): boolean;
  connectEvent(id: number, t: { vp: number; sint: number; flagBase: number }): boolean;
  disconnectEvent(id: number): boolean;
  raiseSint(vp: number, vtl: number, sint: number): boolean;
}

export class HvTestDev implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [[HV_TESTDEV_PORT, 4]];
  /** SINT routes as vp * 256 + sint, in creation order (QEMU allows duplicates). */
  private routes: number[] = [];

  constructor(private readonly host: HvTestDevHost) {}

  ioRead(_port: number, size: IoSize): number {
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    // QEMU's region takes exactly 4-byte accesses at its base.
    if (size !== 4 || port !== HV_TESTDEV_PORT) return;
    const sint = value & 0xff, vp = (value >>> 8) & 0xff, ctl = (value >>> 16) & 0xff, conn = value >>> 24;
    const C = HV_TESTDEV_CTL;
    switch (ctl) {
      case C.SINT_ROUTE_CREATE: if (sint < 16) this.routes.push(vp * 256 + sint); break;
      case C.SINT_ROUTE_DESTROY: {
        const k = this.routes.indexOf(vp * 256 + sint);
        if (k >= 0) this.routes.splice(k, 1);
        break;
      }
      case C.SINT_ROUTE_SET_SINT: if (this.routes.includes(vp * 256 + sint)) this.host.raiseSint(vp, 0, sint); break;
      case C.MSG_CONN_CREATE: this.host.connectMessage(conn, { vp, sint }); break;
      case C.MSG_CONN_DESTROY: this.host.disconnectMessage(conn); break;
      case C.EVT_CONN_CREATE: this.host.connectEvent(conn, { vp, sint, flagBase: conn }); break;
      case C.EVT_CONN_DESTROY: this.host.disconnectEvent(conn); break;
    }
  }

  save(): SavedSection {
    return { version: 1, routes: this.routes.slice() };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`HvTestDev: unsupported snapshot version ${String(s.version)}`);
    this.routes = [...(s.routes as number[])];
  }
}
