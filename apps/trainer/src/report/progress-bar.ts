/**
 * One progress line on stderr: redrawn in place on a terminal, printed every
 * `logEvery` steps otherwise, so CI logs stay short.
 */
export class ProgressBar {
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly logEvery = 25,
  ) {}

  /** Show step `done` of `total` with a status text. */
  update(done: number, status: string): void {
    const tty = process.stderr.isTTY === true;
    if (!tty && done % this.logEvery !== 0 && done !== this.total) return;
    const width = 20;
    const filled = Math.round((done / Math.max(1, this.total)) * width);
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total} ${secs}s ${status}`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  /** End the line. */
  finish(): void {
    if (process.stderr.isTTY === true) process.stderr.write('\n');
  }
}
