/** Growable pair of Int32Arrays for generators that do not know their edge count upfront. */
export class EdgeBuffer {
  src: Int32Array;
  dst: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.src = new Int32Array(Math.max(16, capacity));
    this.dst = new Int32Array(Math.max(16, capacity));
  }

  /** Append edge `(u, v)`. */
  push(u: number, v: number): void {
    if (this.length === this.src.length) {
      const s = new Int32Array(this.src.length * 2);
      s.set(this.src);
      this.src = s;
      const d = new Int32Array(this.dst.length * 2);
      d.set(this.dst);
      this.dst = d;
    }
    this.src[this.length] = u;
    this.dst[this.length] = v;
    this.length++;
  }

  /** Views of the filled part. */
  edges(): { src: Int32Array; dst: Int32Array } {
    return { src: this.src.subarray(0, this.length), dst: this.dst.subarray(0, this.length) };
  }
}
