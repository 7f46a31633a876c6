import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import type { ExpertActivation, ExpertParams } from '../layer/experts.js';
import { expertForward } from '../layer/experts.js';
import type { RouterV1, Routing } from '../routers/types.js';
import { disposeRouting } from '../routers/types.js';
import type { AllToAllV } from './exchange.js';
import { checkExpertPlacement } from './placement.js';
import { type ReceivedRows, receiveRows, sendRows, unsortRows } from './row-exchange.js';

const MODULE = 'expert-parallel';

/** Static description of one rank's part of an expert-parallel MoE layer. */
export interface ExpertParallelConfig {
  /** Model width D. */
  readonly modelDim: number;
  /** Expert MLP kind. */
  readonly activation: ExpertActivation;
  /** The router; it must be deterministic (same tokens, same choices) and token-choice. */
  readonly router: RouterV1;
  /** This rank. */
  readonly rank: number;
  /** Number of ranks. */
  readonly worldSize: number;
  /** Owner rank of each expert (see `contiguousExpertPlacement`). */
  readonly placement: Int32Array;
  /** The all-to-all the tokens travel by (flat or hierarchical). */
  readonly exchange: AllToAllV;
  /**
   * BigMac's low width r: tokens are projected `D -> r` before dispatch and
   * `r -> D` after combine, and experts work in width r. Requires
   * `descend` and `ascend` parameters.
   */
  readonly lowDim?: number;
}

/** Parameters one rank holds. */
export interface ExpertParallelParams {
  /** Router projection `[D, E]`, replicated on every rank. */
  readonly routerWeight: tf.Tensor;
  /** The experts this rank owns, by global expert id. */
  readonly experts: ReadonlyMap<number, ExpertParams>;
  /** BigMac descending projection `[D, r]`, replicated. */
  readonly descend?: tf.Tensor;
  /** BigMac ascending projection `[r, D]`, replicated. */
  readonly ascend?: tf.Tensor;
}

/** Bytes this rank put on the wire to other ranks in one forward pass. */
export interface ExpertParallelTraffic {
  /** Dispatch exchange: token rows (plus one expert-id column) sent to other ranks. */
  readonly dispatchBytes: number;
  /** Combine exchange: expert outputs sent back to other ranks. */
  readonly combineBytes: number;
  /** Assignments whose expert lives on another rank. */
  readonly remoteAssignments: number;
  /** Assignments served by this rank's own experts. */
  readonly localAssignments: number;
}

/** Gradients of one rank. The caller owns the tensors. */
export interface ExpertParallelGrads {
  /** Gradient of the input rows, `[T, D]`. */
  readonly x: tf.Tensor2D;
  /** This rank's share of the router gradient; sum it over ranks (all-reduce) for the replicated router. */
  readonly routerWeight: tf.Tensor2D;
  /** Gradients of the experts this rank owns, complete (they gather every rank's tokens). */
  readonly experts: Map<number, ExpertParams>;
  /** This rank's share of the descending projection's gradient (BigMac). */
  readonly descend?: tf.Tensor2D;
  /** This rank's share of the ascending projection's gradient (BigMac). */
  readonly ascend?: tf.Tensor2D;
}

/** One forward pass; `backward` runs the matching backward pass (every rank must call it). */
export interface ExpertParallelStep {
  /** `[T, D]` combined expert outputs of this rank's tokens. */
  readonly output: tf.Tensor2D;
  /** What this rank sent in the forward pass. */
  readonly traffic: ExpertParallelTraffic;
  /** Back-propagates `dOutput` (`[T, D]`) through the layer, exchanging gradients with the other ranks. */
  backward(dOutput: tf.Tensor2D): Promise<ExpertParallelGrads>;
}

/**
 * Expert parallelism: experts live on different ranks and tokens travel to
 * them by all-to-all, as GShard ("GShard: Scaling Giant Models with
 * Conditional Computation and Automatic Sharding", 2020) and DeepSpeed-MoE
 * do; with `lowDim` it is BigMac's descend–communicate–communicate–ascend
 * layer ("BigMac: A Communication-Efficient Mixture-of-Experts Model
 * Structure for Fast Training and Inference", 2025), which moves r-wide
 * instead of D-wide vectors. Dispatch is dropless. Every rank routes its own
 * tokens with the replicated router, so the result equals the single-process
 * layer on the concatenated tokens; the backward pass sends output gradients
 * to the experts' owners and input gradients back with two more exchanges.
 */
export async function expertParallelForward(
  config: ExpertParallelConfig,
  params: ExpertParallelParams,
  x: tf.Tensor2D,
  options: { readonly training?: boolean } = {},
): Promise<ExpertParallelStep> {
  const { modelDim, router, rank, worldSize, placement } = config;
  checkConfig(config, params, x);
  const width = config.lowDim ?? modelDim;
  const training = options.training ?? false;
  const numTokens = x.shape[0];
  const routing = routeTokens(router, x, params.routerWeight, training);
  const tokenIndex = routing.tokenIndex;
  const owner = Int32Array.from(routing.expertIndex, (e) => placement[e]!);
  const hostRows = tf.tidy(() =>
    params.descend ? tf.matMul(x, params.descend as tf.Tensor2D) : x.clone(),
  );
  const h = hostRows.dataSync() as Float32Array;
  hostRows.dispose();

  const dispatch = sendRows(h, width, tokenIndex, owner, routing.expertIndex, worldSize);
  const received = receiveRows(await config.exchange(dispatch.perPeer), width, (e) => {
    if (placement[e] !== rank || !params.experts.has(e)) {
      throw new MoeRoutingError(
        MODULE,
        `rank ${rank} received rows for expert ${e} it does not own`,
      );
    }
  });
  const replies = runExperts(config, params, received, width);
  const y = unsortRows(await config.exchange(replies), width, dispatch.order, owner.length);

  const gates = routing.gates;
  const output = tf.tidy(() => combine(y, gates, tokenIndex, numTokens, width, params.ascend));
  disposeRouting(routing);
  const traffic: ExpertParallelTraffic = {
    dispatchBytes: bytesToOthers(dispatch.perPeer, rank),
    combineBytes: bytesToOthers(replies, rank),
    remoteAssignments: owner.filter((r) => r !== rank).length,
    localAssignments: owner.filter((r) => r === rank).length,
  };

  let used = false;
  return {
    output,
    traffic,
    async backward(dOutput: tf.Tensor2D): Promise<ExpertParallelGrads> {
      if (used) throw new MoeRoutingError(MODULE, 'backward() may run once per forward pass');
      used = true;
      if (dOutput.shape[0] !== numTokens || dOutput.shape[1] !== modelDim) {
        throw new MoeRoutingError(
          MODULE,
          `dOutput must be [${numTokens}, ${modelDim}], got [${dOutput.shape.join(', ')}]`,
        );
      }
      const local = localGrads(
        config,
        params,
        x,
        y,
        tokenIndex,
        routing.expertIndex,
        dOutput,
        training,
      );
      const dy = local.dy.dataSync() as Float32Array;
      local.dy.dispose();
      const dyBack = sendRows(dy, width, null, owner, null, worldSize, dispatch.order);
      const dyReceived = await config.exchange(dyBack.perPeer);
      const { replies: dRowsBack, grads: expertGrads } = expertVjps(
        config,
        params,
        received,
        dyReceived,
        width,
      );
      const dRows = unsortRows(
        await config.exchange(dRowsBack),
        width,
        dispatch.order,
        owner.length,
      );
      return tf.tidy(() => {
        const dh = segmentSum(
          tf.tensor2d(dRows, [owner.length, width]),
          tokenIndex,
          numTokens,
        ) as tf.Tensor2D;
        const dxRemote = params.descend
          ? tf.matMul(dh, params.descend as tf.Tensor2D, false, true)
          : dh;
        const out: ExpertParallelGrads = {
          x: tf.add(local.dx, dxRemote) as tf.Tensor2D,
          routerWeight: local.dRouter,
          experts: expertGrads,
          ...(params.descend ? { descend: tf.matMul(x, dh, true, false) as tf.Tensor2D } : {}),
          ...(local.dAscend ? { ascend: local.dAscend } : {}),
        };
        local.dx.dispose();
        return out as unknown as tf.TensorContainer;
      }) as unknown as ExpertParallelGrads;
    },
  };
}

function routeTokens(
  router: RouterV1,
  x: tf.Tensor2D,
  routerWeight: tf.Tensor,
  training: boolean,
): Routing {
  const logits = tf.matMul(x, routerWeight as tf.Tensor2D) as tf.Tensor2D;
  try {
    return router.route({ logits, training });
  } finally {
    logits.dispose();
  }
}

/** `Σ_a gate_a · y_a` per token, then BigMac's ascending projection. */
function combine(
  y: Float32Array | tf.Tensor2D,
  gates: tf.Tensor1D,
  tokenIndex: Int32Array,
  numTokens: number,
  width: number,
  ascend: tf.Tensor | undefined,
): tf.Tensor2D {
  const ys = y instanceof Float32Array ? tf.tensor2d(y, [tokenIndex.length, width]) : y;
  const summed =
    tokenIndex.length === 0
      ? (tf.zeros([numTokens, width]) as tf.Tensor2D)
      : (segmentSum(tf.mul(ys, tf.expandDims(gates, 1)), tokenIndex, numTokens) as tf.Tensor2D);
  return ascend ? (tf.matMul(summed, ascend as tf.Tensor2D) as tf.Tensor2D) : summed;
}

/** Runs the owned experts on the rows received and returns each sender's outputs, in its order. */
function runExperts(
  config: ExpertParallelConfig,
  params: ExpertParallelParams,
  received: ReceivedRows,
  width: number,
): Float32Array[] {
  const replies = received.rowsPerPeer.map((n) => new Float32Array(n * width));
  for (const [e, group] of received.byExpert) {
    const out = tf.tidy(() =>
      expertForward(
        params.experts.get(e)!,
        config.activation,
        tf.tensor2d(group.rows, [group.peer.length, width]),
      ),
    );
    const values = out.dataSync() as Float32Array;
    out.dispose();
    for (let i = 0; i < group.peer.length; i++) {
      replies[group.peer[i]!]!.set(
        values.subarray(i * width, (i + 1) * width),
        group.slot[i]! * width,
      );
    }
  }
  return replies;
}

/** Gradients of the local part (router, gates, ascend) with the expert outputs held fixed. */
function localGrads(
  config: ExpertParallelConfig,
  params: ExpertParallelParams,
  x: tf.Tensor2D,
  y: Float32Array,
  tokenIndex: Int32Array,
  expertIndex: Int32Array,
  dOutput: tf.Tensor2D,
  training: boolean,
): { dx: tf.Tensor2D; dRouter: tf.Tensor2D; dAscend?: tf.Tensor2D; dy: tf.Tensor2D } {
  const width = config.lowDim ?? config.modelDim;
  const numTokens = x.shape[0];
  if (tokenIndex.length === 0) {
    // No assignments (e.g. no tokens on this rank): nothing depends on the inputs.
    return {
      dx: tf.zerosLike(x),
      dRouter: tf.zerosLike(params.routerWeight) as tf.Tensor2D,
      dy: tf.zeros([0, width]) as tf.Tensor2D,
      ...(params.ascend ? { dAscend: tf.zerosLike(params.ascend) as tf.Tensor2D } : {}),
    };
  }
  const yT = tf.tensor2d(y, [tokenIndex.length, width]);
  const inputs: tf.Tensor[] = [x, params.routerWeight, yT];
  if (params.ascend) inputs.push(params.ascend);
  const grads = tf.grads((...args: tf.Tensor[]) => {
    const [xIn, wg, ys, wa] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D?];
    // No dispose here: the tape may still need the logits for the backward pass.
    const routing = config.router.route({ logits: tf.matMul(xIn, wg) as tf.Tensor2D, training });
    if (!sameAssignments(routing, tokenIndex, expertIndex)) {
      throw new MoeRoutingError(
        MODULE,
        `router '${config.router.name}' chose different experts for the same tokens in the backward pass; expert parallelism needs a deterministic router (e.g. top-k without noise, or training: false)`,
      );
    }
    const out = combine(ys, routing.gates, tokenIndex, numTokens, width, wa);
    return tf.sum(tf.mul(out, dOutput));
  })(inputs);
  yT.dispose();
  return {
    dx: grads[0] as tf.Tensor2D,
    dRouter: grads[1] as tf.Tensor2D,
    dy: grads[2] as tf.Tensor2D,
    ...(params.ascend ? { dAscend: grads[3] as tf.Tensor2D } : {}),
  };
}

function sameAssignments(
  routing: Routing,
  tokenIndex: Int32Array,
  expertIndex: Int32Array,
): boolean {
  if (routing.tokenIndex.length !== tokenIndex.length) return false;
  for (let a = 0; a < tokenIndex.length; a++) {
    if (routing.tokenIndex[a] !== tokenIndex[a] || routing.expertIndex[a] !== expertIndex[a])
      return false;
  }
  return true;
}

const PARAM_NAMES = ['w1', 'w2', 'w3', 'b1', 'b2'] as const;

/** Vector–Jacobian products of the owned experts: input-row gradients for the senders, and parameter gradients. */
function expertVjps(
  config: ExpertParallelConfig,
  params: ExpertParallelParams,
  received: ReceivedRows,
  dyReceived: readonly Float32Array[],
  width: number,
): { replies: Float32Array[]; grads: Map<number, ExpertParams> } {
  const replies = received.rowsPerPeer.map((n) => new Float32Array(n * width));
  const grads = new Map<number, ExpertParams>();
  for (const [e, group] of received.byExpert) {
    const p = params.experts.get(e)!;
    const n = group.peer.length;
    const dy = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      const o = group.slot[i]! * width;
      dy.set(dyReceived[group.peer[i]!]!.subarray(o, o + width), i * width);
    }
    const names = PARAM_NAMES.filter((k) => p[k] !== undefined);
    const rows = tf.tensor2d(group.rows, [n, width]);
    const dyT = tf.tensor2d(dy, [n, width]);
    const g = tf.grads((...args: tf.Tensor[]) => {
      const [r, ...ws] = args;
      const rebuilt = Object.fromEntries(
        names.map((k, i) => [k, ws[i]!]),
      ) as unknown as ExpertParams;
      return tf.sum(tf.mul(expertForward(rebuilt, config.activation, r as tf.Tensor2D), dyT));
    })([rows, ...names.map((k) => p[k]!)]);
    rows.dispose();
    dyT.dispose();
    const dRows = g[0]!.dataSync() as Float32Array;
    g[0]!.dispose();
    for (let i = 0; i < n; i++) {
      replies[group.peer[i]!]!.set(
        dRows.subarray(i * width, (i + 1) * width),
        group.slot[i]! * width,
      );
    }
    grads.set(
      e,
      Object.fromEntries(names.map((k, i) => [k, g[i + 1]!])) as unknown as ExpertParams,
    );
  }
  // Owned experts that received no rows this step still get (zero) gradients, so optimisers see every parameter.
  for (const [e, p] of params.experts) {
    if (!grads.has(e)) {
      const names = PARAM_NAMES.filter((k) => p[k] !== undefined);
      grads.set(
        e,
        Object.fromEntries(names.map((k) => [k, tf.zerosLike(p[k]!)])) as unknown as ExpertParams,
      );
    }
  }
  return { replies, grads };
}

function bytesToOthers(perPeer: readonly Float32Array[], rank: number): number {
  let bytes = 0;
  for (let p = 0; p < perPeer.length; p++) if (p !== rank) bytes += perPeer[p]!.byteLength;
  return bytes;
}

function checkConfig(
  config: ExpertParallelConfig,
  params: ExpertParallelParams,
  x: tf.Tensor2D,
): void {
  const { modelDim, router, rank, worldSize, placement, lowDim } = config;
  if (router?.specificationVersion !== 'v1') {
    throw new MoeRoutingError(MODULE, 'config.router must be a RouterV1');
  }
  if (router.numExperts !== router.numRoutedExperts) {
    throw new MoeRoutingError(
      MODULE,
      `router '${router.name}' has shared experts; expert parallelism supports routed experts only`,
    );
  }
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new MoeRoutingError(MODULE, `worldSize must be a positive integer, got ${worldSize}`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new MoeRoutingError(MODULE, `rank must be an integer in [0, ${worldSize}), got ${rank}`);
  }
  checkExpertPlacement(placement, router.numExperts, worldSize);
  for (let e = 0; e < placement.length; e++) {
    if (placement[e] === rank && !params.experts.has(e)) {
      throw new MoeRoutingError(
        MODULE,
        `rank ${rank} owns expert ${e} but params.experts lacks it`,
      );
    }
  }
  if (x.rank !== 2 || x.shape[1] !== modelDim) {
    throw new MoeRoutingError(MODULE, `x must be [T, ${modelDim}], got [${x.shape.join(', ')}]`);
  }
  if (lowDim !== undefined) {
    if (!Number.isInteger(lowDim) || lowDim < 1) {
      throw new MoeRoutingError(MODULE, `lowDim must be a positive integer, got ${lowDim}`);
    }
    const d = params.descend;
    const a = params.ascend;
    if (!d || d.shape[0] !== modelDim || d.shape[1] !== lowDim) {
      throw new MoeRoutingError(
        MODULE,
        `BigMac needs params.descend of shape [${modelDim}, ${lowDim}]`,
      );
    }
    if (!a || a.shape[0] !== lowDim || a.shape[1] !== modelDim) {
      throw new MoeRoutingError(
        MODULE,
        `BigMac needs params.ascend of shape [${lowDim}, ${modelDim}]`,
      );
    }
  } else if (params.descend || params.ascend) {
    throw new MoeRoutingError(
      MODULE,
      'params.descend/ascend are only used with config.lowDim (BigMac)',
    );
  }
}
