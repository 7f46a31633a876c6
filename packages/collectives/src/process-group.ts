import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { shmAllReduce } from './algorithms/shm-all-reduce.js';
import type { Topology } from './algorithms/topology.js';
import { PlexusCollectivesError } from './errors.js';
import type { ElementArray } from './reduction/dtype.js';
import { createTcpStore } from './store/tcp-store.js';
import type { StoreV1 } from './store/types.js';
import {
  allocateShared,
  checkAllocation,
  type ElementArrayType,
  releaseShared,
} from './transport/shm/shared-buffers.js';
import {
  createShmTransport,
  type ShmTransport,
  type ShmTransportOptions,
  zeroCopyChannelOf,
} from './transport/shm/shm-transport.js';
import {
  createTcpTransport,
  type TcpTransport,
  type TcpTransportOptions,
} from './transport/tcp/tcp-transport.js';
import { createTransportGroup, type TransportGroupOptions } from './transport/transport-group.js';
import type { CollectiveGroupV1, ExtendedCollectiveGroupV1 } from './types.js';

const MODULE = 'process-group';

/** Options for `initProcessGroup`; anything left out is read from the environment. */
export interface InitProcessGroupOptions {
  /** This process's rank (default: `RANK`). */
  rank?: number;
  /** Number of processes (default: `WORLD_SIZE`). */
  worldSize?: number;
  /** Rank on this host (default: `LOCAL_RANK`, else `rank`). */
  localRank?: number;
  /** Processes on this host (default: `LOCAL_WORLD_SIZE`, else `worldSize`). */
  localWorldSize?: number;
  /**
   * Rendezvous store. Default: the built-in TCP store at
   * `masterAddr:masterPort`, hosted by rank 0.
   */
  store?: StoreV1;
  /** Address of rank 0's store (default: `MASTER_ADDR`). */
  masterAddr?: string;
  /** Port of rank 0's store (default: `MASTER_PORT`). */
  masterPort?: number;
  /** Default timeout of every collective and of the rendezvous (ms, default 30 000). */
  timeoutMs?: number;
  /** Store key prefix of this group (default `plexus/pg`); distinct groups on one store need distinct prefixes. */
  prefix?: string;
  /**
   * Algorithm choice (`algorithm`, default `auto`) and `topology`. Default
   * topology: ranks that advertised the same TCP host share a host, so
   * across machines `auto` picks HO-Ring and hierarchical all-to-all.
   */
  collectives?: TransportGroupOptions['collectives'];
  /**
   * Which transport carries the data (default: `PLEXUS_COLLECTIVES_TRANSPORT`,
   * else `tcp`). `shm`: shared-memory segments under /dev/shm, for ranks that
   * are all on one host (`createShmTransport`). `auto`: `shm` when every rank
   * advertises the same host (hostname and boot id), else `tcp`.
   */
  transport?: ProcessGroupTransport;
  /** Shared-memory transport settings (slot size, segment directory). */
  shm?: Omit<ShmTransportOptions, 'rank' | 'worldSize' | 'store' | 'timeoutMs' | 'prefix'>;
  /** TCP transport settings (connections per peer, frame limits, host, secret ...). */
  tcp?: Omit<TcpTransportOptions, 'rank' | 'worldSize' | 'store' | 'timeoutMs' | 'prefix'>;
  /**
   * Shared secret of the run (default: `tcp.secret`, else
   * `PLEXUS_COLLECTIVES_SECRET`): the built-in TCP store and the TCP or
   * shared-memory transport then authenticate every connection with it
   * (HMAC challenge both ways). A `store` you pass keeps its own settings.
   */
  secret?: string | Uint8Array;
  /** Environment to read (default `process.env`). `PLEXUS_COLLECTIVES_SECRET` sets `secret`. */
  env?: Record<string, string | undefined>;
}

/** The transports `initProcessGroup` can build. */
export type ProcessGroupTransport = 'tcp' | 'shm' | 'auto';

/** A process group: the collectives of `CollectiveGroupV1` over TCP or shared memory, plus what built it. */
export interface ProcessGroup extends ExtendedCollectiveGroupV1 {
  readonly localRank: number;
  readonly localWorldSize: number;
  readonly store: StoreV1;
  readonly transport: TcpTransport | ShmTransport;
  /** The transport that was chosen (`auto` resolved). */
  readonly transportKind: 'tcp' | 'shm';
  /** Which host each rank is on, as the algorithms see it. */
  readonly topology: Topology;
  /**
   * A zero-filled array whose memory every rank of a shared-memory group has
   * mapped (symmetric memory, as PyTorch's SymmetricMemory or NCCL's
   * `ncclMemAlloc`). `allReduce` on such arrays, at the same offset on every
   * rank, reads the peers' inputs in place and skips the copy into shared
   * memory that ordinary arrays need. Collective: every rank calls it with
   * the same type and length, in the same order. Over TCP, or where the
   * shared-memory transport has no zero-copy channel, an ordinary array,
   * so the same code runs everywhere.
   */
  allocateShared<T extends ElementArray>(type: ElementArrayType<T>, length: number): Promise<T>;
  /**
   * Unmaps an array from `allocateShared` in this process (it and every
   * view of it become detached, length 0). Not collective; true when `buf`
   * was shared, false for any other array (left as it is).
   */
  releaseShared(buf: ElementArray): boolean;
  /** Closes the transport and this rank's store connection (rank 0 also stops the store it hosts). */
  destroy(): Promise<void>;
}

function fromEnv(
  env: Record<string, string | undefined>,
  name: string,
  given: number | undefined,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < min || given > max) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected ${name} to be an integer in [${min}, ${max}], got ${String(given)}`,
      );
    }
    return given;
  }
  const envName = name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  const raw = env[envName];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `${envName} is not set: pass { ${name} } or start the script with plexus-run (or torchrun, Slurm, Kubernetes) so the environment has it`,
    );
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${envName} to be an integer in [${min}, ${max}], got "${raw}"`,
    );
  }
  return value;
}

/**
 * Joins a process group, like `torch.distributed.init_process_group` with
 * `env://`: rank and world size from the options or from RANK, WORLD_SIZE,
 * LOCAL_RANK, LOCAL_WORLD_SIZE; the rendezvous store from the options or the
 * built-in TCP store that rank 0 hosts at MASTER_ADDR:MASTER_PORT. Every
 * rank publishes its TCP listening address in the store, connects to the
 * others (`createTcpTransport`), and waits in a store barrier until all
 * ranks are connected. Resolves to a `CollectiveGroupV1` whose collectives
 * run over that TCP transport, or, with `transport: 'shm'` (or `auto` when
 * all ranks share a host), over shared-memory segments (`createShmTransport`).
 */
export async function initProcessGroup(
  options: InitProcessGroupOptions = {},
): Promise<ProcessGroup> {
  const env = options.env ?? process.env;
  const worldSize = fromEnv(env, 'worldSize', options.worldSize, undefined, 1, 65536);
  const rank = fromEnv(env, 'rank', options.rank, undefined, 0, worldSize - 1);
  const localWorldSize = fromEnv(
    env,
    'localWorldSize',
    options.localWorldSize,
    worldSize,
    1,
    worldSize,
  );
  const localRank = fromEnv(env, 'localRank', options.localRank, rank, 0, worldSize - 1);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const prefix = options.prefix ?? 'plexus/pg';
  const requested = transportOption(options.transport ?? env.PLEXUS_COLLECTIVES_TRANSPORT);
  const envSecret = env.PLEXUS_COLLECTIVES_SECRET;
  const secret =
    options.secret ?? options.tcp?.secret ?? (envSecret === '' ? undefined : envSecret);
  let store = options.store;
  const ownsStore = store === undefined;
  if (store === undefined) {
    const host = options.masterAddr ?? env.MASTER_ADDR;
    if (host === undefined || host === '') {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        'MASTER_ADDR is not set: pass { masterAddr } or { store }, or start the script with plexus-run',
      );
    }
    const port = fromEnv(env, 'masterPort', options.masterPort, undefined, 1, 65535);
    store = await createTcpStore({
      host,
      port,
      isMaster: rank === 0,
      timeoutMs,
      ...(secret !== undefined ? { secret } : {}),
    });
  }
  let transport: TcpTransport | ShmTransport | undefined;
  let kind: 'tcp' | 'shm' = requested === 'shm' ? 'shm' : 'tcp';
  let topology: Topology;
  try {
    if (requested === 'auto')
      kind = (await oneHost(store, prefix, rank, worldSize, timeoutMs)) ? 'shm' : 'tcp';
    if (kind === 'shm') {
      transport = await createShmTransport({
        ...options.shm,
        ...(secret !== undefined ? { secret: options.shm?.secret ?? secret } : {}),
        rank,
        worldSize,
        store,
        timeoutMs,
        prefix: `${prefix}/shm`,
      });
      topology = options.collectives?.topology ?? { hostOf: new Array<number>(worldSize).fill(0) };
    } else {
      transport = await createTcpTransport({
        ...options.tcp,
        ...(secret !== undefined ? { secret: options.tcp?.secret ?? secret } : {}),
        rank,
        worldSize,
        store,
        timeoutMs,
        prefix: `${prefix}/tcp`,
      });
      topology = options.collectives?.topology ?? (await hostTopology(store, prefix, worldSize));
    }
    // Store barrier: nobody (rank 0 with the store above all) leaves before every rank is connected.
    const arrived = await store.add(`${prefix}/init/arrived`, 1);
    if (arrived === worldSize) await store.set(`${prefix}/init/done`, '1');
    await store.wait([`${prefix}/init/done`], { timeoutMs });
  } catch (error) {
    await transport?.close();
    if (ownsStore) await store.close();
    throw error;
  }
  // Over shared memory with the addon on every rank, all-reduce reads the
  // peers' mapped segments in place, unless an algorithm or reducer was forced.
  const channel = zeroCopyChannelOf(transport);
  const algorithm = options.collectives?.algorithm;
  const special =
    channel !== undefined &&
    (algorithm === undefined || algorithm === 'auto') &&
    options.collectives?.reducer === undefined;
  const group = createTransportGroup(transport, {
    timeoutMs,
    module: MODULE,
    collectives: { ...options.collectives, topology },
    ...(special ? { allReduce: (buf, op, o) => shmAllReduce(channel, buf, op, o) } : {}),
  });
  return new Group(group, localRank, localWorldSize, store, transport, kind, ownsStore, topology);
}

function transportOption(value: string | undefined): ProcessGroupTransport {
  if (value === undefined || value === '') return 'tcp';
  if (value === 'tcp' || value === 'shm' || value === 'auto') return value;
  throw new PlexusCollectivesError(
    MODULE,
    'invalid-argument',
    `expected transport (or PLEXUS_COLLECTIVES_TRANSPORT) to be 'tcp', 'shm' or 'auto', got "${value}"`,
  );
}

/** This machine's identity: hostname plus the kernel's boot id, so that two containers named alike do not pass for one host. */
function hostIdentity(): string {
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux: the hostname alone
  }
  return `${hostname()}/${bootId}`;
}

/** Whether every rank advertised the same host identity in the store. */
async function oneHost(
  store: StoreV1,
  prefix: string,
  rank: number,
  worldSize: number,
  timeoutMs: number,
): Promise<boolean> {
  const mine = hostIdentity();
  await store.set(`${prefix}/host/${rank}`, mine, { timeoutMs });
  for (let r = 0; r < worldSize; r++) {
    const theirs = new TextDecoder().decode(await store.get(`${prefix}/host/${r}`, { timeoutMs }));
    if (theirs !== mine) return false;
  }
  return true;
}

/** Hosts from the TCP addresses the ranks advertised, numbered by first appearance. */
async function hostTopology(store: StoreV1, prefix: string, worldSize: number): Promise<Topology> {
  const hosts = new Map<string, number>();
  const hostOf: number[] = [];
  for (let r = 0; r < worldSize; r++) {
    let host = 'local';
    if (worldSize > 1) {
      const raw = await store.get(`${prefix}/tcp/addr/${r}`);
      host = (JSON.parse(new TextDecoder().decode(raw)) as { host: string }).host;
    }
    if (!hosts.has(host)) hosts.set(host, hosts.size);
    hostOf.push(hosts.get(host)!);
  }
  return { hostOf };
}

/** Delegates the collectives to the transport group and adds what built it. */
class Group implements ProcessGroup {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  readonly allReduce: CollectiveGroupV1['allReduce'];
  readonly broadcast: CollectiveGroupV1['broadcast'];
  readonly allGather: CollectiveGroupV1['allGather'];
  readonly reduceScatter: CollectiveGroupV1['reduceScatter'];
  readonly allToAll: CollectiveGroupV1['allToAll'];
  readonly barrier: CollectiveGroupV1['barrier'];
  readonly send: CollectiveGroupV1['send'];
  readonly recv: CollectiveGroupV1['recv'];
  readonly allToAllV: ExtendedCollectiveGroupV1['allToAllV'];
  readonly newSubGroup: ExtendedCollectiveGroupV1['newSubGroup'];
  private destroyed = false;

  constructor(
    group: ExtendedCollectiveGroupV1,
    readonly localRank: number,
    readonly localWorldSize: number,
    readonly store: StoreV1,
    readonly transport: TcpTransport | ShmTransport,
    readonly transportKind: 'tcp' | 'shm',
    private readonly ownsStore: boolean,
    readonly topology: Topology,
  ) {
    this.rank = group.rank;
    this.worldSize = group.worldSize;
    this.allReduce = group.allReduce.bind(group);
    this.broadcast = group.broadcast.bind(group);
    this.allGather = group.allGather.bind(group);
    this.reduceScatter = group.reduceScatter.bind(group);
    this.allToAll = group.allToAll.bind(group);
    this.barrier = group.barrier.bind(group);
    this.send = group.send.bind(group);
    this.recv = group.recv.bind(group);
    this.allToAllV = group.allToAllV.bind(group);
    this.newSubGroup = group.newSubGroup.bind(group);
  }

  async allocateShared<T extends ElementArray>(
    type: ElementArrayType<T>,
    length: number,
  ): Promise<T> {
    if (this.destroyed) {
      throw new PlexusCollectivesError(
        MODULE,
        'broken',
        `rank ${this.rank}: allocateShared was called after destroy()`,
      );
    }
    const channel = zeroCopyChannelOf(this.transport);
    if (channel === undefined) {
      checkAllocation(type, length);
      return new type(length);
    }
    return allocateShared(channel, type, length, {
      barrier: () => this.barrier(),
      minOverRanks: async (value) => (await this.allReduce(new Int32Array([value]), 'min'))[0]!,
    });
  }

  releaseShared(buf: ElementArray): boolean {
    const channel = zeroCopyChannelOf(this.transport);
    return channel === undefined ? false : releaseShared(channel, buf);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.transport.close();
    if (this.ownsStore) await this.store.close();
  }
}
