import type { Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import { readMessages, type StoreMessage, writeMessage } from '../store/wire.js';
import { connectOnce, retryUntil } from '../transport/connect-retry.js';
import { isNonce, newNonce, proof, proofMatches, type Secret } from './auth.js';
import type { CoordinatorMessage, PeerMessage } from './protocol.js';
import { FT_MODULE } from './protocol.js';
import { coordinatorAuthError } from './secret.js';

type Welcome = Extract<CoordinatorMessage, { t: 'welcome' }>;

/**
 * A peer's connection to the coordinator: answers its challenge (with an
 * HMAC proof when there is a secret, and checks the coordinator's), sends
 * heartbeats and hands every message to `onMessage`. When the connection
 * ends, `onLost` gets the reason once; nothing can be sent afterwards.
 */
export class CoordinatorChannel {
  private lost: PlexusCollectivesError | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
  ) {}

  /**
   * Connects to `host:port`, registers as `name` and waits for the welcome
   * (rejects after `timeoutMs`). Authentication failures reject at once with
   * `coordinatorAuthError`: a coordinator that requires a secret this peer
   * lacks or refuses its proof, or (when this peer has a secret) one that
   * has none or cannot prove it.
   */
  static async open(
    host: string,
    port: number,
    name: string,
    secret: Secret | undefined,
    timeoutMs: number,
    onMessage: (msg: CoordinatorMessage) => void,
    onLost: (error: PlexusCollectivesError) => void,
  ): Promise<CoordinatorChannel> {
    const where = `${host}:${port}`;
    const socket = await retryUntil(
      () => connectOnce(host, port),
      performance.now() + timeoutMs,
      FT_MODULE,
      `could not reach the coordinator at ${where}`,
    );
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
      const refuse = (why: string) => {
        clearTimeout(timer);
        socket.destroy();
        reject(coordinatorAuthError(where, why));
      };
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
          if (channel) return onMessage(msg);
          if (msg.t === 'challenge') {
            if (!isNonce(msg.nonce)) {
              return refuse('malformed challenge from the coordinator');
            }
            if (secret !== undefined && msg.auth !== true) {
              // Proving the secret to a coordinator that cannot check it would only help an impostor.
              return refuse(
                'the coordinator did not prove the shared secret: it was started without one (give it the same secret, or PLEXUS_COLLECTIVES_SECRET)',
              );
            }
            const hello: PeerMessage = { id: 0, t: 'hello', name, nonce };
            if (secret !== undefined) hello.proof = proof(secret, 'peer', msg.nonce);
            writeMessage(socket, hello);
            return;
          }
          if (msg.t === 'refuse') {
            const said = String(msg.message).slice(0, 200);
            return refuse(
              secret === undefined
                ? `the coordinator requires a shared secret and none was given (option secret, or PLEXUS_COLLECTIVES_SECRET); it said: ${said}`
                : `the coordinator refused this peer (${said}); wrong shared secret?`,
            );
          }
          if (msg.t !== 'welcome') return;
          if (secret !== undefined && !proofMatches(secret, 'coordinator', nonce, msg.proof)) {
            return refuse('the coordinator did not prove the shared secret (wrong secret?)');
          }
          clearTimeout(timer);
          channel = new CoordinatorChannel(socket, msg);
          channel.heartbeat = setInterval(() => channel?.send({ id: 0, t: 'hb' }), msg.heartbeatMs);
          resolve(channel);
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
