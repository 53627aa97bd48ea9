/**
 * The echo server: a handler for {@linkcode serve}, which does the serving
 * (every connection at once, limits, deadlines, the 4-way close, shutdown).
 *
 * @module
 */

import { ConnectionRejectedError } from "../errors.ts";
import type { ProxyVersions } from "../proxy_protocol.ts";
import { type FrameServer, serve, type ServeHandler } from "../serve.ts";
import type { Listener } from "../types.ts";
import { formatAddress } from "./_address.ts";
import { describeError } from "./_describe_error.ts";
import { type EchoLog, SILENT_LOG } from "./log.ts";
import {
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNS,
  DEFAULT_MAX_FRAME,
  SHUTDOWN_GRACE_MS,
} from "./options.ts";

/**
 * Echoes queued beyond this many bytes (each frame's wire bytes plus
 * FRAME_COST) make the reader wait for the writer: a peer that sends but
 * does not read cannot grow the server's memory past it.
 */
export const ECHO_HIGH_WATER_MARK = 256 * 1024;

/** Options for {@linkcode serveEcho}. */
export interface EchoServerOptions {
  /**
   * The largest frame accepted; a larger length is logged and closes that
   * connection.
   *
   * @default {1048576}
   */
  maxFrame?: number;
  /**
   * Close a connection that moved no bytes for this many milliseconds
   * (including one stalled inside a header); `0` never does.
   *
   * @default {30000}
   */
  idleTimeoutMs?: number;
  /**
   * Close a connection whose frame is not complete this many milliseconds
   * after its first byte (a peer trickling bytes); `0` never does.
   *
   * @default {30000}
   */
  frameTimeoutMs?: number;
  /**
   * The slowest a frame may arrive once it took a second, in bytes per
   * second; `0` never checks.
   *
   * @default {0}
   */
  minRate?: number;
  /**
   * Read a PROXY protocol header first (`1`, `2` or `"any"`), and log the
   * client's address from it.
   *
   * @default {undefined}
   */
  proxyProtocol?: ProxyVersions | undefined;
  /**
   * Connections served at once; a connection beyond it is closed at once,
   * with a `[reject]` line.
   *
   * @default {1024}
   */
  maxConns?: number;
  /**
   * How long {@linkcode EchoServer.prototype.shutdown} lets open
   * connections finish before closing them, in milliseconds.
   *
   * @default {2000}
   */
  graceMs?: number;
  /**
   * Where the `[accept]`, `[done]`, `[error]` and `[reject]` lines go.
   *
   * @default {SILENT_LOG}
   */
  log?: EchoLog;
}

/** A running echo server; made by {@linkcode serveEcho}. */
export class EchoServer {
  readonly #server: FrameServer;
  readonly #log: EchoLog;
  readonly #graceMs: number;
  #stopping = false;

  /**
   * Starts serving; use {@linkcode serveEcho}.
   *
   * @param listener Where connections come from; the server owns it.
   * @param options Limits and the log.
   */
  constructor(listener: Listener, options: EchoServerOptions = {}) {
    const log = options.log ?? SILENT_LOG;
    const maxConns = options.maxConns ?? DEFAULT_MAX_CONNS;
    const maxFrameSize = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#log = log;
    this.#graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
    this.#server = serve(listener, echoHandler(log), {
      maxFrameSize,
      highWaterMark: ECHO_HIGH_WATER_MARK,
      maxConnections: maxConns,
      idleTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      frameTimeout: options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
      minReceiveRate: options.minRate ?? 0,
      proxyProtocol: options.proxyProtocol,
      onError(error, { remoteAddr }) {
        if (remoteAddr === undefined) {
          log.error(`[error] accept ${describeError(error)}`);
          return;
        }
        const peer = formatAddress(remoteAddr);
        if (error instanceof ConnectionRejectedError) {
          log.error(
            error.reason === "max-connections"
              ? `[reject] peer=${peer} too many connections: --max-conns ${maxConns} reached`
              : `[reject] peer=${peer} shutting down`,
          );
        } else log.error(`[error] peer=${peer} ${describeError(error)}`);
      },
    });
  }

  /** The address the server listens on, with the real port. */
  get addr(): Listener["addr"] {
    return this.#server.addr;
  }

  /** How many connections are being served. */
  get connections(): number {
    return this.#server.sessions;
  }

  /**
   * Settles once the server has stopped accepting and every connection is
   * closed.
   */
  get finished(): Promise<void> {
    return this.#server.finished;
  }

  /**
   * Stops accepting, lets open connections finish for the grace period,
   * then closes the rest (each logged as `ABORTED`). Calling it again
   * during the grace period closes the rest at once.
   *
   * @returns A promise that settles once every connection is closed.
   */
  shutdown(): Promise<void> {
    if (this.#stopping) return this.#server.shutdown({ gracePeriod: 0 });
    this.#stopping = true;
    this.#log.info(
      `[shutdown] stopped accepting; ${this.connections} open connections get ${this.#graceMs} ms to finish`,
    );
    return this.#server.shutdown({ gracePeriod: this.#graceMs });
  }
}

/**
 * One connection of the echo server: `[accept]`, every frame echoed as soon
 * as it arrived (frames read while a write is in flight go out together in
 * the next write; a full queue makes the reader wait), then at the peer's FIN the echoes still queued,
 * our FIN, and `[done]`.
 */
function echoHandler(log: EchoLog): ServeHandler {
  return async ({ reader, writer, remoteAddr }) => {
    const peer = formatAddress(remoteAddr);
    log.info(`[accept] peer=${peer}`);
    let frames = 0;
    let bytes = 0;
    for await (const frame of reader) {
      await writer.write(frame);
      frames++;
      bytes += frame.byteLength;
    }
    await writer.close();
    log.info(`[done] peer=${peer} echoed ${bytes} bytes in ${frames} frames`);
  };
}

/**
 * Serves echoes on `listener` until {@linkcode EchoServer.prototype.shutdown}:
 * every connection at once; every frame echoed as soon as it has arrived
 * (frames that arrive together are echoed in one write); at the peer's
 * half-close the remaining echoes are sent, then the server half-closes and
 * closes: the 4-way close. A connection's error (reset, oversize length,
 * truncated frame, idle or frame timeout) is logged as
 * `[error] peer=<addr> <code>: <message>` and closes that connection only.
 *
 * @param listener Where connections come from; the server closes it on
 * shutdown.
 * @param options Limits and the log.
 * @returns The running server.
 */
export function serveEcho(
  listener: Listener,
  options?: EchoServerOptions,
): EchoServer {
  return new EchoServer(listener, options);
}
