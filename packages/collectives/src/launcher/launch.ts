import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { PlexusCollectivesError } from '../errors.js';
import type { LaunchArgs } from './args.js';

/** How one worker ended. */
export interface WorkerExit {
  rank: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The outcome of `launch`. */
export interface LaunchResult {
  /** 0 when every worker exited with 0; otherwise the failed worker's code, or 128 + signal. */
  exitCode: number;
  /** The first worker that failed, if any (the others were then stopped). */
  failed: WorkerExit | undefined;
  exits: WorkerExit[];
}

/** Extra settings of `launch` beyond the command line. */
export interface LaunchOptions {
  /** Where prefixed output goes (default `process.stdout` / `process.stderr`). */
  stdout?: Writable;
  stderr?: Writable;
  /** Node flags of the workers (default: this process's `execArgv`, e.g. `--import tsx`). */
  execArgv?: string[];
  /** Environment the workers start from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds between SIGTERM and SIGKILL when stopping workers (default 5 000). */
  graceMs?: number;
  /** Forward SIGINT/SIGTERM of this process to the workers (default true). */
  forwardSignals?: boolean;
}

/** A TCP port free on `host` at the time of the call (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function describeExit(e: WorkerExit): string {
  return e.signal !== null ? `was killed by signal ${e.signal}` : `exited with code ${e.code}`;
}

/** Copies `from` to `to` line by line, each line prefixed. */
function pipeLines(from: NodeJS.ReadableStream, to: Writable, prefix: string): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on('line', (line) => to.write(`${prefix}${line}\n`));
    rl.on('close', () => resolve());
  });
}

/**
 * Starts `args.nproc` workers on `args.script` with the environment
 * torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
 * MASTER_ADDR, MASTER_PORT), prefixes each output line with `[rankN]: `,
 * forwards SIGINT/SIGTERM, and when a worker fails stops the others
 * (SIGTERM, then SIGKILL after `graceMs`) and reports which rank failed.
 */
export async function launch(args: LaunchArgs, options: LaunchOptions = {}): Promise<LaunchResult> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  if (!existsSync(args.script)) {
    throw new PlexusCollectivesError(
      'launcher',
      'invalid-argument',
      `script not found: ${args.script}`,
    );
  }
  const masterPort = args.masterPort ?? (await freePort(args.masterAddr));
  const graceMs = options.graceMs ?? 5_000;
  const children: ChildProcess[] = [];
  const exits: WorkerExit[] = [];
  const outputs: Promise<void>[] = [];
  let failed: WorkerExit | undefined;
  let signalled: NodeJS.Signals | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const stopAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    killTimer ??= setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceMs);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signalled ??= signal;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const forward = options.forwardSignals ?? true;
  if (forward) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const done = new Promise<void>((resolve) => {
    for (let rank = 0; rank < args.nproc; rank++) {
      const child = spawn(
        process.execPath,
        [...(options.execArgv ?? process.execArgv), args.script, ...args.scriptArgs],
        {
          env: {
            ...(options.env ?? process.env),
            RANK: String(rank),
            LOCAL_RANK: String(rank),
            GROUP_RANK: '0',
            WORLD_SIZE: String(args.nproc),
            LOCAL_WORLD_SIZE: String(args.nproc),
            MASTER_ADDR: args.masterAddr,
            MASTER_PORT: String(masterPort),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      const prefix = args.prefix ? `[rank${rank}]: ` : '';
      outputs.push(
        pipeLines(child.stdout!, stdout, prefix),
        pipeLines(child.stderr!, stderr, prefix),
      );
      child.on('error', (error) => {
        stderr.write(`plexus-run: rank ${rank} could not start: ${error.message}\n`);
      });
      child.on('exit', (code, signal) => {
        const e: WorkerExit = { rank, pid: child.pid, code, signal };
        exits.push(e);
        if ((code !== 0 || signal !== null) && failed === undefined && signalled === undefined) {
          failed = e;
          stopAll('SIGTERM');
        }
        if (exits.length === args.nproc) resolve();
      });
    }
  });
  await done;
  await Promise.all(outputs);
  clearTimeout(killTimer);
  if (forward) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  let exitCode = 0;
  if (failed) {
    exitCode =
      failed.signal !== null ? 128 + (constants.signals[failed.signal] ?? 0) : (failed.code ?? 1);
    const others = exits
      .filter((e) => e !== failed)
      .map((e) => `rank ${e.rank} ${describeExit(e)}`);
    stderr.write(
      `plexus-run: rank ${failed.rank} (pid ${failed.pid}) ${describeExit(failed)}; stopped the other workers${others.length ? ` (${others.join(', ')})` : ''}\n`,
    );
  } else if (signalled) {
    exitCode = 128 + (constants.signals[signalled] ?? 0);
    stderr.write(`plexus-run: received ${signalled}; forwarded it to every worker\n`);
  }
  return { exitCode, failed, exits };
}
