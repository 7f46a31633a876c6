import type { CollectiveGroupV1 } from '@plexus/collectives';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { assemblePatches, withLocalPatch } from './patch-layout.js';
import type { PatchContextV1 } from './types.js';

const MODULE = 'parallel/distrifusion';

interface Slot {
  /** Gather launched at the previous model call, resolving to every rank's patch. */
  pending: Promise<Float32Array> | undefined;
  /** The last synchronously gathered activation (used when nothing is pending). */
  last: Float32Array | undefined;
  shape: readonly number[];
}

/**
 * DistriFusion's displaced activation exchange for one rank: synchronous
 * all-gathers during the warm-up, afterwards the fresh local patch replaces
 * its rows in last call's gathered activation while this call's patch
 * travels in the background (the group queues it in call order, so every
 * rank's gathers pair up).
 */
export class DisplacedExchange {
  private readonly slots = new Map<string, Slot>();
  private usedThisCall = new Set<string>();
  collectives = 0;
  payloadBytes = 0;
  synchronousExchanges = 0;
  staleExchanges = 0;

  constructor(
    private readonly group: CollectiveGroupV1,
    private readonly timeoutMs: number | undefined,
  ) {}

  /** A context for one model call; `send` false skips launching gathers (last call). */
  context(
    rowStart: number,
    rowEnd: number,
    rows: number,
    synchronous: boolean,
    send: boolean,
  ): PatchContextV1 {
    this.usedThisCall = new Set();
    const { rank, worldSize } = this.group;
    return {
      specificationVersion: 'v1',
      rank,
      worldSize,
      rowStart,
      rowEnd,
      rows,
      synchronous,
      exchange: (name, local) => this.exchange(name, local, synchronous, send),
    };
  }

  /** Waits for every gather still in flight (the group must be idle before it is reused). */
  async drain(): Promise<void> {
    const pending = [...this.slots.values()].map((s) => s.pending);
    this.slots.clear();
    await Promise.all(pending);
  }

  private async exchange(
    name: string,
    local: tf.Tensor,
    synchronous: boolean,
    send: boolean,
  ): Promise<tf.Tensor> {
    if (this.usedThisCall.has(name))
      throw new DiffusionSamplersError(
        MODULE,
        `exchange('${name}') called twice in one model call; use one name per activation`,
      );
    this.usedThisCall.add(name);
    if (local.rank < 2 || local.dtype !== 'float32')
      throw new DiffusionSamplersError(
        MODULE,
        `exchange('${name}') needs a float32 tensor of rank >= 2 ([batch, rows, ...]), got ${local.dtype} [${local.shape.join(', ')}]`,
      );
    const { rank, worldSize } = this.group;
    if (worldSize === 1) return tf.clone(local);
    const slot = this.slots.get(name);
    if (slot !== undefined && !sameShape(slot.shape, local.shape))
      throw new DiffusionSamplersError(
        MODULE,
        `exchange('${name}') got shape [${local.shape.join(', ')}], earlier [${slot.shape.join(', ')}]; an activation's shape must not change between calls`,
      );
    const data = (await local.data()) as Float32Array;
    if (synchronous || slot === undefined) {
      // Warm-up (or a name first seen after it): everyone waits for fresh patches.
      if (slot?.pending !== undefined) await slot.pending;
      const gathered = await this.gather(data);
      this.slots.set(name, { pending: undefined, last: gathered, shape: local.shape.slice() });
      this.synchronousExchanges++;
      // Our rows are our own float32 values, so they equal `local` exactly.
      return assemblePatches(gathered, local.shape, worldSize);
    }
    const previous = slot.pending === undefined ? slot.last! : await slot.pending;
    this.slots.set(name, {
      pending: send ? this.gather(data) : undefined,
      last: previous,
      shape: local.shape.slice(),
    });
    this.staleExchanges++;
    const staleFull = assemblePatches(previous, local.shape, worldSize);
    const full = withLocalPatch(staleFull, local, rank);
    staleFull.dispose();
    return full;
  }

  private gather(data: Float32Array): Promise<Float32Array> {
    this.collectives++;
    this.payloadBytes += data.byteLength;
    const p = this.group.allGather(
      data,
      this.timeoutMs === undefined ? undefined : { timeoutMs: this.timeoutMs },
    );
    p.catch(() => undefined); // surfaced where it is awaited
    return p;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
