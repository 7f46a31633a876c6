/**
 * Llama 3's special tokens that a small model needs: text boundaries and the
 * chat markers of its chat template.
 */
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = [
  '<|begin_of_text|>',
  '<|end_of_text|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
];

/**
 * Finds special tokens inside text. Longer tokens win where two start at the
 * same place, as in Hugging Face tokenizers.
 */
export class SpecialTokenSplitter {
  private readonly regex: RegExp | undefined;

  constructor(private readonly ids: ReadonlyMap<string, number>) {
    const contents = [...ids.keys()].sort((a, b) => b.length - a.length);
    this.regex =
      contents.length === 0
        ? undefined
        : new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
  }

  /** `text` as plain pieces (strings) and special-token ids, in order. */
  split(text: string): Array<string | number> {
    if (this.regex === undefined) return text.length > 0 ? [text] : [];
    const out: Array<string | number> = [];
    let last = 0;
    for (const match of text.matchAll(this.regex)) {
      if (match.index > last) out.push(text.slice(last, match.index));
      out.push(this.ids.get(match[0]) as number);
      last = match.index + match[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}
