/**
 * A small seeded PRNG (mulberry32). Level draws must be reproducible from a
 * seed so that two builds of the same data give the same graph, and so that a
 * parallel build can draw every level up front, before the workers start.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The current state, saved with the index so that loading resumes the sequence. */
  get seedState(): number {
    return this.state;
  }

  set seedState(value: number) {
    this.state = value >>> 0;
  }

  /** Uniform in (0, 1]: never 0, because the level draw takes its log. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  }
}

/**
 * The paper's level draw: floor(-ln(U) * mL) with mL = 1 / ln(M), so the
 * expected share of nodes on level l falls by a factor M per level.
 */
export function drawLevel(rng: SeededRandom, levelMultiplier: number): number {
  // Levels are stored in a byte; only an absurd multiplier could reach the cap.
  return Math.min(255, Math.floor(-Math.log(rng.next()) * levelMultiplier));
}
