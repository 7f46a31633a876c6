import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { svgLineChart } from '../report/svg-line-chart.js';

/** Expert load of one MoE layer in one step (summed over the workers). */
export interface ExpertLoadMetric {
  readonly layer: number;
  /** Tokens routed to each expert (top-k choices). */
  readonly load: number[];
  /** std / mean of `load`: 0 is perfect balance. */
  readonly cv: number;
  /** Mean router entropy in nats. */
  readonly entropy: number;
}

/** One line of `metrics.jsonl`. */
export interface LmStepMetric {
  /** Steps completed (1-based). */
  readonly step: number;
  /** What training minimises: cross-entropy plus the weighted load-balancing loss. */
  readonly loss: number;
  readonly cross_entropy: number;
  readonly aux_loss: number;
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly grad_norm: number;
  readonly tokens_per_s: number;
  readonly step_ms: number;
  /** Time in gradient all-reduce (or the DiLoCo outer step) during this step. */
  readonly comm_ms: number;
  readonly expert_load?: readonly ExpertLoadMetric[];
}

/**
 * `metrics.jsonl`, one JSON line per step. A resumed run first drops the
 * lines after its checkpoint, so the file reads as one uninterrupted run.
 */
export class MetricsLog {
  constructor(
    readonly path: string,
    resumeStep: number | undefined,
  ) {
    if (resumeStep === undefined || !existsSync(path)) {
      writeFileSync(path, '');
      return;
    }
    const kept = readMetrics(path).filter((m) => m.step <= resumeStep);
    writeFileSync(path, kept.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }

  /** Append one step. */
  append(m: LmStepMetric): void {
    appendFileSync(this.path, `${JSON.stringify(m)}\n`);
  }
}

/** Every complete line of a `metrics.jsonl` (a line torn by a kill is skipped). */
export function readMetrics(path: string): LmStepMetric[] {
  const out: LmStepMetric[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as LmStepMetric);
    } catch {
      // A kill -9 can cut the last line.
    }
  }
  return out;
}

/** The loss curve (training loss and cross-entropy per step) as an SVG. */
export function lossCurveSvg(metrics: readonly LmStepMetric[], title: string): string {
  const series = [{ name: 'loss', points: metrics.map((m) => [m.step, m.loss] as const) }];
  if (metrics.some((m) => m.aux_loss !== 0))
    series.push({
      name: 'cross-entropy',
      points: metrics.map((m) => [m.step, m.cross_entropy] as const),
    });
  return svgLineChart(series, { title, xLabel: 'step', yLabel: 'loss (nats/token)' });
}
