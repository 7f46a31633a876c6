/**
 * One running round on a peer: the coordinator's verdict may arrive while
 * the round's work is still in flight (an abort), so the work is raced
 * against it, and the verdict is kept for whoever waits for it later.
 */
export class RoundContext<O extends { committed: boolean }> {
  /** The coordinator's verdict, once it came. */
  outcome: O | undefined;
  private failure: Error | undefined;
  private readonly onAbort = new Set<(e: Error) => void>();
  private readonly onSettle = new Set<() => void>();

  constructor(readonly round: number) {}

  /** Whether the round ended without committing (aborted by the coordinator or locally). */
  get aborted(): boolean {
    return this.failure !== undefined;
  }

  /** `work`, unless the round is aborted first (then rejects with the abort). */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.onAbort.add(reject);
      work.then(resolve, reject).finally(() => this.onAbort.delete(reject));
    });
  }

  /** Records the verdict; an abort rejects every race in flight. */
  settle(outcome: O): void {
    if (this.outcome || this.failure) return;
    this.outcome = outcome;
    if (!outcome.committed) this.fail(new Error('aborted by the coordinator'));
    for (const f of this.onSettle) f();
  }

  /** Ends the round locally (the coordinator is gone). */
  abort(error: Error): void {
    if (this.outcome || this.failure) return;
    this.fail(error);
    for (const f of this.onSettle) f();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const f of this.onAbort) f(error);
    this.onAbort.clear();
  }

  /**
   * The verdict, waiting up to `timeoutMs`; `undefined` if none came. Rejects
   * when the round was ended locally.
   */
  settled(timeoutMs: number): Promise<O | undefined> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.outcome) return finish(() => resolve(this.outcome));
        if (this.failure) return finish(() => reject(this.failure));
      };
      const timer = setTimeout(() => finish(() => resolve(undefined)), timeoutMs);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.onSettle.delete(check);
        f();
      };
      this.onSettle.add(check);
      check();
    });
  }
}
