// Simulated hosts for multi-host tests and benchmarks: Linux network
// namespaces joined by veth links to a bridge. Test-only (not exported from
// the package): it needs root (CAP_NET_ADMIN) and iproute2.
//
// Layout for hosts 0..N-1 of one run `<id>`:
//   namespace <id>-sw: bridge br0 with ports h0..h(N-1)
//   namespace <id>-h<i>: lo and eth0 (10.77.0.<i+1>/24), eth0 peered with h<i>
// Nothing is created in the caller's namespace, so all traffic stays inside
// the run's namespaces, and deleting them removes every link and bridge.
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PlexusCollectivesError } from '../errors.js';

const MODULE = 'testing/netns';
/** Every namespace this harness creates starts with this, then `<pid>-<random>-`. */
export const NETNS_PREFIX = 'plxn';
const NAME = new RegExp(`^${NETNS_PREFIX}-(\\d+)-([a-z0-9]+)-`);

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new PlexusCollectivesError(
            MODULE,
            'broken',
            `\`${cmd} ${args.join(' ')}\` failed: ${String(stderr).trim() || error.message}`,
            { cause: error },
          ),
        );
      } else resolve(String(stdout));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

async function killPidsIn(ns: string): Promise<void> {
  const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ''))
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function deleteNetns(names: readonly string[]): Promise<void> {
  for (const ns of names) await killPidsIn(ns);
  for (const ns of names) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
}

/**
 * Deletes the namespaces left by earlier runs of this harness whose process
 * is gone (a crashed or SIGKILLed test), with any process still inside them.
 * Namespaces of live runs (another test file at the same time) are kept.
 * Resolves to the names deleted.
 */
export async function cleanupStaleNetns(): Promise<string[]> {
  const stale = (await listNetns()).filter((ns) => {
    const m = NAME.exec(ns);
    return m !== null && !alive(Number(m[1]));
  });
  await deleteNetns(stale);
  return stale;
}

let availability: Promise<string | undefined> | undefined;

/**
 * Why network-namespace hosts cannot be made here, or `undefined` when they
 * can: needs Linux, root, iproute2, and `ip netns add` to succeed (a
 * container without CAP_NET_ADMIN refuses it). Cached per process.
 */
export function netnsUnavailableReason(): Promise<string | undefined> {
  availability ??= (async () => {
    if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
    if (process.getuid?.() !== 0) return 'needs root (ip netns add requires CAP_SYS_ADMIN)';
    const probe = `${NETNS_PREFIX}-${process.pid}-probe${randomBytes(3).toString('hex')}-x`;
    try {
      await run('ip', ['netns', 'add', probe]);
    } catch (error) {
      return `\`ip netns add\` failed (${(error as Error).message}); needs iproute2 and CAP_NET_ADMIN`;
    }
    await run('ip', ['netns', 'del', probe]).catch(() => undefined);
    return undefined;
  })();
  return availability;
}

/** Shaping of one host's link to the switch (both directions). */
export interface LinkShape {
  /** Rate limit in Mbit/s (tc tbf, or netem's rate when a delay is set). */
  rateMbit?: number;
  /** One-way added delay in ms (needs the kernel's sch_netem). */
  delayMs?: number;
  /**
   * Percent (0-100) of the host's packets dropped at random, each way
   * (nftables in the host's namespace: needs `nft` and nf_tables' numgen,
   * not sch_netem). 100 is a partition whose link stays up: no reset, no
   * error, only silence.
   */
  lossPct?: number;
}

/** Options of `createNetnsHosts`. */
export interface NetnsHostsOptions {
  /** Number of hosts (1..200). */
  hosts: number;
  /** Shaping applied to every host's link (none by default: veth speed). */
  link?: LinkShape;
}

/** One simulated host. */
export interface NetnsHost {
  readonly index: number;
  /** Network namespace name (`ip netns exec <ns> ...`). */
  readonly ns: string;
  /** IPv4 address of the host's eth0, reachable from every other host. */
  readonly address: string;
}

/** Byte counters of a host's eth0 (traffic that crossed to other hosts). */
export interface LinkBytes {
  tx: number;
  rx: number;
}

/** Hosts made by `createNetnsHosts`; `close()` must run (use try/finally). */
export interface NetnsHosts {
  /** Unique per run; the namespace names start with it. */
  readonly id: string;
  readonly hosts: readonly NetnsHost[];
  /** Starts `command` inside host `host`'s namespace; the process is killed by `close()`. */
  spawn(
    host: number,
    command: string,
    args: readonly string[],
    options?: SpawnOptions,
  ): ChildProcess;
  /** Takes host `host`'s link down (a partition: packets are dropped, no reset) or up again. */
  setLink(host: number, up: boolean): Promise<void>;
  /** Replaces the shaping of host `host`'s link (an empty shape removes it). */
  shape(host: number, shape: LinkShape): Promise<void>;
  /** Bytes sent and received on host `host`'s eth0 so far. */
  linkBytes(host: number): Promise<LinkBytes>;
  /** Packets of host `host` dropped by its current `lossPct` so far (0 without one). */
  droppedPackets(host: number): Promise<number>;
  /** Kills every process started here and deletes the namespaces (idempotent). */
  close(): Promise<void>;
}

function qdiscArgs(shape: LinkShape): string[] | undefined {
  const { rateMbit, delayMs } = shape;
  if (delayMs !== undefined) {
    return [
      'netem',
      'delay',
      `${delayMs}ms`,
      ...(rateMbit !== undefined ? ['rate', `${rateMbit}mbit`] : []),
      'limit',
      '100000',
    ];
  }
  if (rateMbit === undefined) return undefined;
  // Burst of 1 ms at the rate (at least 64 KiB, one GSO segment): a larger
  // burst would let megabyte messages pass at veth speed.
  const burst = Math.max(64 * 1024, Math.ceil((rateMbit * 1e6) / 8 / 1000));
  return ['tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burst), 'latency', '100ms'];
}

function checkShape(shape: LinkShape): void {
  for (const [k, v] of Object.entries(shape)) {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected link.${k} to be a non-negative number, got ${String(v)}`,
      );
    }
  }
  if (shape.lossPct !== undefined && shape.lossPct > 100) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected link.lossPct to be a percentage in [0, 100], got ${shape.lossPct}`,
    );
  }
}

const LOSS_TABLE = 'plexus_loss';
/** numgen draws in [0, LOSS_SCALE): a drop probability with 1e-4 % resolution. */
const LOSS_SCALE = 1_000_000;

/**
 * The nft commands that drop `lossPct` percent of what a host's eth0 sends and
 * receives (each `ip netns exec <ns> nft ...`), after removing earlier ones.
 * Filtering on eth0 leaves the host's loopback alone.
 */
function lossCommands(lossPct: number): string[][] {
  const below = Math.round((lossPct / 100) * LOSS_SCALE);
  // nft refuses a bound equal to the modulus: 100% is an unconditional drop.
  const drop =
    below >= LOSS_SCALE
      ? ['counter', 'drop']
      : ['numgen', 'random', 'mod', String(LOSS_SCALE), 'lt', String(below), 'counter', 'drop'];
  return [
    ['add', 'table', 'inet', LOSS_TABLE],
    ['delete', 'table', 'inet', LOSS_TABLE],
    ['add', 'table', 'inet', LOSS_TABLE],
    ...(
      [
        ['egress', 'output', 'oifname'],
        ['ingress', 'input', 'iifname'],
      ] as const
    ).flatMap(([chain, hook, match]) => [
      [
        'add',
        'chain',
        'inet',
        LOSS_TABLE,
        chain,
        `{ type filter hook ${hook} priority 0; policy accept; }`,
      ],
      ['add', 'rule', 'inet', LOSS_TABLE, chain, match, 'eth0', ...drop],
    ]),
  ];
}

let nftAvailability: Promise<string | undefined> | undefined;

/**
 * Why `lossPct` cannot be applied here, or `undefined` when it can: needs
 * nftables' `nft` (Debian package nftables) and a kernel with nf_tables.
 * Probed once per process in a namespace of its own.
 */
export function packetLossUnavailableReason(): Promise<string | undefined> {
  nftAvailability ??= (async () => {
    const reason = await netnsUnavailableReason();
    if (reason !== undefined) return reason;
    const probe = `${NETNS_PREFIX}-${process.pid}-probe${randomBytes(3).toString('hex')}-n`;
    try {
      await run('ip', ['netns', 'add', probe]);
      for (const cmd of lossCommands(1)) await run('ip', ['netns', 'exec', probe, 'nft', ...cmd]);
      return undefined;
    } catch (error) {
      return `packet loss needs nftables (\`nft\`, Debian package nftables) and nf_tables in the kernel: ${(error as Error).message}`;
    } finally {
      await run('ip', ['netns', 'del', probe]).catch(() => undefined);
    }
  })();
  return nftAvailability;
}

/**
 * Creates `hosts` network namespaces linked to one bridge (in a namespace
 * of its own), optionally shaped with tc. A detached watchdog deletes them
 * if this process dies without `close()` (SIGKILL included), and
 * `cleanupStaleNetns` runs first to remove what crashed runs left.
 */
export async function createNetnsHosts(options: NetnsHostsOptions): Promise<NetnsHosts> {
  const n = options.hosts;
  if (!Number.isInteger(n) || n < 1 || n > 200) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected hosts to be an integer in [1, 200], got ${String(n)}`,
    );
  }
  if (options.link) checkShape(options.link);
  const reason = await netnsUnavailableReason();
  if (reason !== undefined) {
    throw new PlexusCollectivesError(MODULE, 'invalid-argument', `cannot create hosts: ${reason}`);
  }
  await cleanupStaleNetns();
  const id = `${NETNS_PREFIX}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const sw = `${id}-sw`;
  const hosts: NetnsHost[] = Array.from({ length: n }, (_, index) => ({
    index,
    ns: `${id}-h${index}`,
    address: `10.77.${index >> 8}.${(index & 255) + 1}`,
  }));
  const all = [sw, ...hosts.map((h) => h.ns)];
  // The watchdog outlives a SIGKILL of this process and then removes the namespaces.
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; for ns in ${all.join(' ')}; do for p in $(ip netns pids $ns 2>/dev/null); do kill -9 $p; done; ip netns del $ns 2>/dev/null; done`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  const children = new Set<ChildProcess>();
  let closed = false;
  /** Hosts whose links drop packets (an nft table to remove when the loss goes). */
  const lossy = new Set<number>();
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await deleteNetns(all);
    if (watchdog.pid !== undefined && watchdog.exitCode === null) watchdog.kill('SIGKILL');
  };
  const checkHost = (host: number): NetnsHost => {
    const h = hosts[host];
    if (!h) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected a host index in [0, ${n - 1}], got ${String(host)}`,
      );
    }
    return h;
  };
  const shape = async (host: number, s: LinkShape) => {
    checkShape(s);
    const h = checkHost(host);
    const q = qdiscArgs(s);
    for (const [ns, dev] of [
      [h.ns, 'eth0'],
      [sw, `h${host}`],
    ] as const) {
      if (q) await run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', ...q]);
      else await run('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
    }
    if (s.lossPct !== undefined && s.lossPct > 0) {
      const reason = await packetLossUnavailableReason();
      if (reason !== undefined) {
        throw new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `cannot set lossPct: ${reason}`,
        );
      }
      for (const cmd of lossCommands(s.lossPct))
        await run('ip', ['netns', 'exec', h.ns, 'nft', ...cmd]);
      lossy.add(host);
    } else if (lossy.delete(host)) {
      await run('ip', ['netns', 'exec', h.ns, 'nft', 'delete', 'table', 'inet', LOSS_TABLE]);
    }
  };
  try {
    for (const ns of all) {
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
    for (const h of hosts) {
      const port = `h${h.index}`;
      await run('ip', [
        '-n',
        sw,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        h.ns,
      ]);
      await run('ip', ['-n', sw, 'link', 'set', port, 'master', 'br0']);
      await run('ip', ['-n', sw, 'link', 'set', port, 'up']);
      await run('ip', ['-n', h.ns, 'addr', 'add', `${h.address}/16`, 'dev', 'eth0']);
      await run('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up']);
      if (options.link) await shape(h.index, options.link);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    id,
    hosts,
    spawn(host, command, args, spawnOptions = {}) {
      const h = checkHost(host);
      if (closed) {
        throw new PlexusCollectivesError(MODULE, 'broken', 'spawn after close()');
      }
      const child = spawn('ip', ['netns', 'exec', h.ns, command, ...args], spawnOptions);
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    async setLink(host, up) {
      checkHost(host);
      await run('ip', ['-n', sw, 'link', 'set', `h${host}`, up ? 'up' : 'down']);
    },
    shape,
    async linkBytes(host) {
      const h = checkHost(host);
      const [info] = JSON.parse(
        await run('ip', ['-n', h.ns, '-j', '-s', 'link', 'show', 'eth0']),
      ) as { stats64: { tx: { bytes: number }; rx: { bytes: number } } }[];
      return { tx: info!.stats64.tx.bytes, rx: info!.stats64.rx.bytes };
    },
    async droppedPackets(host) {
      const h = checkHost(host);
      const listing = await run('ip', [
        'netns',
        'exec',
        h.ns,
        'nft',
        'list',
        'table',
        'inet',
        LOSS_TABLE,
      ]).catch(() => '');
      let packets = 0;
      for (const m of listing.matchAll(/counter packets (\d+)/g)) packets += Number(m[1]);
      return packets;
    },
    close,
  };
}
