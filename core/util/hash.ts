// A small 64-bit non-cryptographic hash (two independent 32-bit FNV-1a-style lanes over 32-bit words)
// for state comparison. Pure TypeScript: core/ may not use node:crypto.

export class StateHasher {
  private a = 0x811c9dc5 | 0;
  private b = 0x01000193 ^ 0x5bd1e995;

  word(w: number): void {
    this.a = Math.imul(this.a ^ (w | 0), 0x01000193);
    this.b = Math.imul(this.b ^ (w | 0), 0x5bd1e995) ^ (this.b >>> 15);
  }

  number(n: number): void {
    this.word(n % 4294967296);
    this.word(Math.floor(n / 4294967296));
  }

  words(arr: Int32Array | Uint32Array): void {
    let a = this.a, b = this.b;
    for (let k = 0; k < arr.length; k++) {
      const w = arr[k] | 0;
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 15);
    }
    this.a = a; this.b = b;
  }

  bytes(u8: Uint8Array): void {
    const n = u8.length & ~3;
    if (u8.byteOffset % 4 === 0) this.words(new Int32Array(u8.buffer, u8.byteOffset, n / 4));
    else for (let k = 0; k < n; k += 4) this.word(u8[k] | (u8[k + 1] << 8) | (u8[k + 2] << 16) | (u8[k + 3] << 24));
    for (let k = n; k < u8.length; k++) this.word(u8[k]);
  }

  /** Hash any plain data (numbers, strings, arrays, typed arrays, objects with sorted keys). */
  value(v: unknown): void {
    if (v === null || v === undefined) { this.word(0x7e57); return; }
    if (typeof v === 'number') { this.number(v); return; }
    if (typeof v === 'boolean') { this.word(v ? 1 : 2); return; }
    if (typeof v === 'string') { for (let k = 0; k < v.length; k++) this.word(v.charCodeAt(k)); this.word(v.length); return; }
    if (v instanceof Uint8Array) { this.bytes(v); return; }
    if (ArrayBuffer.isView(v)) { this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
    if (Array.isArray(v)) { for (const x of v) this.value(x); this.word(v.length); return; }
    if (typeof v === 'object') {
      for (const k of Object.keys(v as object).sort()) { this.value(k); this.value((v as Record<string, unknown>)[k]); }
      return;
    }
    this.word(0xbad);
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
