import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, it } from 'vitest';
import { expectSurvivorsRejectAfterKill } from './fixtures/kill-mid-all-reduce.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('a process killed with SIGKILL mid-allReduce', () => {
  it(
    'makes the survivors reject with a typed error well within the timeout',
    () => expectSurvivorsRejectAfterKill(children),
    40_000,
  );
});
