import type { AllToAllV } from './exchange.js';

/** Bytes that crossed between ranks, per ordered pair, counted by {@link inProcessExchanges}. */
export interface ExchangeCounters {
  /** `bytes[src][dst]`: bytes sent from `src` to `dst` (the diagonal is a rank's own rows). */
  readonly bytes: number[][];
}

/**
 * `worldSize` all-to-all endpoints that meet inside one process: the
 * simulated ranks of tests and of the traffic benchmark. Call `k` of every
 * rank's endpoint is matched with call `k` of the others; each call resolves
 * once all ranks have made it. Bytes are counted per (sender, receiver).
 */
export function inProcessExchanges(worldSize: number): {
  readonly exchanges: AllToAllV[];
  readonly counters: ExchangeCounters;
} {
  const bytes = Array.from({ length: worldSize }, () => new Array<number>(worldSize).fill(0));
  const rounds: {
    inputs: (readonly Float32Array[] | undefined)[];
    resolves: ((out: Float32Array[]) => void)[];
    arrived: number;
  }[] = [];
  const calls = new Array<number>(worldSize).fill(0);
  const exchanges = Array.from({ length: worldSize }, (_, rank): AllToAllV => {
    return (perPeer) =>
      new Promise<Float32Array[]>((resolve, reject) => {
        if (perPeer.length !== worldSize) {
          reject(new Error(`rank ${rank} passed ${perPeer.length} buffers for ${worldSize} ranks`));
          return;
        }
        const k = calls[rank]!++;
        rounds[k] ??= { inputs: new Array(worldSize), resolves: new Array(worldSize), arrived: 0 };
        const round = rounds[k]!;
        round.inputs[rank] = perPeer;
        round.resolves[rank] = resolve;
        perPeer.forEach((buf, dst) => {
          bytes[rank]![dst]! += buf.byteLength;
        });
        if (++round.arrived === worldSize) {
          for (let dst = 0; dst < worldSize; dst++) {
            round.resolves[dst]!(round.inputs.map((ins) => ins![dst]!.slice()));
          }
        }
      });
  });
  return { exchanges, counters: { bytes } };
}
