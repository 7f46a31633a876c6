// Shared by the all-reduce benchmarks: start one process per rank through
// plexus-run's `launch` (sources run with tsx) and read back the
// `RESULT {...}` lines rank 0 prints.
import { Writable } from 'node:stream';
import { launch } from '../src/launcher/launch.js';

/** The JSON of every `RESULT {...}` line of `out`. */
export function resultLines<T>(out: string): T[] {
  return out
    .split('\n')
    .filter((l) => l.includes('RESULT '))
    .map((l) => JSON.parse(l.slice(l.indexOf('RESULT ') + 7)) as T);
}

/**
 * Runs `script` on `nproc` ranks over loopback and returns the RESULT rows;
 * throws with the ranks' output when any of them fails.
 */
export async function launchRanks<T>(
  script: string,
  nproc: number,
  scriptArgs: string[],
  env?: NodeJS.ProcessEnv,
): Promise<T[]> {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  const result = await launch(
    { nproc, masterAddr: '127.0.0.1', masterPort: undefined, prefix: true, script, scriptArgs },
    {
      stdout: sink,
      // Sources run through tsx; a bundled worker (the GPU machine's copy) runs as is.
      execArgv: script.endsWith('.ts') ? ['--import', 'tsx'] : [],
      forwardSignals: false,
      ...(env !== undefined ? { env } : {}),
    },
  );
  if (result.exitCode !== 0) throw new Error(`${script} ${scriptArgs.join(' ')} failed:\n${out}`);
  return resultLines<T>(out);
}
