// The expressions `evaluate` (watch, hover, debug console) and data breakpoints understand:
//
//   rax  $rip  vtl1.rsp  $vtl0.cr3       a register of the frame's thread (or of another VTL of its VP)
//   0x1000  4096  main  &main             numbers and function addresses (from the symbols)
//   rsp + 8   rbp - 0x10                  sums and differences of the above
//   *(uint64_t*)0x1234  *(u32*)(rsp+8)    memory through the thread's page tables, read as that type
//   [rsp+8]                               the same as *(uint64_t*)(rsp+8)
//
// Parsing yields a tree; evaluation reads through the callbacks, so this module touches no machine.

export interface ExprEnv {
  register(name: string, vtl: number | null): bigint | null;
  symbol(name: string): bigint | null;
  /** Bytes readable at addr (a prefix of len). */
  read(addr: bigint, len: number): Uint8Array;
}

export class ExprError extends Error {}

export interface MemType { size: 1 | 2 | 4 | 8; signed: boolean; name: string }

const TYPES: Record<string, MemType> = {};
for (const [names, size, signed] of [
  [['uint8_t', 'u8', 'unsigned char', 'byte'], 1, false], [['int8_t', 's8', 'i8', 'char', 'signed char'], 1, true],
  [['uint16_t', 'u16', 'unsigned short', 'word'], 2, false], [['int16_t', 's16', 'i16', 'short'], 2, true],
  [['uint32_t', 'u32', 'unsigned int', 'unsigned', 'dword'], 4, false], [['int32_t', 's32', 'i32', 'int'], 4, true],
  [['uint64_t', 'u64', 'unsigned long', 'unsigned long long', 'qword', 'size_t', 'uintptr_t', 'void'], 8, false],
  [['int64_t', 's64', 'i64', 'long', 'long long'], 8, true],
] as [string[], 1 | 2 | 4 | 8, boolean][]) for (const n of names) TYPES[n] = { size, signed, name: names[0] };

export type Expr =
  | { kind: 'num'; value: bigint }
  | { kind: 'reg'; name: string; vtl: number | null }
  | { kind: 'sym'; name: string }
  | { kind: 'binop'; op: '+' | '-'; a: Expr; b: Expr }
  | { kind: 'deref'; type: MemType; addr: Expr };

/** Parse an expression (throws ExprError with what was expected where). */
export function parseExpr(text: string, isRegister: (name: string) => boolean): Expr {
  const src = text.trim();
  let pos = 0;
  const ws = () => { while (pos < src.length && /\s/.test(src[pos])) pos++; };
  const fail = (what: string): never => { throw new ExprError(`${what} at column ${pos + 1} of '${src}'`); };
  const eat = (s: string) => { ws(); if (src.startsWith(s, pos)) { pos += s.length; return true; } return false; };

  const primary = (): Expr => {
    ws();
    if (eat('(')) {
      // A cast: (type*) applied to the dereference that precedes it is handled in unary().
      const e = sum();
      if (!eat(')')) fail("expected ')'");
      return e;
    }
    if (eat('[')) {
      const e = sum();
      if (!eat(']')) fail("expected ']'");
      return { kind: 'deref', type: TYPES.uint64_t, addr: e };
    }
    if (eat('&')) {
      const m = /^[A-Za-z_.$][\w.$]*/.exec(src.slice(pos));
      if (!m) fail('expected a symbol name after &');
      pos += m![0].length;
      return { kind: 'sym', name: m![0] };
    }
    const num = /^(0x[0-9a-f]+|\d+)\b/i.exec(src.slice(pos));
    if (num) { pos += num[0].length; return { kind: 'num', value: BigInt(num[0]) }; }
    const id = /^\$?[A-Za-z_.][\w.]*/.exec(src.slice(pos));
    if (!id) fail('expected a register, number, symbol or *(type*)address');
    pos += id![0].length;
    const raw = id![0];
    const name = raw.startsWith('$') ? raw.slice(1) : raw;
    const vtlForm = /^vtl(\d+)\.(\w+)$/i.exec(name);
    if (vtlForm && isRegister(vtlForm[2].toLowerCase())) return { kind: 'reg', name: vtlForm[2].toLowerCase(), vtl: Number(vtlForm[1]) };
    if (isRegister(name.toLowerCase())) return { kind: 'reg', name: name.toLowerCase(), vtl: null };
    if (raw.startsWith('$')) fail(`no register named '${name}'`);
    return { kind: 'sym', name };
  };

  const unary = (): Expr => {
    ws();
    if (eat('*')) {
      ws();
      const save = pos;
      if (eat('(')) {
        const m = /^([A-Za-z_][\w ]*?)\s*\*\s*\)/.exec(src.slice(pos));
        if (m && TYPES[m[1].trim()]) {
          pos += m[0].length;
          return { kind: 'deref', type: TYPES[m[1].trim()], addr: unary() };
        }
        if (m) fail(`unknown type '${m[1].trim()}' (use uint8_t..uint64_t, int8_t..int64_t, u8..u64)`);
        pos = save;
      }
      return { kind: 'deref', type: TYPES.uint64_t, addr: unary() };
    }
    if (eat('-')) return { kind: 'binop', op: '-', a: { kind: 'num', value: 0n }, b: unary() };
    return primary();
  };

  const sum = (): Expr => {
    let e = unary();
    for (;;) {
      ws();
      if (src[pos] === '+' || src[pos] === '-') { const op = src[pos++] as '+' | '-'; e = { kind: 'binop', op, a: e, b: unary() }; }
      else return e;
    }
  };

  if (!src) throw new ExprError('empty expression');
  const e = sum();
  ws();
  if (pos < src.length) fail('unexpected text');
  return e;
}

export interface Value { value: bigint; type: string; size: number; address?: bigint }

/** Evaluate: a register, number or sum is a 64-bit value; a dereference also reports its address. */
export function evalExpr(e: Expr, env: ExprEnv): Value {
  switch (e.kind) {
    case 'num': return { value: e.value, type: 'u64', size: 8 };
    case 'reg': {
      const v = env.register(e.name, e.vtl);
      if (v === null) throw new ExprError(`register '${e.name}' is not available${e.vtl !== null ? ` in VTL${e.vtl}` : ''}`);
      return { value: v, type: 'register', size: 8 };
    }
    case 'sym': {
      const v = env.symbol(e.name);
      if (v === null) throw new ExprError(`no register or symbol named '${e.name}'`);
      return { value: v, type: 'address', size: 8 };
    }
    case 'binop': {
      const a = evalExpr(e.a, env).value, b = evalExpr(e.b, env).value;
      return { value: BigInt.asUintN(64, e.op === '+' ? a + b : a - b), type: 'u64', size: 8 };
    }
    case 'deref': {
      const addr = BigInt.asUintN(64, evalExpr(e.addr, env).value);
      const bytes = env.read(addr, e.type.size);
      if (bytes.length < e.type.size) throw new ExprError(`cannot read ${e.type.size} bytes at 0x${addr.toString(16)}: not mapped in this thread's page tables`);
      let v = 0n;
      for (let k = e.type.size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k]);
      if (e.type.signed) v = BigInt.asIntN(e.type.size * 8, v);
      return { value: v, type: e.type.name, size: e.type.size, address: addr };
    }
  }
}

/** `0x…` plus the decimal value for values that are not addresses. */
export function formatValue(v: Value): string {
  if (v.value < 0n) return `${v.value} (0x${BigInt.asUintN(v.size * 8, v.value).toString(16)})`;
  const hex = `0x${v.value.toString(16).padStart(v.size * 2, '0')}`;
  return v.type === 'address' || v.type === 'register' ? hex : `${hex} (${v.value})`;
}
