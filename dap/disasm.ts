// Disassembly for the debug adapter's disassemble request: guest bytes to Intel-syntax text, one
// entry per instruction, with iced-x86 as the decoder (an independent one: the emulator's own decoder
// in core/ is what is being debugged, so it must not also explain itself).
//
// Bytes that do not decode, including an instruction cut off by the end of `bytes`, become one
// "(bad)" entry per byte, as objdump prints them, so decoding resynchronises at the next byte.

import { Code, Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from 'iced-x86';

export interface DisasmLine {
  addr: bigint;
  len: number;
  text: string;
  bytes: Uint8Array;
}

export function disassemble(bytes: Uint8Array, addr: bigint, bitness: 16 | 32 | 64): DisasmLine[] {
  const mask = (1n << BigInt(bitness)) - 1n;
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const formatter = new Formatter(FormatterSyntax.Intel);
  const insn = new Instruction();
  try {
    // Close to objdump -M intel and gdb: 0x-prefixed lower-case hex, "eax, ebx", no "short".
    formatter.hexPrefix = '0x';
    formatter.hexSuffix = '';
    formatter.uppercaseHex = false;
    formatter.spaceAfterOperandSeparator = true;
    formatter.showBranchSize = false;
    const out: DisasmLine[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const at = (addr + BigInt(pos)) & mask;
      decoder.position = pos;
      decoder.ip = at;
      decoder.decodeOut(insn);
      const len = insn.code === Code.INVALID ? 1 : insn.length;
      out.push({
        addr: at,
        len,
        text: insn.code === Code.INVALID ? '(bad)' : formatter.format(insn),
        bytes: bytes.slice(pos, pos + len),
      });
      pos += len;
    }
    return out;
  } finally {
    // iced objects live in WebAssembly memory, outside the JS garbage collector.
    insn.free();
    formatter.free();
    decoder.free();
  }
}
