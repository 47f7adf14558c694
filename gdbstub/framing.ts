// RSP framing (spec/interfaces.md A.1): `$payload#cs` packets, `+`/`-` acknowledgements until
// QStartNoAckMode, the out-of-band interrupt byte 0x03, and the binary escapes `}`+(b^0x20) for
// `#`, `$`, `}` and `*`. Payloads are byte strings: every layer above sees a Buffer (or a latin1
// string of it) and never the framing characters.
//
// The reader is a byte-at-a-time state machine, so a packet split over any number of socket reads
// (or a client that goes away in the middle of one) needs no special handling: a new connection gets
// a new reader.

/** Packets larger than this are dropped (gdb never sends more than the advertised PacketSize). */
export const MAX_PACKET = 0x10000;

export interface FrameSink {
  /** A complete packet with a good checksum, escapes and run-lengths decoded. */
  packet(payload: Buffer): void;
  /** The interrupt byte 0x03 arrived between packets. */
  interrupt(): void;
  /** Bytes to send back (acknowledgements, resends). */
  write(raw: Buffer): void;
}

const enum State { Idle, Data, Escape, Sum1, Sum2 }

const hexVal = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

export class FrameReader {
  /** After QStartNoAckMode neither side acknowledges; stray `+`/`-` are still skipped. */
  noAck = false;
  private state = State.Idle;
  private readonly buf: number[] = [];
  private sum = 0;
  private cs = 0;
  private overflow = false;
  /** A `*` was seen: the next byte is a run length. */
  private rle = false;
  /** The last packet sent, resent when the client answers `-` (ack mode only). */
  private lastSent: Buffer | null = null;

  constructor(private readonly sink: FrameSink) {}

  feed(chunk: Uint8Array): void {
    for (const b of chunk) this.byte(b);
  }

  /** Send a packet whose payload is `payload` (escaped here). */
  send(payload: Buffer | string): void {
    const raw = encodePacket(payload);
    if (!this.noAck) this.lastSent = raw;
    this.sink.write(raw);
  }

  private byte(b: number): void {
    switch (this.state) {
      case State.Idle:
        if (b === 0x24) { this.start(); return; }
        if (b === 0x03) { this.sink.interrupt(); return; }
        if (b === 0x2d && !this.noAck && this.lastSent) { this.sink.write(this.lastSent); return; }
        // `+`, and anything else between packets (line noise), is skipped.
        return;
      case State.Data:
      case State.Escape:
        if (b === 0x24) { this.start(); return; }   // a `$` is never payload: the client restarted
        if (this.state === State.Escape) { this.sum = (this.sum + b) & 0xff; this.push(b ^ 0x20); this.state = State.Data; return; }
        if (b === 0x23) { this.state = State.Sum1; return; }
        this.sum = (this.sum + b) & 0xff;
        if (this.rle) {
          // Run length: the previous byte repeats (b - 29) more times.
          this.rle = false;
          const prev = this.buf[this.buf.length - 1];
          for (let k = b - 29; k > 0; k--) this.push(prev);
          return;
        }
        if (b === 0x7d) { this.state = State.Escape; return; }
        if (b === 0x2a && this.buf.length > 0) { this.rle = true; return; }
        this.push(b);
        return;
      case State.Sum1: {
        const v = hexVal(b);
        this.cs = v < 0 ? -1 : v << 4;
        this.state = State.Sum2;
        return;
      }
      case State.Sum2: {
        const v = hexVal(b);
        const ok = this.cs >= 0 && v >= 0 && (this.cs | v) === this.sum && !this.overflow;
        this.state = State.Idle;
        const payload = Buffer.from(this.buf);
        this.buf.length = 0;
        if (!this.noAck) this.sink.write(Buffer.from(ok ? '+' : '-'));
        if (ok) this.sink.packet(payload);
        return;
      }
    }
  }

  private start(): void {
    this.state = State.Data;
    this.buf.length = 0;
    this.sum = 0;
    this.overflow = false;
    this.rle = false;
  }

  private push(b: number): void {
    if (this.buf.length >= MAX_PACKET) { this.overflow = true; return; }
    this.buf.push(b);
  }
}

const ESCAPED = new Set([0x23, 0x24, 0x7d, 0x2a]);

/** Escape the four special bytes (binary data rules; a no-op for hex and plain text). */
export function escapeBinary(data: Buffer): Buffer {
  let n = 0;
  for (const b of data) if (ESCAPED.has(b)) n++;
  if (n === 0) return data;
  const out = Buffer.alloc(data.length + n);
  let k = 0;
  for (const b of data) {
    if (ESCAPED.has(b)) { out[k++] = 0x7d; out[k++] = b ^ 0x20; } else out[k++] = b;
  }
  return out;
}

/** `$payload#cs` with the payload escaped; the checksum covers the bytes as sent. */
export function encodePacket(payload: Buffer | string): Buffer {
  const body = escapeBinary(typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload);
  let sum = 0;
  for (const b of body) sum = (sum + b) & 0xff;
  return Buffer.concat([Buffer.from('$'), body, Buffer.from('#' + sum.toString(16).padStart(2, '0'))]);
}
