import { describe, expect, it } from 'vitest';
import { runChurn } from './fixtures/ft-churn.js';

// CI runs a short churn; `bench/churn.ts` runs a long one. PLEXUS_FT_CHURN_MS and PLEXUS_FT_CHURN_SEED override.
const durationMs = Number(process.env.PLEXUS_FT_CHURN_MS ?? 45_000);
const seed = Number(process.env.PLEXUS_FT_CHURN_SEED ?? 7);

describe('fault tolerance under churn (child processes started and killed -9 at random)', () => {
  it(
    `keeps training for ${durationMs / 1000} s: all-reduces keep completing, shared-state hashes never differ`,
    async () => {
      const report = await runChurn({ durationMs, seed });
      console.log(`churn: ${JSON.stringify(report)}`);
      expect(report.failures).toEqual([]);
      expect(report.killed).toBeGreaterThan(0);
      expect(report.allReduces).toBeGreaterThan(0);
      expect(report.longestStallMs).toBeLessThan(30_000);
      expect(report.syncReports).toBeGreaterThan(0);
    },
    durationMs + 60_000,
  );
});
