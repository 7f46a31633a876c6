import type { ServingTokenizerV1 } from '../engine/model.js';
import type { SampledToken } from '../engine/sampling.js';
import type { FinishReason } from '../engine/sampling-params.js';
import { StopMatcher } from './stop-matcher.js';

/** One token's log-probabilities, in the shape both endpoints render. */
export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly top: readonly { readonly token: string; readonly logprob: number }[];
}

/** What a choice adds to the response after one engine event. */
export interface ChoiceDelta {
  readonly text: string;
  readonly logprobs: readonly TokenLogprob[];
  /** Set when the choice ended with this delta. */
  readonly finishReason?: FinishReason;
  /** A stop string matched: the engine must stop this choice. */
  readonly stopString?: boolean;
}

/**
 * The text side of one choice: token ids decoded incrementally (the whole
 * output is decoded each time, so multi-byte characters split across tokens
 * come out whole), stop strings held back and cut, and log-probabilities.
 */
export class ChoiceState {
  readonly ids: number[] = [];
  text = '';
  finishReason: FinishReason | undefined;
  readonly logprobs: TokenLogprob[] = [];
  private readonly matcher: StopMatcher;
  private stoppedByString = false;

  constructor(
    private readonly tokenizer: ServingTokenizerV1,
    stop: readonly string[],
    private readonly wantLogprobs: boolean,
  ) {
    this.matcher = new StopMatcher(stop);
  }

  /** A generated token arrived. */
  onToken(sampled: SampledToken): ChoiceDelta {
    if (this.stoppedByString) return { text: '', logprobs: [] };
    this.ids.push(sampled.token);
    const lp: TokenLogprob[] = this.wantLogprobs
      ? [
          {
            token: this.tokenizer.decode([sampled.token]),
            logprob: sampled.logprob,
            top: sampled.topLogprobs.map((t) => ({
              token: this.tokenizer.decode([t.token]),
              logprob: t.logprob,
            })),
          },
        ]
      : [];
    this.logprobs.push(...lp);
    const { text, stopped } = this.matcher.push(this.tokenizer.decode(this.ids));
    this.text += text;
    if (stopped) {
      this.stoppedByString = true;
      this.finishReason = 'stop';
      return { text, logprobs: lp, finishReason: 'stop', stopString: true };
    }
    return { text, logprobs: lp };
  }

  /** The engine ended the choice (EOS, length, abort, or after a stop string). */
  onFinish(reason: FinishReason): ChoiceDelta {
    if (this.stoppedByString) return { text: '', logprobs: [] };
    const text = this.matcher.flush(this.tokenizer.decode(this.ids));
    this.text += text;
    this.finishReason = reason;
    return { text, logprobs: [], finishReason: reason };
  }

  /** Whether the choice has ended. */
  get done(): boolean {
    return this.finishReason !== undefined;
  }
}
