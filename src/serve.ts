/**
 * {@linkcode serve}: a framed server for your own protocol, on any
 * {@linkcode Listener}: `Deno.listen()`, `Deno.listenTls()`, a Unix socket
 * listener, or the Node adapter's `listen()`.
 *
 * You write the handler of one connection; the server does the rest: every
 * connection served at once, a cap on them, idle and trickling peers closed,
 * the PROXY header of a load balancer, errors reported and contained, the
 * 4-way close, and a graceful shutdown.
 *
 * @module
 */

import { checkProxyOptions } from "./_proxy_decoder.ts";
import type { AnyAddr } from "./_session_conn.ts";
import {
  RATE_WINDOW_MS,
  ServerSession,
  type SessionSettings,
} from "./_session.ts";
import {
  AbortedError,
  ConnectionClosedError,
  ConnectionRejectedError,
  normalizeError,
  TcpFrameError,
} from "./errors.ts";
import { FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
import { FrameWriter, type FrameWriterOptions } from "./frame_writer.ts";
import {
  DEFAULT_MAX_PROXY_HEADER_BYTES,
  type ProxyHeader,
  type ProxyVersions,
} from "./proxy_protocol.ts";
import type { Conn, Listener, NetAddr, UnixAddr } from "./types.ts";

/**
 * One connection, as the handler of {@linkcode serve} sees it.
 *
 * Read frames from `reader`, write frames to `writer`; stop when `signal`
 * aborts (the server then closes the connection anyway). When the handler
 * returns, the server flushes `writer`, half-closes, and waits (bounded) for
 * the peer's FIN before it closes: return once your last reply is written.
 *
 * @example A request/response handler
 * ```ts
 * import type { FrameSession } from "@tcpframe/tcpframe";
 *
 * // Replies to every frame with its length as one byte (mod 256).
 * export async function handler({ reader, writer }: FrameSession) {
 *   for await (const frame of reader) {
 *     await writer.write(new Uint8Array([frame.byteLength & 0xff]));
 *   }
 * }
 * ```
 */
export interface FrameSession {
  /** The connection's frames, with the server's layout and cap. */
  readonly reader: FrameReader;
  /**
   * The connection's write side, with the server's layout and
   * `highWaterMark`; closed (flushed, then FIN) by the server when the
   * handler returns.
   */
  readonly writer: FrameWriter;
  /**
   * The connection, for what the reader and writer do not cover
   * (`setNoDelay()`, addresses). Its writes take turns with `writer`'s; do
   * not read from it: `reader` owns the read side. Closing it ends the
   * session at once, without flushing `writer` or the 4-way close.
   */
  readonly conn: Conn;
  /**
   * The peer: the client's address from the PROXY header when the server
   * reads one (and it carries addresses), else the connection's.
   */
  readonly remoteAddr: NetAddr | UnixAddr | { transport: string };
  /** The PROXY header, when the server reads one. */
  readonly proxyHeader: ProxyHeader | undefined;
  /**
   * Aborts when the session must stop: a deadline passed (the reason is a
   * {@linkcode TimeoutError}), the server's grace period ended
   * ({@linkcode AbortedError}), or the session closed. Pending reads and
   * writes then reject with the same reason.
   */
  readonly signal: AbortSignal;
}

/**
 * The handler {@linkcode serve} calls for each connection.
 *
 * @example A handler that greets and returns
 * ```ts
 * import type { ServeHandler } from "@tcpframe/tcpframe";
 *
 * const hello: ServeHandler = async ({ writer }) => {
 *   await writer.write(new TextEncoder().encode("hello"));
 * };
 * void hello;
 * ```
 */
export type ServeHandler = (session: FrameSession) => void | Promise<void>;

/**
 * What {@linkcode ServeOptions.onError} is told besides the error.
 *
 * @example Log the peer of every error
 * ```ts
 * import type { ServeErrorInfo } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const info: ServeErrorInfo = {
 *   remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
 * };
 * assert.equal(info.remoteAddr?.transport, "tcp");
 * ```
 */
export interface ServeErrorInfo {
  /**
   * The peer (the PROXY header's client once it was read); `undefined` for
   * an error of the listener itself (`accept()` failed: out of file
   * descriptors, say).
   */
  remoteAddr: NetAddr | UnixAddr | { transport: string } | undefined;
}

/**
 * Options for {@linkcode serve}: the frame layout, the reader's and the
 * writer's options (shared by every connection), and the server's limits.
 * Durations are in milliseconds; `0` turns a deadline off.
 *
 * @example A server for a DNS-style layout with tighter limits
 * ```ts
 * import type { ServeOptions } from "@tcpframe/tcpframe";
 *
 * const options: ServeOptions = {
 *   lengthFieldLength: 2,
 *   maxFrameSize: 65_535,
 *   maxConnections: 256,
 *   idleTimeout: 10_000,
 *   frameTimeout: 5_000,
 *   minReceiveRate: 1024,
 *   keepAlive: true,
 *   onError: (error, { remoteAddr }) => console.error(remoteAddr, error),
 * };
 * void options;
 * ```
 */
export interface ServeOptions extends FrameReaderOptions, FrameWriterOptions {
  /**
   * Connections served at once. A connection beyond it is closed at once,
   * unread, and reported to `onError` as a {@linkcode ConnectionRejectedError}
   * (`reason: "max-connections"`). A positive integer or `Infinity`.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Close a connection that moved no byte either way for this long: a
   * silent peer, a peer that stopped reading the replies, or a handler that
   * waits on something else. Reported as a {@linkcode TimeoutError}.
   *
   * @default {30000}
   */
  idleTimeout?: number;
  /**
   * Close a connection whose frame is not complete this long after its
   * first byte arrived (counting only the time the reader waited for the
   * peer): a peer that trickles a byte now and then is closed like a silent
   * one. Reported as a {@linkcode TimeoutError}.
   *
   * @default {30000}
   */
  frameTimeout?: number;
  /**
   * The slowest a frame may arrive, in bytes per second, once it has been
   * waited for a second: the bytes of the frame so far divided by the time
   * the reader waited for them. For large frames over slow links, with a
   * longer `frameTimeout`. `0` never checks.
   *
   * @default {0}
   */
  minReceiveRate?: number;
  /**
   * After the handler returned and the server's FIN is out, how long to
   * wait for the peer's FIN before closing anyway (closing earlier could
   * reset the connection before the peer read the last replies).
   *
   * @default {5000}
   */
  closeTimeout?: number;
  /**
   * Turn Nagle's algorithm off on every connection (the writer already
   * batches frames; Nagle would only delay replies).
   *
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * Turn TCP keepalive probes on (`true`) or off (`false`) on every
   * connection that has them (`setKeepAlive()`: Deno's TCP connections and
   * the Node adapter's); `undefined` leaves the system's setting (off).
   *
   * @default {undefined}
   */
  keepAlive?: boolean | undefined;
  /**
   * Read a PROXY protocol header (HAProxy's `send-proxy`/`send-proxy-v2`)
   * before the first frame: `1`, `2` or `"any"`. A connection without a
   * valid header is closed and reported as a {@linkcode ProxyHeaderError}
   * (or {@linkcode UnexpectedEofError}, {@linkcode TimeoutError}); the
   * session's `remoteAddr` is the client's. Turn it on only behind
   * balancers that send it, and do not let clients reach the server
   * directly: the header decides the address.
   *
   * @default {undefined}
   */
  proxyProtocol?: ProxyVersions | undefined;
  /**
   * The deadline for the whole PROXY header, from the connection's start.
   *
   * @default {5000}
   */
  proxyHeaderTimeout?: number;
  /**
   * The largest PROXY header accepted (v2; a v1 line is at most 107 bytes).
   *
   * @default {4096}
   */
  maxProxyHeaderBytes?: number;
  /**
   * Called with every error of a session (a handler that threw, a reset, a
   * bad frame, a deadline, a rejected connection) and every failed
   * `accept()`, with the peer. It never stops the server or another
   * session; an exception it throws is dropped. The default logs errors
   * that are not {@linkcode TcpFrameError}s (bugs in a handler) with
   * `console.error` and drops the peers' own failures.
   *
   * @default {undefined}
   */
  onError?: ((error: unknown, info: ServeErrorInfo) => void) | undefined;
  /**
   * Shuts the server down when it aborts, as
   * {@linkcode FrameServer.shutdown} with the default grace period.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}

/**
 * Options for {@linkcode FrameServer.shutdown}.
 *
 * @example Give open sessions one second
 * ```ts
 * import type { ShutdownOptions } from "@tcpframe/tcpframe";
 *
 * const options: ShutdownOptions = { gracePeriod: 1000 };
 * void options;
 * ```
 */
export interface ShutdownOptions {
  /**
   * How long open sessions may go on before they are aborted, in
   * milliseconds; `0` aborts them at once.
   *
   * @default {5000}
   */
  gracePeriod?: number;
}

/**
 * A running server, as {@linkcode serve} returns it.
 *
 * @example Stop a server with `await using`
 * ```ts
 * import { serve } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * {
 *   await using server = serve(
 *     Deno.listen({ hostname: "127.0.0.1", port: 0 }),
 *     () => {},
 *   );
 *   assert.equal(server.sessions, 0);
 * } // shut down here
 * ```
 */
export interface FrameServer extends AsyncDisposable {
  /** The address the listener is bound to: the real port, or the path. */
  readonly addr: NetAddr | UnixAddr | { transport: string };
  /** How many connections are open (handlers running or closing). */
  readonly sessions: number;
  /**
   * Resolves once the server stopped accepting and every session closed;
   * never rejects.
   */
  readonly finished: Promise<void>;
  /**
   * Stops accepting (closes the listener), lets open sessions finish
   * within the grace period, then aborts the rest through their `signal`
   * and closes them. Calling it again with a shorter grace period shortens
   * it (`{ gracePeriod: 0 }` aborts at once).
   *
   * @param options The grace period.
   * @returns {@linkcode FrameServer.finished}.
   * @throws {RangeError} The grace period is negative or not a number.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /**
   * Shuts down with the default grace period.
   *
   * @returns {@linkcode FrameServer.finished}.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_IDLE_TIMEOUT = 30_000;
const DEFAULT_FRAME_TIMEOUT = 30_000;
const DEFAULT_CLOSE_TIMEOUT = 5_000;
const DEFAULT_PROXY_HEADER_TIMEOUT = 5_000;
const DEFAULT_GRACE_PERIOD = 5_000;
/** The largest delay `setTimeout` honours. */
const MAX_DELAY = 0x7fff_ffff;
/** How long the accept loop pauses after `accept()` failed (EMFILE). */
const ACCEPT_RETRY_MS = 100;

/**
 * Serves framed connections from `listener` with `handler`, one session per
 * connection, all at once, until {@linkcode FrameServer.shutdown}.
 *
 * For each connection the server (in this order):
 * 1. turns it away (closed, unread, reported) beyond `maxConnections`;
 * 2. sets `TCP_NODELAY` and keepalive as configured;
 * 3. reads the PROXY header, when `proxyProtocol` is set;
 * 4. calls `handler` with a {@linkcode FrameSession}: a
 *    {@linkcode FrameReader} and a {@linkcode FrameWriter} on the
 *    connection, the peer's address and a `signal`;
 * 5. when the handler returns, flushes the writer, half-closes (FIN), waits
 *    up to `closeTimeout` for the peer's FIN, and closes: the 4-way close.
 *
 * A handler that throws, a peer that resets or sends a bad frame, and a
 * deadline that passes (`idleTimeout`, `frameTimeout`, `minReceiveRate`,
 * `proxyHeaderTimeout`) close that session only, and are reported to
 * `onError` with the peer's address.
 *
 * Memory a peer can make the server hold, per connection: the read buffer
 * (`readBufferSize`, 64 KiB), one frame being received (up to
 * `maxFrameSize`, 1 MiB), the writer's queue (`highWaterMark`, 128 KiB,
 * plus one frame) and two batch buffers (`maxBatchBytes`, 64 KiB each):
 * about 2.4 MiB with the defaults, plus what your handler keeps. In total,
 * `maxConnections` times that (2.4 GiB for 1024 connections at the worst):
 * lower `maxFrameSize` or `maxConnections` to fit your memory. An idle
 * connection costs its read buffer.
 *
 * @param listener Where connections come from: `Deno.listen()`,
 * `Deno.listenTls()`, `Deno.listen({ transport: "unix" })`, the Node
 * adapter's `listen()`, any {@linkcode Listener}. The server closes it on
 * shutdown.
 * @param handler Serves one connection.
 * @param options The frame layout and the limits.
 * @returns The running server.
 * @throws {TypeError} `listener` or `handler` is not one, or the layout
 * cannot be written (decode-only).
 * @throws {RangeError} An option is out of range.
 *
 * @example A key-value server and its client
 * ```ts
 * import { FrameReader, serve, writeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const text = new TextEncoder();
 * const store = new Map<string, string>();
 * // "set key value" or "get key", one request per frame.
 * const server = serve(
 *   Deno.listen({ hostname: "127.0.0.1", port: 0 }),
 *   async ({ reader, writer }) => {
 *     for await (const frame of reader) {
 *       const [op, key = "", value = ""] = new TextDecoder().decode(frame).split(" ");
 *       if (op === "set") store.set(key, value);
 *       await writer.write(text.encode(store.get(key) ?? ""));
 *     }
 *   },
 *   { maxFrameSize: 4096, idleTimeout: 5000 },
 * );
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: (server.addr as Deno.NetAddr).port });
 * const replies = new FrameReader(conn);
 * await writeFrame(conn, text.encode("set greeting hello"));
 * await writeFrame(conn, text.encode("get greeting"));
 * await conn.closeWrite();
 * const got: string[] = [];
 * for await (const reply of replies) got.push(new TextDecoder().decode(reply));
 * assert.deepEqual(got, ["hello", "hello"]);
 * conn.close();
 * await server.shutdown();
 * ```
 *
 * @example Errors are reported with the peer, and only close that session
 * ```ts
 * import { serve, writeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const errors: string[] = [];
 * const server = serve(
 *   Deno.listen({ hostname: "127.0.0.1", port: 0 }),
 *   async ({ reader }) => {
 *     await reader.read();
 *     throw new Error("handler bug");
 *   },
 *   { onError: (error) => errors.push((error as Error).message) },
 * );
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: (server.addr as Deno.NetAddr).port });
 * await writeFrame(conn, new Uint8Array(1));
 * assert.equal(await conn.read(new Uint8Array(1)), null); // closed by the server
 * conn.close();
 * await server.shutdown();
 * assert.deepEqual(errors, ["handler bug"]);
 * ```
 */
export function serve(
  listener: Listener,
  handler: ServeHandler,
  options: ServeOptions = {},
): FrameServer {
  return new Server(listener, handler, options);
}

type State = "serving" | "draining" | "stopped";

class Server implements FrameServer {
  readonly #listener: Listener;
  readonly #maxConnections: number;
  readonly #onError: (error: unknown, info: ServeErrorInfo) => void;
  readonly #settings: SessionSettings;
  readonly #tickMs: number;
  readonly #sessions = new Map<ServerSession, Promise<void>>();
  readonly #finished: Promise<void>;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => void this.shutdown();
  #state: State = "serving";
  #graceDeadline = Infinity;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    listener: Listener,
    handler: ServeHandler,
    options: ServeOptions,
  ) {
    if (
      typeof listener !== "object" || listener === null ||
      typeof listener.accept !== "function"
    ) {
      throw new TypeError("Cannot serve: expected a Listener");
    }
    if (typeof handler !== "function") {
      throw new TypeError("Cannot serve: expected a handler function");
    }
    // Every connection builds these; a bad option fails here, not there.
    new FrameReader(NO_BYTES, { ...options, readBufferSize: 1 });
    new FrameWriter(NO_BYTES, options);
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (
      maxConnections !== Infinity &&
      !(Number.isSafeInteger(maxConnections) && maxConnections >= 1)
    ) {
      throw new RangeError(
        `Cannot serve: maxConnections ${maxConnections} is not a positive integer or Infinity`,
      );
    }
    const proxyProtocol = options.proxyProtocol;
    const maxProxyHeaderBytes = options.maxProxyHeaderBytes ??
      DEFAULT_MAX_PROXY_HEADER_BYTES;
    if (proxyProtocol !== undefined) {
      checkProxyOptions(proxyProtocol, maxProxyHeaderBytes, "Cannot serve");
    }
    const minReceiveRate = options.minReceiveRate ?? 0;
    if (!(Number.isFinite(minReceiveRate) && minReceiveRate >= 0)) {
      throw new RangeError(
        `Cannot serve: minReceiveRate ${minReceiveRate} is not a non-negative number`,
      );
    }
    this.#listener = listener;
    this.#maxConnections = maxConnections;
    this.#onError = options.onError ?? _logBugs;
    this.#settings = {
      handler,
      frameOptions: options,
      idleTimeout: _duration(
        "idleTimeout",
        options.idleTimeout,
        DEFAULT_IDLE_TIMEOUT,
      ),
      frameTimeout: _duration(
        "frameTimeout",
        options.frameTimeout,
        DEFAULT_FRAME_TIMEOUT,
      ),
      proxyHeaderTimeout: _duration(
        "proxyHeaderTimeout",
        options.proxyHeaderTimeout,
        DEFAULT_PROXY_HEADER_TIMEOUT,
      ),
      closeTimeout: _duration(
        "closeTimeout",
        options.closeTimeout,
        DEFAULT_CLOSE_TIMEOUT,
      ),
      minReceiveRate,
      proxyProtocol,
      maxProxyHeaderBytes,
      noDelay: options.noDelay ?? true,
      keepAlive: options.keepAlive,
      report: (error, remoteAddr) => this.#report(error, remoteAddr),
    };
    this.#tickMs = _tickOf(this.#settings);
    this.#finished = this.#run();
    const signal = options.signal;
    this.#signal = signal;
    if (signal?.aborted) void this.shutdown();
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  get addr(): NetAddr | UnixAddr | { transport: string } {
    return this.#listener.addr;
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  get finished(): Promise<void> {
    return this.#finished;
  }

  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const grace = _duration(
      "gracePeriod",
      options.gracePeriod,
      DEFAULT_GRACE_PERIOD,
    );
    if (this.#state === "serving") {
      this.#state = "draining";
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    if (this.#state === "draining") {
      const deadline = performance.now() + grace;
      if (deadline < this.#graceDeadline) {
        this.#graceDeadline = deadline;
        clearTimeout(this.#graceTimer);
        if (grace === 0) this.#abortAll();
        else this.#graceTimer = setTimeout(() => this.#abortAll(), grace);
      }
    }
    return this.#finished;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #abortAll(): void {
    const reason = new AbortedError("Server shutting down");
    for (const session of this.#sessions.keys()) session.abort(reason);
  }

  async #run(): Promise<void> {
    await this.#acceptLoop();
    if (this.#state === "serving") this.#state = "draining";
    while (this.#sessions.size > 0) {
      await Promise.all(this.#sessions.values());
    }
    this.#state = "stopped";
    clearTimeout(this.#graceTimer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
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
        // Out of file descriptors and the like: report, pause, go on.
        this.#report(mapped, undefined);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Conn): void {
    const full = this.#sessions.size >= this.#maxConnections;
    if (this.#state !== "serving" || full) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      this.#report(
        this.#state !== "serving"
          ? new ConnectionRejectedError(
            "shutting-down",
            "Rejected: the server is shutting down",
          )
          : new ConnectionRejectedError(
            "max-connections",
            `Rejected: ${this.#maxConnections} connections open (maxConnections)`,
          ),
        conn.remoteAddr ?? UNKNOWN_ADDR,
      );
      return;
    }
    const session = new ServerSession(conn, this.#settings, performance.now());
    this.#sessions.set(
      session,
      session.run().finally(() => {
        this.#sessions.delete(session);
        if (this.#sessions.size === 0) this.#stopHeartbeat();
      }),
    );
    if (this.#heartbeat === undefined && this.#tickMs > 0) {
      this.#heartbeat = setInterval(() => this.#tick(), this.#tickMs);
    }
  }

  /** One check of every session's deadlines. */
  #tick(): void {
    const now = performance.now();
    for (const session of this.#sessions.keys()) session.check(now);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #report(error: unknown, remoteAddr: AnyAddr | undefined): void {
    try {
      const result: unknown = this.#onError(error, { remoteAddr });
      if (result instanceof Promise) result.catch(() => {});
    } catch {
      // onError must not stop the server or the session.
    }
  }
}

const UNKNOWN_ADDR: AnyAddr = { transport: "unknown" };

/** A reader and writer that validate options, never used. */
const NO_BYTES = {
  read: () => Promise.resolve(null),
  write: (p: Uint8Array) => Promise.resolve(p.byteLength),
};

/** The default `onError`: bugs are logged, the peers' failures are not. */
function _logBugs(error: unknown, info: ServeErrorInfo): void {
  if (error instanceof TcpFrameError) return;
  // deno-lint-ignore no-console -- the default onError reports handler bugs
  console.error("serve(): a session failed; peer:", info.remoteAddr, error);
}

function _duration(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  const ms = value ?? fallback;
  if (!(typeof ms === "number" && ms >= 0 && ms <= MAX_DELAY)) {
    throw new RangeError(
      `Cannot serve: ${name} ${ms} is not a number of milliseconds from 0 to ${MAX_DELAY}`,
    );
  }
  return ms;
}

/**
 * How often the heartbeat checks deadlines: a quarter of the shortest one,
 * from 10 ms to 1 s; 0 when there is none.
 */
function _tickOf(settings: SessionSettings): number {
  const limits = [
    settings.idleTimeout,
    settings.frameTimeout,
    settings.closeTimeout,
    settings.proxyProtocol === undefined ? 0 : settings.proxyHeaderTimeout,
    settings.minReceiveRate > 0 ? RATE_WINDOW_MS : 0,
  ].filter((ms) => ms > 0);
  if (limits.length === 0) return 0;
  return Math.min(1000, Math.max(10, Math.min(...limits) / 4));
}
