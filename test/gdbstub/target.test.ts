// The target description comes from the one register table: numbering, features, type definitions.

import { describe, expect, it } from 'vitest';
import { REGISTERS } from '../../recorder/registers.js';
import { buildTargetDescription, registerBytes, bytesValue } from '../../gdbstub/target.js';

describe('gdbstub target description', () => {
  it('includes one annex per feature, numbering the registers in table order, with every non-builtin type defined', () => {
    const t = buildTargetDescription();
    const target = t.files.get('target.xml')!;
    expect(target).toContain('<architecture>i386:x86-64</architecture>');
    expect([...target.matchAll(/<xi:include href="([^"]+)"\/>/g)].map((m) => m[1])).toEqual(['i386-64bit.xml', 'vsm.xml']);
    const regs = [...t.files.get('i386-64bit.xml')!.matchAll(/<reg name="(\w+)" bitsize="(\d+)" type="(\w+)" group="\w+" regnum="(\d+)"\/>/g)]
      .concat([...t.files.get('vsm.xml')!.matchAll(/<reg name="(\w+)" bitsize="(\d+)" type="(\w+)" group="\w+" regnum="(\d+)"\/>/g)]);
    expect(regs.map((m) => [m[1], Number(m[2]), m[3], Number(m[4])])).toEqual(REGISTERS.map((r, i) => [r.name, r.bits, r.type, i]));
    expect(regs).toHaveLength(68);
    const core = t.files.get('i386-64bit.xml')!;
    expect(core).toContain('<feature name="org.gnu.gdb.i386.core">');
    for (const id of ['i386_eflags', 'i386_mxcsr', 'vec128']) expect(core).toMatch(new RegExp(`<(flags|union) id="${id}"`));
    expect(t.files.get('vsm.xml')).toContain('<feature name="org.vsmrr.vsm">');
  });

  it('refuses a table whose type has no definition, or whose feature is split', () => {
    const odd = [...REGISTERS.slice(0, 3), { ...REGISTERS[3], type: 'mystery_t' }];
    expect(() => buildTargetDescription(odd)).toThrow(/no definition for gdb type 'mystery_t'/);
    const split = [REGISTERS[0], REGISTERS[66], REGISTERS[1]];
    expect(() => buildTargetDescription(split)).toThrow(/not contiguous/);
  });

  it('encodes registers little-endian in bits/8 bytes', () => {
    const rip = REGISTERS.find((r) => r.name === 'rip')!;
    expect(registerBytes(rip, 0x10000cn).toString('hex')).toBe('0c00100000000000');
    const st0 = REGISTERS.find((r) => r.name === 'st0')!;
    expect(registerBytes(st0, (1n << 79n) | 5n)).toHaveLength(10);
    expect(bytesValue(registerBytes(st0, (1n << 79n) | 5n))).toBe((1n << 79n) | 5n);
  });
});
