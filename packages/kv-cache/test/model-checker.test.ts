import { describe, expect, it } from 'vitest';
import { BlockManager, PlexusKvCacheError, type SequenceId } from '../src/index.js';
import { prng } from './prng.js';

/**
 * Randomized model checker: long random runs of add / append / fork / free /
 * preempt / swap / prefix-hit operations against a reference model (a map of
 * sequence id to tokens) and a simulated KV store (each block's slots hold the
 * token whose KV they contain). After every step: the manager's invariants,
 * its view equals the model, and reading every sequence through its block
 * table yields exactly its tokens — which checks copy-on-write, swap plans and
 * prefix hits end to end.
 */
class Harness {
  readonly device: number[][];
  readonly host: number[][];
  readonly model = new Map<SequenceId, { tokens: number[]; swapped: boolean }>();
  readonly freed: SequenceId[] = [];
  readonly preempted: { id: SequenceId; tokens: number[] }[] = [];
  nextId = 0;

  constructor(
    readonly m: BlockManager,
    readonly rand: ReturnType<typeof prng>,
  ) {
    this.device = Array.from({ length: m.numBlocks }, () => []);
    this.host = Array.from({ length: m.numHostBlocks }, () => []);
  }

  write(id: SequenceId, from: number): void {
    const table = this.m.blockTable(id);
    const tokens = this.model.get(id)!.tokens;
    for (let p = from; p < tokens.length; p++) {
      const b = table[Math.floor(p / this.m.blockSize)]!;
      // The engine only ever writes blocks it owns alone.
      expect(this.m.refCount(b)).toBe(1);
      this.device[b]![p % this.m.blockSize] = tokens[p]!;
    }
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
    this.model.set(id, { tokens: tokens.slice(), swapped: false });
    this.write(id, numCachedTokens);
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
      const from = state.tokens.length;
      const { copies } = this.m.appendTokens(id, extra);
      for (const c of copies) this.device[c.dst] = this.device[c.src]!.slice(0, c.numTokens);
      state.tokens.push(...extra);
      this.write(id, from);
    } else if (op < 60) {
      const id = this.pick(false);
      if (id === undefined) return;
      const child = this.nextId++;
      this.m.fork(id, child);
      this.model.set(child, { tokens: this.model.get(id)!.tokens.slice(), swapped: false });
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
      for (let p = 0; p < tokens.length; p++) {
        if (own[p] !== tokens[p]) throw new Error(`sequence ${id} token ${p} differs`);
        const stored = pool[table[Math.floor(p / bs)]!]![p % bs];
        if (stored !== tokens[p])
          throw new Error(`sequence ${id} position ${p} reads ${stored}, expected ${tokens[p]}`);
      }
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
      expect(stats.cowCopies).toBeGreaterThan(0);
      expect(stats.swappedBlocks).toBeGreaterThan(0);
    });
  }
});
