// Plain-Node worker entry: registers tsx in this thread, then loads the
// TypeScript worker (`--import tsx` in execArgv does not reach a worker's
// entry file on Node 20).
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
