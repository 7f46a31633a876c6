/**
 * Turns a choice's growing decoded text into the part that is safe to send:
 * text that could still become a stop string is held back until it either
 * completes one (the stream ends before it) or can no longer match. A
 * trailing U+FFFD (an incomplete UTF-8 sequence from a partial byte token)
 * is held back too, so clients never see a broken character.
 */
export class StopMatcher {
  private sent = 0;
  private readonly maxStop: number;

  constructor(private readonly stops: readonly string[]) {
    this.maxStop = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Feeds the full text so far; returns the new safe text and whether a stop string matched. */
  push(full: string): { readonly text: string; readonly stopped: boolean } {
    const from = Math.max(0, this.sent - this.maxStop + 1);
    let cut = -1;
    for (const stop of this.stops) {
      if (stop.length === 0) continue;
      const at = full.indexOf(stop, from);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      const text = full.slice(this.sent, Math.max(cut, this.sent));
      this.sent = Math.max(cut, this.sent);
      return { text, stopped: true };
    }
    let safe = full.length;
    while (safe > this.sent && full.charCodeAt(safe - 1) === 0xfffd) safe--;
    safe -= this.heldSuffix(full.slice(0, safe));
    const text = safe > this.sent ? full.slice(this.sent, safe) : '';
    this.sent = Math.max(this.sent, safe);
    return { text, stopped: false };
  }

  /** At the end of a choice (no stop string): the held-back text, released. */
  flush(full: string): string {
    const text = full.slice(this.sent);
    this.sent = full.length;
    return text;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of a stop string. */
  private heldSuffix(text: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let len = Math.min(stop.length - 1, text.length); len > best; len--) {
        if (text.endsWith(stop.slice(0, len))) {
          best = len;
          break;
        }
      }
    }
    return best;
  }
}
