import { PlexusCollectivesError } from '../errors.js';

const MODULE = 'launcher';

/** Usage text of `plexus-run`. */
export const USAGE = `Usage: plexus-run --nproc N [--master-addr ADDR] [--master-port PORT] [--no-prefix] script.js [args...]

Starts N Node.js processes on script.js with the environment torchrun sets:
RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT.

  --nproc N, --nproc-per-node N   number of processes (1..1024)
  --master-addr ADDR              address of rank 0's store (default 127.0.0.1)
  --master-port PORT              its port (default: a free port)
  --no-prefix                     do not prefix output lines with [rankN]:
  -h, --help                      show this help`;

/** What `plexus-run`'s command line asks for. */
export interface LaunchArgs {
  nproc: number;
  masterAddr: string;
  masterPort: number | undefined;
  prefix: boolean;
  script: string;
  scriptArgs: string[];
}

function usageError(message: string): PlexusCollectivesError {
  return new PlexusCollectivesError(MODULE, 'invalid-argument', `${message}\n\n${USAGE}`);
}

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined) throw usageError(`${flag} needs a value`);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw usageError(`${flag} expects an integer in [${min}, ${max}], got "${raw}"`);
  }
  return n;
}

/**
 * Parses `plexus-run`'s arguments (torchrun's spellings with `_` work too).
 * Options end at the script; everything after it goes to the script.
 * Returns `'help'` for `-h`/`--help`.
 */
export function parseLaunchArgs(argv: readonly string[]): LaunchArgs | 'help' {
  let nproc: number | undefined;
  let masterAddr = '127.0.0.1';
  let masterPort: number | undefined;
  let prefix = true;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    const flag = (eq >= 0 ? arg.slice(0, eq) : arg).replaceAll('_', '-');
    const value = () => (eq >= 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--nproc':
      case '--nproc-per-node':
        nproc = integer('--nproc', value(), 1, 1024);
        break;
      case '--master-addr': {
        const v = value();
        if (!v) throw usageError('--master-addr needs a value');
        masterAddr = v;
        break;
      }
      case '--master-port':
        masterPort = integer('--master-port', value(), 1, 65535);
        break;
      case '--no-prefix':
        prefix = false;
        break;
      default:
        throw usageError(`unknown option ${arg}`);
    }
  }
  const script = argv[i];
  if (script === undefined) throw usageError('missing the script to run');
  if (nproc === undefined) throw usageError('missing --nproc');
  return { nproc, masterAddr, masterPort, prefix, script, scriptArgs: argv.slice(i + 1) };
}
