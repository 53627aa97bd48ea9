/**
 * The echo server: every connection served at once, each frame echoed as
 * soon as it has arrived.
 *
 * @module
 */

import {
  AbortedError,
  ConnectionClosedError,
  normalizeError,
} from "../errors.ts";
import type { Conn, Listener } from "../types.ts";
import { formatAddress } from "./_address.ts";
import { describeError } from "./_describe_error.ts";
import { EchoSession } from "./_session.ts";
import { type EchoLog, SILENT_LOG } from "./log.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNS,
  DEFAULT_MAX_FRAME,
  SHUTDOWN_GRACE_MS,
} from "./options.ts";

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

type State = "serving" | "draining" | "stopped";

/** A running echo server; made by {@linkcode serveEcho}. */
export class EchoServer {
  readonly #listener: Listener;
  readonly #log: EchoLog;
  readonly #maxConns: number;
  readonly #graceMs: number;
  readonly #sessionOptions: {
    maxFrame: number;
    idleTimeoutMs: number;
    log: EchoLog;
  };
  readonly #sessions = new Map<EchoSession, Promise<void>>();
  readonly #finished: Promise<void>;
  #state: State = "serving";

  /**
   * Starts serving; use {@linkcode serveEcho}.
   *
   * @param listener Where connections come from; the server owns it.
   * @param options Limits and the log.
   */
  constructor(listener: Listener, options: EchoServerOptions = {}) {
    this.#listener = listener;
    this.#log = options.log ?? SILENT_LOG;
    this.#maxConns = options.maxConns ?? DEFAULT_MAX_CONNS;
    this.#graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
    this.#sessionOptions = {
      maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      log: this.#log,
    };
    this.#finished = this.#serve();
  }

  /** The address the server listens on, with the real port. */
  get addr(): Listener["addr"] {
    return this.#listener.addr;
  }

  /** How many connections are being served. */
  get connections(): number {
    return this.#sessions.size;
  }

  /**
   * Settles once the server has stopped accepting and every connection is
   * closed.
   */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /**
   * Stops accepting, lets open connections finish for the grace period,
   * then closes the rest (each logged as `ABORTED`). Calling it again
   * during the grace period closes the rest at once.
   *
   * @returns A promise that settles once every connection is closed.
   */
  async shutdown(): Promise<void> {
    if (this.#state === "serving") {
      this.#state = "draining";
      this.#log.info(
        `[shutdown] stopped accepting; ${this.#sessions.size} open connections get ${this.#graceMs} ms to finish`,
      );
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      const timer = setTimeout(() => this.#abortAll(), this.#graceMs);
      try {
        await this.#finished;
      } finally {
        clearTimeout(timer);
      }
    } else if (this.#state === "draining") {
      this.#abortAll();
    }
    await this.#finished;
  }

  #abortAll(): void {
    for (const session of this.#sessions.keys()) {
      session.abort(new AbortedError("Server shutting down"));
    }
  }

  async #serve(): Promise<void> {
    await this.#acceptLoop();
    while (this.#sessions.size > 0) {
      await Promise.all(this.#sessions.values());
    }
    this.#state = "stopped";
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        const mapped = normalizeError(error);
        if (
          this.#state !== "serving" || mapped instanceof ConnectionClosedError
        ) {
          return;
        }
        // Out of file descriptors and the like: log, pause, go on.
        this.#log.error(`[error] accept ${describeError(mapped)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Conn): void {
    const peer = formatAddress(conn.remoteAddr);
    if (this.#state !== "serving" || this.#sessions.size >= this.#maxConns) {
      this.#log.error(
        this.#state === "serving"
          ? `[reject] peer=${peer} too many connections: --max-conns ${this.#maxConns} reached`
          : `[reject] peer=${peer} shutting down`,
      );
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      return;
    }
    try {
      // Echoes are written whole (one write per batch): no reason to let
      // Nagle's algorithm hold them back. Set before any I/O starts.
      conn.setNoDelay?.(true);
    } catch {
      // Not every Conn has TCP_NODELAY; it is an optimisation only.
    }
    this.#log.info(`[accept] peer=${peer}`);
    const session = new EchoSession(conn, this.#sessionOptions);
    this.#sessions.set(
      session,
      session.run().finally(() => this.#sessions.delete(session)),
    );
  }
}

/**
 * Serves echoes on `listener` until {@linkcode EchoServer.prototype.shutdown}:
 * every connection at once; every frame echoed as soon as it has arrived
 * (frames that arrive together are echoed in one write); at the peer's
 * half-close the remaining echoes are sent, then the server half-closes and
 * closes: the 4-way close. A connection's error (reset, oversize length,
 * truncated frame, idle timeout) is logged as
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
