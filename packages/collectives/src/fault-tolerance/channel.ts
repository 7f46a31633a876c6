import { connect, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import { readMessages, type StoreMessage, writeMessage } from '../store/wire.js';
import { newNonce, proof, proofMatches, type Secret } from './auth.js';
import type { CoordinatorMessage, PeerMessage } from './protocol.js';
import { FT_MODULE } from './protocol.js';

type Welcome = Extract<CoordinatorMessage, { t: 'welcome' }>;

/**
 * A peer's connection to the coordinator: answers its challenge (with an
 * HMAC proof when there is a secret, and checks the coordinator's), sends heartbeats and
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

  /**
   * Connects to `host:port`, runs `beforeHello` with the port of the
   * coordinator's store (so the peer is ready before it can be admitted),
   * registers as `name` and waits for the welcome (rejects after `timeoutMs`).
   */
  static async open(
    host: string,
    port: number,
    name: string,
    secret: Secret | undefined,
    timeoutMs: number,
    onMessage: (msg: CoordinatorMessage) => void,
    onLost: (error: PlexusCollectivesError) => void,
    beforeHello: (storePort: number) => Promise<void>,
  ): Promise<CoordinatorChannel> {
    const where = `${host}:${port}`;
    const socket = await connectRetrying(host, port, performance.now() + timeoutMs, where);
    socket.setNoDelay(true);
    let channel: CoordinatorChannel | undefined;
    const nonce = newNonce();
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
            if (msg.t === 'challenge') {
              const hello: PeerMessage = { id: 0, t: 'hello', name, nonce };
              if (secret !== undefined) hello.proof = proof(secret, 'peer', msg.nonce);
              beforeHello(msg.storePort).then(
                () => {
                  if (!socket.destroyed) writeMessage(socket, hello);
                },
                (error: unknown) => {
                  socket.destroy();
                  clearTimeout(timer);
                  reject(error);
                },
              );
              return;
            }
            if (msg.t !== 'welcome') return;
            if (secret !== undefined && !proofMatches(secret, 'coordinator', nonce, msg.proof)) {
              lose('did not prove the shared secret');
              socket.destroy();
              return;
            }
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
