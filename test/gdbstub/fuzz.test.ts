// The stub under hostile clients, over raw TCP: thousands of random and mutated packets (and raw
// garbage, bad checksums, interrupt bytes) after which `?` still gets a valid stop reply and the
// server logged no internal error; a client that disconnects in the middle of a packet; a second
// client while one is connected; reconnecting after a disconnect.

import { connect, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodePacket } from '../../gdbstub/framing.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';
import { Prng } from '../helpers/prng.js';
import { startStub, type StubProcess } from './helpers.js';

const HELLO = guestImage('hello');
const stubs: StubProcess[] = [];
afterEach(async () => { await Promise.all(stubs.splice(0).map((s) => s.stop())); });

class Client {
  data = '';
  closed = false;
  private constructor(readonly sock: Socket) {
    sock.on('data', (d) => { this.data += d.toString('latin1'); });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => {});
  }
  static open(port: number): Promise<Client> {
    return new Promise((res, rej) => { const s = connect(port, '127.0.0.1', () => res(new Client(s))); s.once('error', rej); });
  }
  send(raw: string | Buffer): void { this.sock.write(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw); }
  packet(payload: string): void { this.send(encodePacket(payload)); }
  /** Wait until the received data satisfies `ok` (or fail after `ms`). */
  async until(ok: (data: string) => boolean, ms = 30_000): Promise<string> {
    const end = Date.now() + ms;
    while (!ok(this.data)) {
      if (Date.now() > end) throw new Error(`timed out; received: ${JSON.stringify(this.data.slice(-500))}`);
      if (this.closed) throw new Error(`connection closed; received: ${JSON.stringify(this.data.slice(-500))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.data;
  }
  close(): void { this.sock.destroy(); }
}

/** Every well-formed packet in `data`: [payload, checksum ok]. */
function packets(data: string): [string, boolean][] {
  const out: [string, boolean][] = [];
  const re = /\$([^#$]*)#([0-9a-f]{2})/g;
  for (let m = re.exec(data); m; m = re.exec(data)) {
    let sum = 0;
    for (let k = 0; k < m[1].length; k++) sum = (sum + m[1].charCodeAt(k)) & 0xff;
    out.push([m[1], sum === parseInt(m[2], 16)]);
  }
  return out;
}

const hex = (s: string) => Buffer.from(s).toString('hex');

const CORPUS = [
  '?', 'g', 'p10', 'p42', 'p999', 'P0=0100000000000000', 'G' + '00'.repeat(617), 'm10000c,10', 'mffffffffffffff00,10', 'm0,4000',
  'M200000,2:9090', 'X200000,0:', 'X200000,2:ab', 'Z0,10000c,1', 'z0,10000c,1', 'Z1,100100,1', 'z1,100100,1', 'Z2,200000,8', 'z2,200000,8',
  'Z3,1000,4', 'Z4,1000,4', 'z4,1000,4', 'qSupported:multiprocess+;swbreak+', 'qXfer:features:read:target.xml:0,100',
  'qXfer:features:read:i386-64bit.xml:100,80', 'qXfer:features:read:nope.xml:0,10', 'qXfer:threads:read::0,20', 'qXfer:threads:read::fffff,10',
  'Hg1', 'Hg2', 'Hc1', 'Hc-1', 'Hg0', 'T1', 'T9', 'qC', 'qfThreadInfo', 'qsThreadInfo', 'qThreadExtraInfo,1', 'qAttached', 'qOffsets',
  'qSymbol::', 'vCont?', 'vCont;s:1', 'vCont;s:1;c', 's', 'bs', 'bc', 'c', 'vMustReplyEmpty', 'qTStatus', 'D', 'vKill;1',
  'Qqemu.PhyMemMode:1', 'Qqemu.PhyMemMode:0', 'qqemu.PhyMemMode',
  ...['help', 'when', 'events 2', 'vtl', 'break-on off', 'break-on vtl-transition', 'break-on hypercall 0x11', 'goto 100', 'goto 20000',
    'bookmark b', 'goto-bookmark b', 'goto-bookmark nope', 'checkpoint', 'phys on', 'phys off', 'nonsense', 'goto'].map((c) => `qRcmd,${hex(c)}`),
];

function mutate(r: Prng, p: string): string {
  const b = [...p];
  const n = 1 + r.below(3);
  for (let k = 0; k < n; k++) {
    switch (r.below(6)) {
      case 0: if (b.length) b[r.below(b.length)] = String.fromCharCode(r.byte()); break;
      case 1: b.splice(r.below(b.length + 1), 0, String.fromCharCode(r.byte())); break;
      case 2: if (b.length) b.splice(r.below(b.length), 1 + r.below(4)); break;
      case 3: b.splice(r.below(b.length + 1), 0, r.pick([',', ':', ';', '-1', 'ffffffffffffffffff', '0', '}', '*', '#', '$'])); break;
      case 4: b.length = r.below(b.length + 1); break;
      default: b.push(...r.pick(CORPUS));
    }
  }
  return b.join('');
}

describe('gdb stub under hostile clients', () => {
  beforeAll(() => requireBuilt([HELLO]));

  it('survives thousands of random and mutated packets, then still answers ? with a valid stop reply', async () => {
    const s = await startStub([HELLO]);
    stubs.push(s);
    const c = await Client.open(s.port);
    const r = new Prng(0x6db);
    for (let i = 0; i < 4000; i++) {
      const kind = r.below(10);
      if (kind < 3) c.packet(r.pick(CORPUS));
      else if (kind < 7) c.packet(mutate(r, r.pick(CORPUS)));
      else if (kind < 8) c.send(Buffer.from(Array.from({ length: 1 + r.below(40) }, () => r.byte())));
      else if (kind < 9) { const raw = encodePacket(mutate(r, r.pick(CORPUS))); raw[raw.length - 1] ^= 1; c.send(raw); }
      else c.send(r.pick(['\x03', '+', '-', '$', '#', '}', '$g#']));
      // Let the server drain now and then, as a real client waits for its replies.
      if (i % 200 === 199) await new Promise((res) => setTimeout(res, 10));
    }
    // Close any packet left open by the garbage, then ask.
    // (A request the corpus does not hold marks where the answers to the flood end.)
    c.send('#00');
    c.packet('qXfer:features:read:vsm.xml:0,1000');
    c.packet('?');
    const answers = await c.until((d) => {
      const ps = packets(d);
      const k = ps.findIndex(([p]) => p.includes('<feature name="org.vsmrr.vsm">'));
      return k >= 0 && k + 1 < ps.length;
    }, 120_000);
    const ps = packets(answers);
    const k = ps.findIndex(([p]) => p.includes('<feature name="org.vsmrr.vsm">'));
    expect(ps[k + 1]).toEqual([expect.stringMatching(/^T05thread:1;$/), true]);
    expect(s.proc.exitCode).toBeNull();
    // The server logs handler exceptions as internal errors: there must be none.
    expect(s.stderr()).not.toMatch(/internal error/);
    c.close();
    // And a fresh client gets the whole handshake.
    await new Promise((res) => setTimeout(res, 200));
    const d = await Client.open(s.port);
    d.packet('qSupported:swbreak+');
    d.packet('QStartNoAckMode');
    d.packet('?');
    const got = await d.until((x) => /\$T05thread:1;#/.test(x));
    expect(got).toMatch(/\$PacketSize=4000;QStartNoAckMode\+;qXfer:features:read\+;qXfer:threads:read\+;swbreak\+;hwbreak\+;ReverseStep\+;ReverseContinue\+;vContSupported\+#/);
    d.close();
  }, 180_000);

  it('serves one client at a time, and the next one after a disconnect in the middle of a packet', async () => {
    const s = await startStub([HELLO]);
    stubs.push(s);
    const a = await Client.open(s.port);
    a.packet('qC');
    await a.until((x) => x.includes('$QC1#'));
    // A second debugger is refused while the first is connected.
    const b = await Client.open(s.port);
    await b.until((x) => x.includes('$E01#a6')).catch(() => b.data);
    await new Promise((res) => setTimeout(res, 200));
    expect(b.data).toBe('$E01#a6');
    expect(b.closed).toBe(true);
    // The first one goes away halfway through a packet.
    a.send('$qXfer:features:read:tar');
    a.close();
    await new Promise((res) => setTimeout(res, 300));
    const c = await Client.open(s.port);
    c.packet('qXfer:features:read:target.xml:0,1000');
    const got = await c.until((x) => x.includes('</target>'));
    expect(got).toMatch(/^\+\$l<\?xml version="1\.0"\?>/);
    expect(got).toContain('<architecture>i386:x86-64</architecture>');
    expect(s.stderr()).toMatch(/refused .*: a debugger is already connected/);
    c.close();
  });
});
