// The parser alone: every packet the stub implements as a typed request, malformed forms of them as
// `malformed` (error reply), and anything else as `unknown` (empty reply). It never throws.

import { describe, expect, it } from 'vitest';
import { parse, parseThread } from '../../gdbstub/parse.js';

const p = (s: string) => parse(Buffer.from(s, 'latin1'));

describe('gdbstub parse', () => {
  it('parses the handshake gdb 13 sends', () => {
    expect(p('qSupported:multiprocess+;swbreak+;xmlRegisters=i386')).toEqual({ kind: 'qSupported', features: ['multiprocess+', 'swbreak+', 'xmlRegisters=i386'] });
    expect(p('vMustReplyEmpty')).toEqual({ kind: 'unknown', packet: 'vMustReplyEmpty' });
    expect(p('QStartNoAckMode')).toEqual({ kind: 'startNoAck' });
    expect(p('Hg0')).toEqual({ kind: 'setThread', op: 'g', thread: 'any' });
    expect(p('Hc-1')).toEqual({ kind: 'setThread', op: 'c', thread: 'all' });
    expect(p('Hgp1.2')).toEqual({ kind: 'setThread', op: 'g', thread: 2 });
    expect(p('qXfer:features:read:target.xml:0,1000')).toEqual({ kind: 'xferRead', object: 'features', annex: 'target.xml', offset: 0, length: 0x1000 });
    expect(p('qXfer:threads:read::0,fff')).toEqual({ kind: 'xferRead', object: 'threads', annex: '', offset: 0, length: 0xfff });
    expect(p('qTStatus').kind).toBe('unknown');
    expect(p('?')).toEqual({ kind: 'haltReason' });
    expect(p('qAttached')).toEqual({ kind: 'attached' });
    expect(p('g')).toEqual({ kind: 'readRegisters' });
    expect(p('qSymbol::')).toEqual({ kind: 'symbol' });
  });

  it('parses registers, memory and breakpoints', () => {
    expect(p('p42')).toEqual({ kind: 'readRegister', reg: 0x42 });
    expect(p('P10=0102030405060708')).toEqual({ kind: 'writeRegister', reg: 16, data: Buffer.from('0102030405060708', 'hex') });
    expect(p('m10000c,4')).toEqual({ kind: 'readMemory', addr: 0x10000cn, len: 4 });
    expect(p('mffffffff80001000,1')).toEqual({ kind: 'readMemory', addr: 0xffffffff80001000n, len: 1 });
    expect(p('M2000,2:abcd')).toEqual({ kind: 'writeMemory', addr: 0x2000n, data: Buffer.from([0xab, 0xcd]) });
    expect(p('X2000,0:')).toEqual({ kind: 'writeMemory', addr: 0x2000n, data: Buffer.alloc(0) });
    expect(p('X2000,2:#\x03')).toEqual({ kind: 'writeMemory', addr: 0x2000n, data: Buffer.from([0x23, 3]) });
    expect(p('Z0,1002,1')).toEqual({ kind: 'point', insert: true, type: 0, addr: 0x1002n, size: 1 });
    expect(p('z2,2000,8')).toEqual({ kind: 'point', insert: false, type: 2, addr: 0x2000n, size: 8 });
    expect(p('Z0,1002,1;X2,ab').kind).toBe('point');
  });

  it('parses execution: vCont with per-thread actions, legacy c/s, reverse', () => {
    expect(p('vCont?')).toEqual({ kind: 'vContQuery' });
    expect(p('vCont;s:1;c')).toEqual({ kind: 'resume', actions: [{ action: 's', signal: undefined, thread: 1 }, { action: 'c', signal: undefined, thread: 'all' }] });
    expect(p('vCont;c:p1.-1')).toEqual({ kind: 'resume', actions: [{ action: 'c', signal: undefined, thread: 'all' }] });
    expect(p('vCont;S05:2')).toEqual({ kind: 'resume', actions: [{ action: 's', signal: 5, thread: 2 }] });
    expect(p('c')).toEqual({ kind: 'resume', actions: [{ action: 'c', thread: 'any' }] });
    expect(p('C05')).toEqual({ kind: 'resume', actions: [{ action: 'c', signal: 5, thread: 'any' }] });
    expect(p('bs')).toEqual({ kind: 'reverse', step: true });
    expect(p('bc')).toEqual({ kind: 'reverse', step: false });
    expect(p('T3')).toEqual({ kind: 'threadAlive', thread: 3 });
    expect(p('vKill;a410')).toEqual({ kind: 'kill', reply: true });
    expect(p('D;1')).toEqual({ kind: 'detach' });
  });

  it('parses monitor commands and thread queries', () => {
    expect(p('qRcmd,68656c70')).toEqual({ kind: 'monitor', command: 'help' });
    expect(p('qThreadExtraInfo,2')).toEqual({ kind: 'threadExtraInfo', thread: 2 });
    expect(p('qfThreadInfo')).toEqual({ kind: 'threadList', first: true });
    expect(p('Qqemu.PhyMemMode:1')).toEqual({ kind: 'physMode', set: true });
    expect(parseThread('p1.-1')).toBe('all');
    expect(parseThread('zz')).toBeNull();
  });

  it('turns malformed forms of known packets into malformed requests, and the rest into unknown', () => {
    for (const bad of ['m', 'mzz,1', 'm1', 'M1,2:abc', 'M1,3:abcd', 'X1,5:ab', 'P1=xyz', 'Z0,,1', 'Hgq', 'Tq', 'vCont;q', 'vCont;C', 'vCont;s05', 'qRcmd,6', 'c1234', 'qXfer:features:read:target.xml:zz', 'p', 'G0']) {
      expect(p(bad).kind, bad).toBe('malformed');
    }
    for (const unk of ['', 'x', '!', 'qFoo', 'vFile:open:', 'Z9,1,1', 'bq', 'qXfer:auxv:write:x']) {
      expect(p(unk).kind, unk).toBe('unknown');
    }
    expect(p('m' + 'f'.repeat(17) + ',1').kind).toBe('malformed');
  });
});
