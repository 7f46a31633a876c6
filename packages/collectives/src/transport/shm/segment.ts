import { closeSync, existsSync, ftruncateSync, openSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The directory for segment files: /dev/shm (tmpfs, so a file there is a
 * POSIX shared-memory segment and its pages never touch a disk), else the
 * OS temporary directory, with a warning since that may be disk-backed.
 */
export function segmentDir(given?: string): string {
  if (given !== undefined) return given;
  try {
    if (existsSync('/dev/shm') && statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // fall through
  }
  process.emitWarning(
    '@plexus/collectives/shm-transport: /dev/shm is missing; segments go to the temporary directory, which may be disk-backed',
  );
  return tmpdir();
}

/** Path of the segment that rank `src` writes and rank `dst` reads. */
export function segmentPath(dir: string, id: string, src: number, dst: number): string {
  return join(dir, `plexus-shm-${id}-${src}-${dst}`);
}

/** Creates (exclusively) a segment of `bytes` bytes and returns its descriptor. */
export function createSegment(path: string, bytes: number): number {
  const fd = openSync(path, 'wx+', 0o600);
  try {
    ftruncateSync(fd, bytes);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
  return fd;
}

/** Unlinks `path`, ignoring a file that is already gone. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already removed
  }
}

/** Closes `fd`, ignoring one that is already closed. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
