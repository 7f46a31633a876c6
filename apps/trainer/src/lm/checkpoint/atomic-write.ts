import { open, rename } from 'node:fs/promises';

/** Write `bytes` to a new file and fsync it before closing (libuv thread pool, off the main thread). */
export async function writeAndSync(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done);
      done += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsync a directory, so a rename or a new entry inside it survives a power
 * loss (POSIX leaves that to the directory's own fsync).
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Rename `from` to `to` and fsync the directory holding them. */
export async function renameDurably(from: string, to: string, parent: string): Promise<void> {
  await rename(from, to);
  await syncDir(parent);
}

/** SHA-256 of `bytes` as hex, computed by WebCrypto in the thread pool. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes);
  return Buffer.from(digest).toString('hex');
}
