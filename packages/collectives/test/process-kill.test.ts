import { describe, it } from 'vitest';
import { cleanedUpAfterEach } from './fixtures/cleanup.js';
import { expectSurvivorsRejectAfterKill } from './fixtures/kill-mid-all-reduce.js';

const { children } = cleanedUpAfterEach();

describe('a process killed with SIGKILL mid-allReduce', () => {
  it(
    'makes the survivors reject with a typed error well within the timeout',
    () => expectSurvivorsRejectAfterKill(children),
    40_000,
  );
});
