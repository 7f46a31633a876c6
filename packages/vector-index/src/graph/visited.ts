/**
 * Visited set for one search, cleared in O(1): each search gets a new tag and
 * an id is visited when its slot holds the current tag (hnswlib's
 * VisitedList). Only after 65535 searches is the array really zeroed.
 */
export class VisitedSet {
  private tags: Uint16Array;
  private tag = 0;

  constructor(capacity: number) {
    this.tags = new Uint16Array(capacity);
  }

  /** Start a new search: forget every mark. */
  reset(): void {
    this.tag++;
    if (this.tag === 65536) {
      this.tags.fill(0);
      this.tag = 1;
    }
  }

  /** Make room for ids below `capacity`. */
  ensure(capacity: number): void {
    if (capacity <= this.tags.length) return;
    const next = new Uint16Array(capacity);
    next.set(this.tags);
    this.tags = next;
  }

  /** Mark `id`; true when it was not marked yet in this search. */
  visit(id: number): boolean {
    if (this.tags[id] === this.tag) return false;
    this.tags[id] = this.tag;
    return true;
  }
}
