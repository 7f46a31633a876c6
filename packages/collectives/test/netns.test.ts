// Multi-host tests on hosts of our own: network namespaces joined by veth
// links to a bridge (src/testing/netns.ts), 2 hosts x 2 ranks, each rank a
// Node process inside its host's namespace, rendezvous through rank 0's TCP
// store on host 0. Needs root and iproute2; skipped with the reason otherwise.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupStaleNetns,
  createNetnsHosts,
  NETNS_PREFIX,
  type NetnsHosts,
  netnsUnavailableReason,
  packetLossUnavailableReason,
} from '../src/testing/netns.js';
import { NETNS_CASES, type NetnsArray, netnsDecode, netnsInput } from './fixtures/netns-cases.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const worker = join(pkg, 'test/fixtures/netns-worker.ts');
const HOSTS = 2;
const RANKS_PER_HOST = 2;
const WORLD = HOSTS * RANKS_PER_HOST;
const hostOf = Array.from({ length: WORLD }, (_, r) => Math.floor(r / RANKS_PER_HOST));

const unavailable = await netnsUnavailableReason();
if (unavailable) console.warn(`network-namespace multi-host tests skipped: ${unavailable}`);
const lossUnavailable = unavailable ?? (await packetLossUnavailableReason());
if (lossUnavailable && !unavailable) console.warn(`packet-loss tests skipped: ${lossUnavailable}`);
/** Every host's link: 1 Gbit/s each way. */
const LINK = { rateMbit: 1000 } as const;
/** Random loss of the lossy-link test, in percent of packets each way. */
const LOSSY_PCT = 5;

function netnsNames(): string[] {
  return execFileSync('ip', ['netns', 'list'])
    .toString()
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '');
}

interface Rank {
  child: ChildProcess;
  lines: string[];
  exit: Promise<number | null>;
}

/** Starts one worker per rank in its host's namespace, with torchrun's variables. */
function startRanks(net: NetnsHosts, port: number, args: string[]): Rank[] {
  return Array.from({ length: WORLD }, (_, rank) => {
    const child = net.spawn(hostOf[rank]!, process.execPath, ['--import', 'tsx', worker, ...args], {
      cwd: pkg,
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(WORLD),
        LOCAL_RANK: String(rank % RANKS_PER_HOST),
        LOCAL_WORLD_SIZE: String(RANKS_PER_HOST),
        MASTER_ADDR: net.hosts[0]!.address,
        MASTER_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, lines, exit };
  });
}

async function until(what: string, deadlineMs: number, pred: () => boolean): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!pred()) {
    if (performance.now() > end)
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sequential reference of one case on `rank`, from every rank's input. */
function reference(c: (typeof NETNS_CASES)[number], rank: number): NetnsArray {
  const inputs = Array.from({ length: WORLD }, (_, r) => netnsInput(c, r));
  if (c.kind === 'broadcast') return inputs[c.root]!;
  if (c.kind === 'allToAll') {
    const chunk = c.length / WORLD;
    const out = inputs[0]!.slice();
    for (let src = 0; src < WORLD; src++) {
      out.set(inputs[src]!.subarray(rank * chunk, (rank + 1) * chunk), src * chunk);
    }
    return out;
  }
  const out = inputs[0]!.slice();
  for (let i = 0; i < c.length; i++) {
    let acc = inputs[0]![i]!;
    for (let r = 1; r < WORLD; r++) {
      const x = inputs[r]![i]!;
      acc = c.op === 'max' ? Math.max(acc, x) : c.op === 'min' ? Math.min(acc, x) : acc + x;
    }
    out[i] = c.op === 'avg' ? acc / WORLD : acc;
  }
  return out;
}

describe('the namespace harness', () => {
  it.skipIf(unavailable !== undefined)(
    "removes namespaces of dead runs, and a SIGKILLed owner's through its watchdog",
    async () => {
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((r) => dead.on('exit', r));
      const stale = `${NETNS_PREFIX}-${dead.pid}-deadbeef-h0`;
      execFileSync('ip', ['netns', 'add', stale]);
      expect(await cleanupStaleNetns()).toContain(stale);
      expect(netnsNames()).not.toContain(stale);

      const owner = spawn(
        process.execPath,
        ['--import', 'tsx', join(pkg, 'test/fixtures/netns-owner.ts')],
        { cwd: pkg, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const lines: string[] = [];
      createInterface({ input: owner.stdout! }).on('line', (l) => lines.push(l));
      await until('the owner to create its hosts', 20_000, () => lines.length > 0);
      const id = lines[0]!.replace(/^ID /, '');
      expect(netnsNames().filter((n) => n.startsWith(id))).toHaveLength(HOSTS + 1);
      owner.kill('SIGKILL');
      await until('the watchdog to delete the namespaces', 10_000, () =>
        netnsNames().every((n) => !n.startsWith(id)),
      );
    },
    40_000,
  );
});

describe.skipIf(unavailable !== undefined)(
  'TCP process group across network-namespace hosts (2 hosts x 2 ranks, 1 Gbit/s links)',
  () => {
    let net: NetnsHosts;
    beforeAll(async () => {
      net = await createNetnsHosts({ hosts: HOSTS, link: LINK });
    });
    afterAll(async () => {
      if (!net) return;
      await net.close();
      expect(netnsNames().filter((n) => n.startsWith(net.id))).toEqual([]);
    });

    /** Runs every case on every rank and checks each result against its sequential reference. */
    async function runCases(port: number): Promise<void> {
      const out = mkdtempSync(join(tmpdir(), 'plexus-netns-'));
      try {
        const before = await Promise.all(net.hosts.map((h) => net.linkBytes(h.index)));
        const ranks = startRanks(net, port, ['cases', out, JSON.stringify(hostOf)]);
        const codes = await Promise.all(ranks.map((r) => r.exit));
        expect(codes).toEqual([0, 0, 0, 0]);
        const after = await Promise.all(net.hosts.map((h) => net.linkBytes(h.index)));
        for (let rank = 0; rank < WORLD; rank++) {
          const summary = JSON.parse(readFileSync(join(out, `rank${rank}.json`), 'utf8'));
          // Each rank listens on its own host's address: peers on the other host go over the veth link.
          expect(summary.address.host).toBe(net.hosts[hostOf[rank]!]!.address);
          expect(summary.chosen[6]).toBe('ho-ring');
          expect(summary.chosen[11]).toBe('tree');
          for (const c of NETNS_CASES) {
            const got = netnsDecode(
              c.dtype,
              readFileSync(join(out, `rank${rank}-case${c.id}.bin`)),
            );
            const want = reference(c, rank);
            const where = `case ${c.id} (${c.kind} ${c.algorithm} ${c.op} ${c.dtype} x${c.length}) on rank ${rank}`;
            expect(got.length, where).toBe(want.length);
            // Integer-valued inputs: every algorithm must match bit for bit.
            for (let i = 0; i < want.length; i++) {
              if (got[i] !== want[i])
                expect.fail(`${where}: element ${i} is ${got[i]}, expected ${want[i]}`);
            }
          }
        }
        // Every ring / HO-Ring all-reduce of N bytes sends at least N bytes out of each host.
        const crossing = NETNS_CASES.filter(
          (c) => c.kind === 'allReduce' && c.algorithm !== 'auto',
        ).reduce((s, c) => s + c.length * (c.dtype === 'f64' ? 8 : 4), 0);
        for (let h = 0; h < HOSTS; h++) {
          expect(after[h]!.tx - before[h]!.tx).toBeGreaterThan(crossing);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }

    /**
     * Starts ranks that all-reduce until a call fails, partitions host 1 with
     * `cut` once each finished one, and checks that every rank fails with a
     * typed error within the timeout; `heal` undoes the cut.
     */
    async function partitionFailsEveryRank(
      port: number,
      cut: () => Promise<void>,
      heal: () => Promise<void>,
    ): Promise<void> {
      const timeoutMs = 3_000;
      const ranks = startRanks(net, port, ['partition', String(timeoutMs)]);
      try {
        await until('every rank to finish one all-reduce', 40_000, () =>
          ranks.every((r) => r.lines.includes('first allReduce done')),
        );
        const cutAt = performance.now();
        await cut();
        // Generous slack over the timeout for a loaded 2-core machine; a hang never reports.
        await until('every rank to report its failure', timeoutMs + 7_000, () =>
          ranks.every((r) => r.lines.some((l) => l.startsWith('RESULT '))),
        );
        const elapsed = performance.now() - cutAt;
        for (const [rank, r] of ranks.entries()) {
          const result = JSON.parse(r.lines.find((l) => l.startsWith('RESULT '))!.slice(7));
          expect(result.isInstance, `rank ${rank}`).toBe(true);
          expect(['timeout', 'broken'], `rank ${rank}: ${result.message}`).toContain(result.code);
          expect(result.message).toMatch(
            /^@plexus\/collectives\/process-group: allReduce on rank \d failed/,
          );
          expect(result.callMs, `rank ${rank}`).toBeLessThan(timeoutMs + 3_000);
        }
        expect(elapsed).toBeLessThan(timeoutMs + 6_000);
        expect(await Promise.all(ranks.map((r) => r.exit))).toEqual([0, 0, 0, 0]);
      } finally {
        for (const r of ranks) if (r.child.exitCode === null) r.child.kill('SIGKILL');
        await heal();
      }
    }

    it('all-reduce (ring, HO-Ring, auto), all-to-all and broadcast match sequential references', async () => {
      await runCases(29_500);
    }, 60_000);

    it('a link cut between hosts mid-all-reduce makes every rank fail with a typed error within the timeout', async () => {
      await partitionFailsEveryRank(
        29_501,
        () => net.setLink(1, false),
        () => net.setLink(1, true),
      );
    }, 60_000);

    it.skipIf(lossUnavailable !== undefined)(
      `with ${LOSSY_PCT}% of host 1's packets dropped each way, every result still matches its reference`,
      async () => {
        await net.shape(1, { ...LINK, lossPct: LOSSY_PCT });
        try {
          await runCases(29_502);
          // The loss was real: TCP recovered from dropped packets (about 70 in a run here).
          expect(await net.droppedPackets(1)).toBeGreaterThan(10);
        } finally {
          await net.shape(1, LINK);
        }
      },
      90_000,
    );

    it.skipIf(lossUnavailable !== undefined)(
      'a link that stays up but drops every packet (no reset, no error) makes every rank fail with a typed error within the timeout',
      async () => {
        await partitionFailsEveryRank(
          29_503,
          () => net.shape(1, { ...LINK, lossPct: 100 }),
          () => net.shape(1, LINK),
        );
      },
      60_000,
    );
  },
);
