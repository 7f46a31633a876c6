#!/usr/bin/env node
import { PlexusCollectivesError } from '../errors.js';
import { parseLaunchArgs, USAGE } from './args.js';
import { launch } from './launch.js';

/** `plexus-run`: see `USAGE`. Exit codes: 0 ok, 2 usage error, else the failed worker's. */
async function main(): Promise<number> {
  let args: ReturnType<typeof parseLaunchArgs>;
  try {
    args = parseLaunchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return (await launch(args)).exitCode;
  } catch (error) {
    if (!PlexusCollectivesError.isInstance(error)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
}

main().then((code) => {
  process.exitCode = code;
});
