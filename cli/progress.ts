// A one-line progress display on stderr for operations that take more than a second (recording,
// replaying). Only on a terminal: redirected output stays clean.

export class ProgressLine {
  private readonly t0 = Date.now();
  private shown = false;
  private last = 0;

  constructor(private readonly what: string, private readonly total: number | null = null,
    private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(icount: number): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.t0 < 1000 || now - this.last < 200) return;
    this.last = now;
    const mips = icount / 1e6 / ((now - this.t0) / 1000);
    const pct = this.total ? ` ${Math.min(100, (100 * icount) / this.total).toFixed(0)}%` : '';
    this.out.write(`\r${this.what}:${pct} ${(icount / 1e6).toFixed(1)} M instructions, ${mips.toFixed(1)} MIPS, ${((now - this.t0) / 1000).toFixed(0)} s\x1b[K`);
    this.shown = true;
  }

  /** Remove the line (before the final message). */
  done(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
