import { runGnn } from './commands/gnn.js';
import { GNN_USAGE } from './commands/gnn-options.js';
import { runLm } from './commands/lm.js';
import { LM_USAGE } from './commands/lm-options.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: plexus-train <command> [options]

commands:
  gnn    node classification with a graph neural network (plexus-train gnn --help)
  lm     train a Llama/Mixtral-style language model (plexus-train lm --help)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'gnn') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(GNN_USAGE);
      return 0;
    }
    await runGnn(rest);
    return 0;
  }
  if (command === 'lm') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(LM_USAGE);
      return 0;
    }
    // First SIGINT/SIGTERM: finish the step, checkpoint it and exit; a second one exits at once.
    const stop = new AbortController();
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        console.error(`plexus-train: ${sig}: stopping after this step (again to quit at once)`);
        stop.abort();
        process.once(sig, () => process.exit(130));
      });
    await runLm(rest, { signal: stop.signal });
    return 0;
  }
  throw new UsageError(`unknown command '${command}'; accepted: gnn, lm`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`plexus-train: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(
        `plexus-train: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exitCode = 1;
    }
  },
);
