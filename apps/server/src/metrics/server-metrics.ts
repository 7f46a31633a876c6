import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../engine/engine.js';

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80];
const ITL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Prometheus metrics under vLLM's names (`vllm:time_to_first_token_seconds`,
 * `vllm:time_per_output_token_seconds`, `vllm:e2e_request_latency_seconds`,
 * `vllm:num_requests_running` / `_waiting`, `vllm:kv_cache_usage_perc`,
 * `vllm:prefix_cache_queries_total` / `_hits_total`, token counters;
 * counters carry the `_total` suffix Prometheus clients add), so existing
 * dashboards for vLLM read ours too.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly requestSuccess: Counter<'finished_reason'>;

  constructor(engine: Engine, modelId: string) {
    const registers = [this.registry];
    const labels = { model_name: modelId };
    this.registry.setDefaultLabels(labels);
    this.ttft = new Histogram({
      name: 'vllm:time_to_first_token_seconds',
      help: 'Time to first token in seconds.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.itl = new Histogram({
      name: 'vllm:time_per_output_token_seconds',
      help: 'Inter-token latency in seconds.',
      buckets: ITL_BUCKETS,
      registers,
    });
    this.e2e = new Histogram({
      name: 'vllm:e2e_request_latency_seconds',
      help: 'End-to-end request latency in seconds.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.promptTokens = new Counter({
      name: 'vllm:prompt_tokens_total',
      help: 'Prompt tokens processed.',
      registers,
    });
    this.generationTokens = new Counter({
      name: 'vllm:generation_tokens_total',
      help: 'Generated tokens.',
      registers,
    });
    this.requestSuccess = new Counter({
      name: 'vllm:request_success_total',
      help: 'Finished requests by finish reason.',
      labelNames: ['finished_reason'],
      registers,
    });
    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Requests in the running batch.',
      registers,
      collect() {
        this.set(engine.state().running);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: 'Requests waiting to be scheduled.',
      registers,
      collect() {
        this.set(engine.state().waiting);
      },
    });
    new Gauge({
      name: 'vllm:kv_cache_usage_perc',
      help: 'Fraction of KV-cache blocks in use (1 = full).',
      registers,
      collect() {
        const s = engine.state();
        this.set(s.usedBlocks / s.numBlocks);
      },
    });
    // Counters fed from cumulative engine stats at scrape time.
    let seenDrafted = 0;
    let seenAccepted = 0;
    new Counter({
      name: 'vllm:spec_decode_num_draft_tokens_total',
      help: 'Draft tokens proposed by speculative decoding.',
      registers,
      collect() {
        this.inc(engine.draftedTokens - seenDrafted);
        seenDrafted = engine.draftedTokens;
      },
    });
    new Counter({
      name: 'vllm:spec_decode_num_accepted_tokens_total',
      help: 'Draft tokens accepted by verification.',
      registers,
      collect() {
        this.inc(engine.acceptedTokens - seenAccepted);
        seenAccepted = engine.acceptedTokens;
      },
    });
    let seenQueries = 0;
    let seenHits = 0;
    new Counter({
      name: 'vllm:prefix_cache_queries_total',
      help: 'Prompt blocks looked up in the prefix cache.',
      registers,
      collect() {
        const q = engine.manager.stats().prefixQueries;
        this.inc(q - seenQueries);
        seenQueries = q;
      },
    });
    new Counter({
      name: 'vllm:prefix_cache_hits_total',
      help: 'Prompt blocks found in the prefix cache.',
      registers,
      collect() {
        const h = engine.manager.stats().prefixHits;
        this.inc(h - seenHits);
        seenHits = h;
      },
    });
  }
}
