import { PlexusKvCacheError } from '../errors.js';
import type { BlockPool } from './block-pool.js';
import { kvLength, type SequenceRecord } from './sequence.js';
import type { SequenceId } from './types.js';

function fail(message: string): never {
  throw new PlexusKvCacheError('invariants', message);
}

/**
 * The block manager's invariants: every block is in one state (referenced,
 * free or cached-free, never free and referenced); each reference count
 * equals the number of table entries naming the block; tables and keys have
 * the lengths their token counts imply; and with no live sequence nothing is
 * referenced (no leak).
 */
export function checkInvariants(
  device: BlockPool,
  host: BlockPool,
  live: ReadonlyMap<SequenceId, SequenceRecord>,
  blockSize: number,
  caching: boolean,
): void {
  device.checkSelf();
  host.checkSelf();
  const deviceRefs = new Int32Array(device.size);
  const hostRefs = new Int32Array(host.size);
  for (const [id, record] of live) {
    const refs = record.status === 'running' ? deviceRefs : hostRefs;
    const slots = kvLength(record);
    const expected = Math.ceil(slots / blockSize);
    if (record.table.length !== expected)
      fail(
        `sequence ${id} has ${record.table.length} blocks for ${slots} cached tokens; expected ${expected}`,
      );
    const lengths = record.layerLengths;
    if (lengths !== undefined) {
      if (record.keys.length !== 0) fail(`compacted sequence ${id} has block keys; expected none`);
      if (lengths.some((n) => !Number.isInteger(n) || n < 1 || n > record.tokens.length))
        fail(
          `sequence ${id} has layer lengths ${lengths} for ${record.tokens.length} tokens; expected each in [1, ${record.tokens.length}]`,
        );
    } else if (record.keys.length !== Math.floor(record.tokens.length / blockSize))
      fail(`sequence ${id} has ${record.keys.length} block keys; expected one per full block`);
    for (const b of record.table) {
      if (b < 0 || b >= refs.length) fail(`sequence ${id} names block ${b}, outside its pool`);
      refs[b]!++;
    }
    if (caching && record.status === 'running') {
      // A full block that carries a key must carry this sequence's key.
      record.keys.forEach((key, i) => {
        const own = device.keyOfBlock(record.table[i]!);
        if (own !== undefined && own !== key)
          fail(`sequence ${id} block ${i} holds another prefix's key`);
      });
    }
  }
  for (const [pool, refs, name] of [
    [device, deviceRefs, 'device'],
    [host, hostRefs, 'host'],
  ] as const) {
    for (let b = 0; b < pool.size; b++) {
      if (pool.refCount(b) !== refs[b])
        fail(
          `${name} block ${b} has ref count ${pool.refCount(b)} but ${refs[b]} table references; expected them equal`,
        );
    }
  }
  if (live.size === 0 && (device.numFree() !== device.size || host.numFree() !== host.size))
    fail(
      `leak: no live sequences but ${device.size - device.numFree()} device and ${host.size - host.numFree()} host blocks are referenced`,
    );
}
