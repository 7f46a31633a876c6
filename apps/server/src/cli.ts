import { parseServeOptions, SERVE_USAGE, ServeUsageError } from './serve-options.js';
import { startServer } from './start-server.js';

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(SERVE_USAGE);
    return;
  }
  const options = parseServeOptions(argv);
  const server = await startServer(options);
  console.log(`plexus-serve: ${options.model} on ${server.backend}, listening at ${server.url}`);
  console.log(
    `plexus-serve: dashboard ${server.url}/  ·  API ${server.url}/v1  ·  metrics ${server.url}/metrics`,
  );
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    console.log(`plexus-serve: ${signal}, stopping (again to force)`);
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`plexus-serve: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ServeUsageError) {
    console.error(`plexus-serve: ${error.message}\n\n${SERVE_USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`plexus-serve: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
});
