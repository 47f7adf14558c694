// QEMU-compatible isa-debug-exit (iobase=0xF4, iosize=4): the guest ends the run by writing to it.
// The raw value goes to the machine; turning it into an exit status (QEMU uses (v << 1) | 1) is
// the machine's policy, not the device's.

import type { IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';
import { ioMask } from './iobus.js';

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_SIZE = 4;

export interface DebugExitOptions {
  onExit: (value: number) => void;
  port?: number;
}

export class DebugExit implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[];
  private readonly onExit: (value: number) => void;

  constructor(options: DebugExitOptions) {
    this.onExit = options.onExit;
    this.portRanges = [[options.port ?? DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE]];
  }

  ioRead(_port: number, size: IoSize): number {
    return ioMask(size);
  }

  ioWrite(_port: number, _size: IoSize, value: number): void {
    // Any width, any of the 4 ports: QEMU's region accepts them all and reports the value written.
    this.onExit(value >>> 0);
  }

  // Stateless: the exit request is an event delivered synchronously, never latched.
  save(): SavedSection {
    return { version: 1 };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`DebugExit: unsupported snapshot version ${String(s.version)}`);
  }
}
