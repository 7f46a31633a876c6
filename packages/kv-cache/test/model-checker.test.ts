import { describe, expect, it } from 'vitest';
import { BlockManager, PlexusKvCacheError, type SequenceId } from '../src/index.js';
import { prng } from './prng.js';

/** Layers and KV heads of the simulated store: one plane per (layer, head). */
const LAYERS = 2;
const HEADS = 2;
const PLANES = LAYERS * HEADS;

interface SeqState {
  tokens: number[];
  swapped: boolean;
  /** Per plane, the tokens whose KV the cache holds, in slot order. */
  kv: number[][];
}

/**
 * Randomized model checker: long random runs of add / append / fork / free /
 * preempt / swap / prefix-hit / compact / truncate operations against a reference model
 * (a map of sequence id to tokens and, per (layer, head) plane, the tokens
 * whose KV is cached) and a simulated KV store (each block's slots hold, per
 * plane, the token whose KV they contain). After every step: the manager's
 * invariants, its view equals the model, and reading every sequence through
 * its block table yields exactly its cached tokens in every plane — which
 * checks copy-on-write, swap plans, prefix hits and compaction end to end.
 */
class Harness {
  /** Block -> `plane * blockSize + slot` -> token. */
  readonly device: number[][];
  readonly host: number[][];
  readonly model = new Map<SequenceId, SeqState>();
  readonly freed: SequenceId[] = [];
  readonly preempted: { id: SequenceId; tokens: number[] }[] = [];
  nextId = 0;
  compactions = 0;

  constructor(
    readonly m: BlockManager,
    readonly rand: ReturnType<typeof prng>,
  ) {
    this.device = Array.from({ length: m.numBlocks }, () => []);
    this.host = Array.from({ length: m.numHostBlocks }, () => []);
  }

  /** Write the KV of the last `count` cached tokens of every plane. */
  write(id: SequenceId, count: number): void {
    const table = this.m.blockTable(id);
    const bs = this.m.blockSize;
    this.model.get(id)!.kv.forEach((plane, c) => {
      for (let p = plane.length - count; p < plane.length; p++) {
        const b = table[Math.floor(p / bs)]!;
        // The engine only ever writes blocks it owns alone.
        expect(this.m.refCount(b)).toBe(1);
        this.device[b]![c * bs + (p % bs)] = plane[p]!;
      }
    });
  }

  /** Apply a random eviction choice (per layer, sometimes per head) and the returned plan. */
  compact(id: SequenceId): void {
    const r = this.rand;
    const state = this.model.get(id)!;
    const bs = this.m.blockSize;
    const kept = Array.from({ length: LAYERS }, (_, l) => {
      const len = state.kv[l * HEADS]!.length;
      const budget = 1 + r.int(len);
      const choose = (): Int32Array => {
        const all = Array.from({ length: len }, (_, p) => p);
        for (let i = all.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          [all[i], all[j]] = [all[j]!, all[i]!];
        }
        return Int32Array.from(all.slice(0, budget)).sort();
      };
      return r.chance(0.5) ? choose() : Array.from({ length: HEADS }, choose);
    });
    const table = this.m.blockTable(id);
    const count = Math.ceil(
      Math.max(...kept.map((k) => (k instanceof Int32Array ? k : k[0]!).length)) / bs,
    );
    const shared = table.slice(0, count).filter((b) => this.m.refCount(b) > 1).length;
    if (shared > this.m.numFreeBlocks()) {
      expect(() => this.m.compact(id, kept)).toThrow(/out of blocks/);
      return;
    }
    const plan = this.m.compact(id, kept);
    this.compactions++;
    expect(plan.blockTable.length).toBe(count);
    expect(plan.freedBlocks).toBe(table.length - count);
    expect(this.m.cachedLengths(id)).toEqual(plan.layerLengths);
    plan.kept.forEach((heads, l) => {
      for (let h = 0; h < HEADS; h++) {
        const c = l * HEADS + h;
        const positions = heads[heads.length === 1 ? 0 : h]!;
        positions.forEach((p, j) => {
          const dst = plan.blockTable[Math.floor(j / bs)]!;
          this.device[dst]![c * bs + (j % bs)] =
            this.device[plan.sourceTable[Math.floor(p / bs)]!]![c * bs + (p % bs)]!;
        });
        state.kv[c] = Array.from(positions, (p) => state.kv[c]![p]!);
      }
    });
  }

  pick(swapped: boolean): SequenceId | undefined {
    const ids = [...this.model].filter(([, s]) => s.swapped === swapped).map(([id]) => id);
    return ids.length === 0 ? undefined : ids[this.rand.int(ids.length)];
  }

  prompt(): { tokens: number[]; salt: string } {
    const r = this.rand;
    const shared = [
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
      [40, 41, 42, 43, 44, 45, 46, 47, 48, 49],
    ];
    const base = r.chance(0.6) ? shared[r.int(shared.length)]!.slice() : [];
    const n = 1 + r.int(30);
    for (let i = 0; i < n; i++) base.push(r.int(6));
    return { tokens: base, salt: r.chance(0.8) ? '' : 'tenant-b' };
  }

  add(tokens: number[], salt: string, id = this.nextId++): void {
    const admission = this.m.canAdmit(tokens, { salt });
    if (admission !== 'ok') {
      expect(() => this.m.addSequence(id, tokens, { salt })).toThrow(PlexusKvCacheError);
      return;
    }
    const { numCachedTokens } = this.m.addSequence(id, tokens, { salt });
    expect(numCachedTokens).toBeLessThan(tokens.length);
    const kv = Array.from({ length: PLANES }, () => tokens.slice());
    this.model.set(id, { tokens: tokens.slice(), swapped: false, kv });
    this.write(id, tokens.length - numCachedTokens);
  }

  step(): void {
    const r = this.rand;
    const op = r.int(100);
    if (op < 20) {
      const { tokens, salt } = this.prompt();
      this.add(tokens, salt);
    } else if (op < 50) {
      const id = this.pick(false);
      if (id === undefined) return;
      const extra = Array.from({ length: 1 + r.int(r.chance(0.8) ? 3 : 20) }, () => r.int(6));
      if (!this.m.canAppend(id, extra.length)) {
        expect(() => this.m.appendTokens(id, extra)).toThrow(/out of blocks/);
        return;
      }
      const state = this.model.get(id)!;
      const { copies } = this.m.appendTokens(id, extra);
      const bs = this.m.blockSize;
      for (const c of copies) {
        const block: number[] = [];
        for (let k = 0; k < PLANES; k++)
          for (let t = 0; t < c.numTokens; t++)
            block[k * bs + t] = this.device[c.src]![k * bs + t]!;
        this.device[c.dst] = block;
      }
      state.tokens.push(...extra);
      for (const plane of state.kv) plane.push(...extra);
      this.write(id, extra.length);
    } else if (op < 60) {
      const id = this.pick(false);
      if (id === undefined) return;
      const child = this.nextId++;
      this.m.fork(id, child);
      const parent = this.model.get(id)!;
      this.model.set(child, {
        tokens: parent.tokens.slice(),
        swapped: false,
        kv: parent.kv.map((p) => p.slice()),
      });
    } else if (op < 62) {
      const id = this.pick(false);
      if (id !== undefined) this.compact(id);
    } else if (op < 64) {
      // Speculative decoding's rollback: drop a random tail of an uncompacted sequence.
      const id = this.pick(false);
      if (id === undefined || this.m.cachedLengths(id) !== undefined) return;
      const state = this.model.get(id)!;
      if (state.tokens.length < 2) return;
      const length = 1 + r.int(state.tokens.length - 1);
      this.m.truncate(id, length);
      state.tokens.length = length;
      for (const plane of state.kv) plane.length = length;
    } else if (op < 75) {
      const id = this.pick(r.chance(0.2));
      if (id === undefined) return;
      this.m.free(id);
      this.model.delete(id);
      this.freed.push(id);
    } else if (op < 80) {
      const id = this.pick(false);
      if (id === undefined) return;
      const { tokens } = this.m.preemptByRecompute(id);
      expect(tokens).toEqual(this.model.get(id)!.tokens);
      this.model.delete(id);
      this.preempted.push({ id, tokens: tokens.slice() });
    } else if (op < 85) {
      const waiting = this.preempted.shift();
      if (waiting !== undefined) this.add(waiting.tokens, '', waiting.id);
    } else if (op < 92) {
      this.swapGroup(false);
    } else if (op < 97) {
      this.swapGroup(true);
    } else {
      const id = this.freed[r.int(this.freed.length)];
      if (id === undefined || this.model.has(id)) return;
      expect(() => this.m.free(id)).toThrow(/double free/);
      expect(() => this.m.appendTokens(id, [1])).toThrow(/use after free/);
    }
  }

  swapGroup(swappedNow: boolean): void {
    const ids = new Set<SequenceId>();
    for (let i = 0; i < 1 + this.rand.int(3); i++) {
      const id = this.pick(swappedNow);
      if (id !== undefined) ids.add(id);
    }
    if (ids.size === 0) return;
    const list = [...ids];
    const can = swappedNow ? this.m.canSwapIn(list) : this.m.canSwapOut(list);
    if (!can) return;
    const plan = swappedNow ? this.m.swapIn(list) : this.m.swapOut(list);
    const [from, to] = swappedNow ? [this.host, this.device] : [this.device, this.host];
    for (const c of plan.copies) to[c.dst] = from[c.src]!.slice();
    for (const id of list) this.model.get(id)!.swapped = !swappedNow;
  }

  verify(): void {
    this.m.checkInvariants();
    const ids = this.m.sequenceIds();
    if (ids.length !== this.model.size || ids.some((id) => !this.model.has(id)))
      throw new Error(`live ids ${ids} differ from the model's ${[...this.model.keys()]}`);
    const used = new Set<number>();
    const bs = this.m.blockSize;
    for (const [id, state] of this.model) {
      if (this.m.status(id) !== (state.swapped ? 'swapped' : 'running'))
        throw new Error(`sequence ${id} has the wrong status`);
      const own = this.m.tokens(id);
      const table = this.m.blockTable(id);
      const pool = state.swapped ? this.host : this.device;
      const tokens = state.tokens;
      if (own.length !== tokens.length) throw new Error(`sequence ${id} length differs`);
      for (let p = 0; p < tokens.length; p++)
        if (own[p] !== tokens[p]) throw new Error(`sequence ${id} token ${p} differs`);
      const lengths = this.m.cachedLengths(id);
      state.kv.forEach((plane, c) => {
        const layer = Math.floor(c / HEADS);
        if ((lengths?.[layer] ?? tokens.length) !== plane.length)
          throw new Error(
            `sequence ${id} layer ${layer} caches ${lengths?.[layer]} tokens, expected ${plane.length}`,
          );
        for (let p = 0; p < plane.length; p++) {
          const stored = pool[table[Math.floor(p / bs)]!]![c * bs + (p % bs)];
          if (stored !== plane[p])
            throw new Error(
              `sequence ${id} plane ${c} position ${p} reads ${stored}, expected ${plane[p]}`,
            );
        }
      });
      if (!state.swapped) for (const b of table) used.add(b);
    }
    expect(this.m.numFreeBlocks()).toBe(this.m.numBlocks - used.size);
  }
}

describe('block manager model checker', () => {
  for (const [seed, blockSize, caching] of [
    [1, 8, true],
    [2, 16, true],
    [3, 32, true],
    [4, 8, false],
    [5, 16, true],
    [6, 8, true],
  ] as const) {
    it(`seed ${seed}, block size ${blockSize}, prefix caching ${caching}: 2000 random steps`, () => {
      const m = new BlockManager({
        numBlocks: blockSize === 32 ? 24 : 48,
        blockSize,
        numHostBlocks: 24,
        watermark: 0.05,
        enablePrefixCaching: caching,
        debug: true,
      });
      const h = new Harness(m, prng(seed));
      for (let i = 0; i < 2000; i++) {
        h.step();
        h.verify();
      }
      for (const id of [...h.model.keys()]) m.free(id);
      h.model.clear();
      h.verify();
      expect(m.numFreeBlocks()).toBe(m.numBlocks);
      expect(m.numFreeHostBlocks()).toBe(m.numHostBlocks);
      const stats = m.stats();
      if (caching) expect(stats.prefixHits).toBeGreaterThan(0);
      expect(h.compactions).toBeGreaterThan(0);
      expect(stats.cowCopies).toBeGreaterThan(0);
      expect(stats.swappedBlocks).toBeGreaterThan(0);
    });
  }
});
