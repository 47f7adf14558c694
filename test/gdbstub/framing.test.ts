// The framing layer alone: checksums and acknowledgements, no-ack mode, escapes and run lengths, the
// interrupt byte, packets split anywhere, and garbage between packets.

import { describe, expect, it } from 'vitest';
import { FrameReader, encodePacket, escapeBinary, MAX_PACKET } from '../../gdbstub/framing.js';

function reader() {
  const packets: string[] = [];
  const written: string[] = [];
  let interrupts = 0;
  const r = new FrameReader({
    packet: (p) => packets.push(p.toString('latin1')),
    interrupt: () => { interrupts++; },
    write: (raw) => written.push(raw.toString('latin1')),
  });
  return { r, packets, written, interrupts: () => interrupts, feed: (s: string) => r.feed(Buffer.from(s, 'latin1')) };
}

const frame = (payload: string) => encodePacket(payload).toString('latin1');

describe('gdbstub framing', () => {
  it('encodes packets with the checksum of the bytes as sent', () => {
    expect(frame('OK')).toBe('$OK#9a');
    expect(frame('')).toBe('$#00');
    expect(frame('qSupported')).toBe('$qSupported#37');
    // `#`, `$`, `}` and `*` are escaped as `}` + (byte ^ 0x20); the checksum covers the escape.
    expect(escapeBinary(Buffer.from('a#b$c}d*e')).toString('latin1')).toBe('a}\x03b}\x04c}]d}\x0ae');
    expect(frame('#')).toBe('$}\x03#80');
  });

  it('acknowledges good packets with + and bad checksums with -, and delivers only good ones', () => {
    const t = reader();
    t.feed('$g#67$g#00');
    expect(t.packets).toEqual(['g']);
    expect(t.written).toEqual(['+', '-']);
    // Upper-case checksum digits are accepted too.
    t.feed('$qC#B4');
    expect(t.packets).toEqual(['g', 'qC']);
  });

  it('stops acknowledging in no-ack mode and skips stray acks', () => {
    const t = reader();
    t.r.noAck = true;
    t.feed('+$g#67+-$?#3f');
    expect(t.packets).toEqual(['g', '?']);
    expect(t.written).toEqual([]);
  });

  it('resends the last packet when the client answers - in ack mode', () => {
    const t = reader();
    t.r.send('OK');
    t.feed('-');
    expect(t.written).toEqual(['$OK#9a', '$OK#9a']);
  });

  it('decodes escapes and run lengths in incoming packets', () => {
    const t = reader();
    t.r.noAck = true;
    t.r.feed(encodePacket(Buffer.from('X10,4:}#*$')));
    expect(t.packets).toEqual(['X10,4:}#*$']);
    // `0* ` is "0" plus (32 - 29) = 3 more copies.
    const body = '0* ';
    let sum = 0;
    for (const c of body) sum += c.charCodeAt(0);
    t.feed(`$${body}#${(sum & 0xff).toString(16).padStart(2, '0')}`);
    expect(t.packets[1]).toBe('0000');
  });

  it('reports 0x03 between packets as an interrupt, but not inside one', () => {
    const t = reader();
    t.r.noAck = true;
    t.feed('\x03');
    expect(t.interrupts()).toBe(1);
    const p = encodePacket(Buffer.from('X0,1:\x03'));
    t.r.feed(p);
    expect(t.interrupts()).toBe(1);
    expect(t.packets).toEqual(['X0,1:\x03']);
  });

  it('assembles packets split at every byte, and restarts on a $ inside a packet', () => {
    const t = reader();
    t.r.noAck = true;
    for (const c of '$qAttached#8f') t.feed(c);
    t.feed('$qAtt$?#3f');
    expect(t.packets).toEqual(['qAttached', '?']);
  });

  it('drops packets longer than the limit without growing without bound', () => {
    const t = reader();
    const big = 'A'.repeat(MAX_PACKET + 10);
    let sum = 0;
    for (let k = 0; k < big.length; k++) sum += 0x41;
    t.feed(`$${big}#${(sum & 0xff).toString(16).padStart(2, '0')}`);
    expect(t.packets).toEqual([]);
    expect(t.written).toEqual(['-']);
    t.feed('$?#3f');
    expect(t.packets).toEqual(['?']);
  });
});
