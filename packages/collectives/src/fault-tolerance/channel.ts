import { connect, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import { readMessages, type StoreMessage, writeMessage } from '../store/wire.js';
import type { CoordinatorMessage, PeerMessage } from './protocol.js';
import { FT_MODULE } from './protocol.js';

type Welcome = Extract<CoordinatorMessage, { t: 'welcome' }>;

/**
 * A peer's connection to the coordinator: says hello, sends heartbeats and
 * hands every message to `onMessage`. When the connection ends, `onLost`
 * gets the reason once; nothing can be sent afterwards.
 */
export class CoordinatorChannel {
  private lost: PlexusCollectivesError | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
  ) {}

  /** Connects to `host:port`, registers as `name` and waits for the welcome (rejects after `timeoutMs`). */
  static async open(
    host: string,
    port: number,
    name: string,
    timeoutMs: number,
    onMessage: (msg: CoordinatorMessage) => void,
    onLost: (error: PlexusCollectivesError) => void,
  ): Promise<CoordinatorChannel> {
    const where = `${host}:${port}`;
    const socket = await connectRetrying(host, port, performance.now() + timeoutMs, where);
    socket.setNoDelay(true);
    let channel: CoordinatorChannel | undefined;
    return new Promise<CoordinatorChannel>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new PlexusCollectivesError(
            FT_MODULE,
            'timeout',
            `no welcome from the coordinator at ${where} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const lose = (why: string) => {
        clearTimeout(timer);
        const error = new PlexusCollectivesError(
          FT_MODULE,
          'broken',
          `connection to the coordinator at ${where} ${why}`,
        );
        if (!channel) return reject(error);
        if (channel.lost) return;
        channel.lost = error;
        clearInterval(channel.heartbeat);
        onLost(error);
      };
      socket.on('error', (e) => lose(`failed: ${e.message}`));
      socket.on('close', () => lose('closed'));
      readMessages(
        socket,
        (raw: StoreMessage) => {
          const msg = raw as unknown as CoordinatorMessage;
          if (!channel) {
            if (msg.t !== 'welcome') return;
            clearTimeout(timer);
            channel = new CoordinatorChannel(socket, msg);
            channel.heartbeat = setInterval(
              () => channel?.send({ id: 0, t: 'hb' }),
              msg.heartbeatMs,
            );
            resolve(channel);
            return;
          }
          onMessage(msg);
        },
        (reason) => {
          lose(`sent a bad message: ${reason}`);
          socket.destroy();
        },
      );
      writeMessage(socket, { id: 0, t: 'hello', name } satisfies PeerMessage);
    });
  }

  /** The reason the connection ended, if it has. */
  get failure(): PlexusCollectivesError | undefined {
    return this.lost;
  }

  /** Local address of the connection: the interface that reaches the coordinator. */
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  /** Sends one message (dropped once the connection is lost). */
  send(msg: PeerMessage): void {
    if (!this.lost && !this.socket.destroyed) writeMessage(this.socket, msg);
  }

  /** Ends the connection; `onLost` is not called for it. */
  close(): void {
    this.lost ??= new PlexusCollectivesError(FT_MODULE, 'broken', 'the group was closed');
    clearInterval(this.heartbeat);
    this.socket.end();
    this.socket.destroy();
  }
}

async function connectRetrying(
  host: string,
  port: number,
  deadline: number,
  where: string,
): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host, port });
        s.once('connect', () => {
          s.removeListener('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (error) {
      if (performance.now() > deadline) {
        throw new PlexusCollectivesError(
          FT_MODULE,
          'timeout',
          `could not reach the coordinator at ${where}: ${(error as Error).message}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
