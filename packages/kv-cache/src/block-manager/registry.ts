import { PlexusKvCacheError } from '../errors.js';
import type { SequenceRecord } from './sequence.js';
import type { SequenceId } from './types.js';

const MODULE = 'block-manager';
/** Ended ids remembered for error messages; older ones are forgotten so a long-running server does not grow. */
const REMEMBERED_ENDED = 4096;

/**
 * Live sequences plus a memory of the last 4,096 ended ones, so a call on an
 * ended id says why it is wrong (double free, use after free, use after
 * preemption) instead of just "unknown".
 */
export class SequenceRegistry {
  readonly live = new Map<SequenceId, SequenceRecord>();
  private readonly gone = new Map<SequenceId, 'freed' | 'preempted'>();

  /** Register a new sequence under an id that is not live. */
  add(id: SequenceId, record: SequenceRecord): void {
    this.live.set(id, record);
    this.gone.delete(id);
  }

  /** Forget a live sequence, remembering how it ended. */
  end(id: SequenceId, how: 'freed' | 'preempted'): void {
    this.live.delete(id);
    this.gone.delete(id);
    this.gone.set(id, how);
    if (this.gone.size > REMEMBERED_ENDED) this.gone.delete(this.gone.keys().next().value!);
  }

  /** The live record, or a clear error naming `what` was attempted. */
  get(id: SequenceId, what: string): SequenceRecord {
    const record = this.live.get(id);
    if (record !== undefined) return record;
    const gone = this.gone.get(id);
    if (gone === 'freed')
      throw new PlexusKvCacheError(
        MODULE,
        what === 'free'
          ? `double free: sequence ${id} was already freed; expected a live sequence`
          : `use after free: ${what} on sequence ${id}, which was freed; expected a live sequence`,
      );
    if (gone === 'preempted')
      throw new PlexusKvCacheError(
        MODULE,
        `${what}: sequence ${id} was preempted by recompute; expected it to be added again first`,
      );
    throw new PlexusKvCacheError(
      MODULE,
      `${what}: unknown sequence ${id}; expected an id from addSequence or fork`,
    );
  }

  /** Throw unless `id` is an integer that is not live. */
  checkNew(id: SequenceId): void {
    if (!Number.isInteger(id))
      throw new PlexusKvCacheError(MODULE, `sequence id ${id} is not an integer; expected one`);
    if (this.live.has(id))
      throw new PlexusKvCacheError(MODULE, `sequence ${id} already exists; expected a new id`);
  }
}
