/** A one-line progress bar on stderr (\r updates on a terminal; a few plain lines otherwise). */
import { isatty } from 'node:tty';

export class Progress {
  private readonly t0 = Date.now();
  private lastDraw = 0;
  private lastQuarter = -1;
  // Not `process.stderr.isTTY`: typed boolean, it is undefined when stderr is not a terminal.
  private readonly tty = isatty(process.stderr.fd);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'orders',
    private readonly showRate = true,
  ) {}

  update(done: number, force = false): void {
    const now = Date.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      process.stderr.write(`\r${this.line(done)}\x1b[K`);
      return;
    }
    const quarter = Math.floor((done / Math.max(1, this.total)) * 4);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      process.stderr.write(`${this.line(done)}\n`);
    }
  }

  finish(note = ''): void {
    const text = `${this.line(this.total)}${note ? `  ${note}` : ''}`;
    process.stderr.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  private line(done: number): string {
    const width = 28;
    const frac = Math.min(1, done / Math.max(1, this.total));
    const filled = Math.round(frac * width);
    const secs = (Date.now() - this.t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const shown = this.showRate ? `  ${rate.toFixed(1)}/s` : '';
    return `${this.label.padEnd(14)} ${bar} ${String(done).padStart(5)}/${this.total} ${this.unit}${shown}  ${secs.toFixed(1)} s`;
  }
}

/** A status line for a phase without a count. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
