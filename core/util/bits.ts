// Tiny helpers for 64-bit values held as two uint32 halves. The only module that defs/ may import.

export const TWO32 = 4294967296;

/** Combine halves into a double; exact while the value is below 2^53. */
export function join64(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

export function lo32(v: number): number {
  return v >>> 0;
}

export function hi32(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}

export function hex(v: number, width = 0): string {
  return '0x' + (v >>> 0 === v ? v : v).toString(16).padStart(width, '0');
}

export function hex64(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Parity flag: set when the low byte has an even number of 1 bits. */
export const PARITY = /* @__PURE__ */ (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let b = i, n = 0;
    while (b) { n += b & 1; b >>= 1; }
    t[i] = n & 1 ? 0 : 1;
  }
  return t;
})();
