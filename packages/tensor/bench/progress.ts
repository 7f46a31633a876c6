/**
 * A one-line progress display on stderr: a redrawn bar on a terminal, one
 * line per step otherwise (so CI logs stay readable).
 */
export class Progress {
  private done = 0;
  private readonly started = performance.now();

  constructor(
    private readonly total: number,
    private readonly label: string,
  ) {}

  /** Mark one step finished, naming what comes next. */
  tick(message: string): void {
    this.done++;
    this.draw(message);
  }

  /** Show what is running now without counting a step. */
  status(message: string): void {
    this.draw(message);
  }

  private draw(message: string): void {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    const line = `${this.label} [${bar}] ${this.done}/${this.total} ${secs}s ${message}`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
      if (this.done === this.total) process.stderr.write('\n');
    } else {
      process.stderr.write(`${line}\n`);
    }
  }
}
