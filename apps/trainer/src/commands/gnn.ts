import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createNodeClassifier,
  disposeInput,
  type EpochMetrics,
  featuresToInput,
  trainNodeClassifier,
} from '@plexus/gnn-layers';
import { initBackend } from '@plexus/tensor';
import { ProgressBar } from '../report/progress-bar.js';
import { meanStd } from '../report/stats.js';
import { svgLineChart } from '../report/svg-line-chart.js';
import { type GnnOptions, parseGnnOptions } from './gnn-options.js';
import { loadGraphDataset } from './load-graph-dataset.js';
import { featuresWithEncoding } from './positional-encoding.js';

/** Per-seed outcome, as written to summary.json. */
export interface SeedResult {
  readonly seed: number;
  readonly testAcc: number;
  readonly bestValAcc: number;
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly meanEpochMs: number;
}

/** Summary of a `plexus-train gnn` run. */
export interface GnnSummary {
  readonly dataset: string;
  readonly model: string;
  readonly backend: string;
  readonly device: string;
  readonly seeds: readonly SeedResult[];
  readonly testAcc: { mean: number; std: number };
  readonly meanEpochMs: number;
  readonly finished: boolean;
}

/**
 * `plexus-train gnn`: train a node classifier once per seed and report mean
 * ± std test accuracy. Metrics are appended per epoch and the summary is
 * rewritten after every seed, so an interrupted run keeps what it finished.
 */
export async function runGnn(
  argv: string[],
  log: (line: string) => void = console.log,
): Promise<GnnSummary> {
  const opts: GnnOptions = parseGnnOptions(argv);
  const ds = loadGraphDataset(opts.dataset);
  const choice = await initBackend({ backend: opts.backend });
  log(
    `backend: ${choice.backend} (${choice.device}); dataset ${ds.name}: ${ds.graph.numNodes} nodes, ${ds.graph.numEdges} arcs, ${ds.numFeatures} features, ${ds.numClasses} classes`,
  );
  mkdirSync(opts.out, { recursive: true });
  const metricsFile = join(opts.out, 'metrics.jsonl');
  writeFileSync(metricsFile, '');
  const { input: features, width: numFeatures } =
    opts.pe === 'none' && !opts.sparseFeatures
      ? {
          input: featuresToInput(ds.graph.features, ds.graph.numNodes, { keepSparse: false }),
          width: ds.numFeatures,
        }
      : featuresWithEncoding(ds.graph, opts.pe, opts.peDim, 0);
  if (opts.pe !== 'none') {
    log(`positional encoding: ${opts.pe}, ${numFeatures - ds.numFeatures} extra feature columns`);
  }
  const seeds: SeedResult[] = [];
  const curves: Array<{ seed: number; history: readonly EpochMetrics[] }> = [];
  const summarise = (finished: boolean): GnnSummary => ({
    dataset: ds.name,
    model: opts.model,
    backend: choice.backend,
    device: choice.device,
    seeds,
    testAcc: meanStd(seeds.map((s) => s.testAcc)),
    meanEpochMs: meanStd(seeds.map((s) => s.meanEpochMs)).mean,
    finished,
  });
  try {
    for (let seed = 0; seed < opts.seeds; seed++) {
      const model = createNodeClassifier(
        opts.model,
        numFeatures,
        ds.numClasses,
        seed,
        opts.epochs ? { epochs: opts.epochs } : {},
      );
      const bar = new ProgressBar(
        `${opts.model} seed ${seed + 1}/${opts.seeds}`,
        model.config.epochs,
      );
      const result = trainNodeClassifier({
        model,
        graph: ds.graph,
        features,
        labels: ds.graph.labels!,
        split: ds.split,
        numClasses: ds.numClasses,
        seed,
        onEpoch: (m) => {
          appendFileSync(metricsFile, `${JSON.stringify({ seed, ...m })}\n`);
          bar.update(
            m.epoch + 1,
            `loss ${m.trainLoss.toFixed(3)} val ${(100 * m.valAcc).toFixed(1)}%`,
          );
        },
      });
      bar.finish();
      model.dispose();
      const { history, ...rest } = result;
      seeds.push({ seed, ...rest });
      curves.push({ seed, history });
      log(
        `seed ${seed}: test ${(100 * result.testAcc).toFixed(1)}% at epoch ${result.bestEpoch} (val ${(100 * result.bestValAcc).toFixed(1)}%), ${result.epochsRun} epochs, ${result.meanEpochMs.toFixed(1)} ms/epoch`,
      );
      writeFileSync(
        join(opts.out, 'summary.json'),
        `${JSON.stringify(summarise(false), null, 2)}\n`,
      );
    }
  } finally {
    disposeInput(features);
  }
  const summary = summarise(true);
  writeFileSync(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(
    join(opts.out, 'curves.svg'),
    svgLineChart(
      curves.map((c) => ({
        name: `seed ${c.seed} val acc`,
        points: c.history.map((h) => [h.epoch, h.valAcc] as const),
      })),
      {
        title: `${opts.model.toUpperCase()} on ${ds.name}: validation accuracy`,
        xLabel: 'epoch',
        yLabel: 'accuracy',
      },
    ),
  );
  log('');
  log('| dataset | model | seeds | test accuracy (mean ± std) | ms/epoch | backend |');
  log('| --- | --- | --- | --- | --- | --- |');
  log(
    `| ${ds.name} | ${opts.model} | ${seeds.length} | ${(100 * summary.testAcc.mean).toFixed(1)} ± ${(100 * summary.testAcc.std).toFixed(1)} | ${summary.meanEpochMs.toFixed(1)} | ${choice.backend} |`,
  );
  log(`wrote ${metricsFile}, ${join(opts.out, 'summary.json')}, ${join(opts.out, 'curves.svg')}`);
  return summary;
}
