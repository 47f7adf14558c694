// Contracts between devices and the machine. Devices know nothing of CPUs or of each other:
// they see ports, a clock and a few narrow callbacks, so each can be tested on its own.

export type IoSize = 1 | 2 | 4;

/** A device on the x86 I/O port space. Values are unsigned and already masked to `size` bytes. */
export interface PortDevice {
  ioRead(port: number, size: IoSize): number;
  ioWrite(port: number, size: IoSize, value: number): void;
}

/** A device mapped into guest-physical space; `offset` is relative to the start of its window. */
export interface MmioDevice {
  mmioRead(offset: number, size: IoSize | 8): number;
  mmioWrite(offset: number, size: IoSize | 8, value: number): void;
}

/**
 * Virtual time of one VP in nanoseconds (an integer held in a double). It is derived from retired
 * instructions by the machine; nothing in core/ reads host time.
 */
export interface Clock {
  nowNs(): number;
}

/** Snapshot section: plain data (numbers, strings, arrays, typed arrays) with a version. */
export interface SavedSection {
  readonly version: number;
  readonly [key: string]: unknown;
}

export interface Saveable {
  save(): SavedSection;
  restore(s: SavedSection): void;
}

/** Where guest-visible output bytes go (serial). The machine forwards them to its observer. */
export interface ByteSink {
  (byte: number): void;
}

/** 64-bit MSR value as two unsigned 32-bit halves. */
export interface Msr64 {
  lo: number;
  hi: number;
}

/** A contiguous run of I/O ports: [firstPort, count]. */
export type PortRange = readonly [first: number, count: number];

/** A port device that knows which ports it decodes, so the machine can attach it in one call. */
export interface PortMapped extends PortDevice {
  readonly portRanges: readonly PortRange[];
}
