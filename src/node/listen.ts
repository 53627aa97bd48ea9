/**
 * {@linkcode listen}: accept TCP or Unix domain socket connections with
 * `node:net`, the way `Deno.listen` does.
 *
 * @module
 */

import {
  createServer,
  type ListenOptions as ListenOptionsOfNode,
  type Server,
  type Socket,
} from "node:net";
import { ConnectionClosedError, normalizeError } from "../errors.ts";
import type { Listener, NetAddr, UnixAddr } from "../types.ts";
import { fromSocket, type NodeConn } from "./conn.ts";

/**
 * How many connections a {@linkcode NodeListener} holds for `accept()` by
 * default: see {@linkcode AcceptQueueOptions.maxPending}.
 *
 * @example The default bound
 * ```ts
 * import { DEFAULT_MAX_PENDING } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_PENDING, 128);
 * ```
 */
export const DEFAULT_MAX_PENDING = 128;

/**
 * The bound on connections that wait for `accept()`, shared by both kinds
 * of {@linkcode listen} options.
 *
 * @example A listener that holds at most 16 connections for a slow loop
 * ```ts
 * import { type AcceptQueueOptions, listen } from "@tcpframe/tcpframe/node";
 *
 * const queue: AcceptQueueOptions = { maxPending: 16 };
 * const listener = await listen({ port: 0, ...queue });
 * listener.close();
 * ```
 */
export interface AcceptQueueOptions {
  /**
   * How many connections may wait for `accept()`. Node accepts every
   * connection from the kernel as soon as it arrives and has no way to
   * pause that short of closing the server, so the listener bounds what it
   * holds instead: a connection that arrives while `maxPending` wait is
   * reset at once (the client sees `ECONNRESET`), and counted in
   * `refused`. Waiting connections are not read from until accepted, so
   * each costs a socket and no buffer. Deno leaves such connections in
   * the kernel's backlog instead, where clients wait.
   *
   * A non-negative integer, or `Infinity` for no bound (the fds and memory
   * of a slow accept loop then grow with the clients). With `0` a
   * connection is kept only if an `accept()` waits for it.
   *
   * @default {128}
   */
  maxPending?: number;
}

/**
 * Options for {@linkcode listen}.
 *
 * @example Listen on an ephemeral loopback port
 * ```ts
 * import { listen, type ListenOptions } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0 };
 * const listener = await listen(options);
 * assert.ok(listener.addr.port > 0);
 * listener.close();
 * ```
 */
export interface ListenOptions extends AcceptQueueOptions {
  /**
   * The address to bind. The default accepts only local connections (Deno's
   * is `"0.0.0.0"`); pass `"0.0.0.0"` or `"::"` to accept from any host.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to bind, 0 to 65535; 0 picks a free port (see `addr.port`). */
  port: number;
  /**
   * Turns Nagle's algorithm off on every accepted connection.
   *
   * @default {true}
   */
  noDelay?: boolean;
}

/**
 * Options for {@linkcode listen} on a Unix domain socket: the shape of
 * `Deno.listen({ transport: "unix", path })`.
 *
 * The socket file must not exist yet (`EADDRINUSE` if it does, even when
 * nobody listens on it any more); `close()` removes it.
 *
 * @example Listen on a socket file in a temporary directory
 * ```ts
 * import { listen, type UnixListenOptions } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 * import { existsSync, mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "tcpframe-"));
 * const options: UnixListenOptions = { transport: "unix", path: join(dir, "app.sock") };
 * const listener = await listen(options);
 * assert.deepEqual(listener.addr, { transport: "unix", path: options.path });
 * listener.close();
 * assert.equal(existsSync(options.path), false);
 * rmSync(dir, { recursive: true });
 * ```
 */
export interface UnixListenOptions extends AcceptQueueOptions {
  /**
   * The transport, as `Deno.listen` takes it; optional here, as `path`
   * says it already.
   *
   * @default {"unix"}
   */
  transport?: "unix";
  /** The path of the socket file to create. */
  path: string;
}

/**
 * A {@linkcode Listener} over a `node:net` server, as {@linkcode listen}
 * returns it: the same shape as `Deno.Listener`.
 *
 * Connections that arrive before `accept()` is called are queued (each one
 * already a {@linkcode NodeConn}, so an early reset is recorded, not
 * thrown). Iterating with `for await` accepts until `close()`.
 *
 * @example Connections that arrive before `accept()` wait in order
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const first = await connect({ port: listener.addr.port });
 * const second = await connect({ port: listener.addr.port });
 * await writeAll(first, new Uint8Array([1]));
 * await writeAll(second, new Uint8Array([2]));
 *
 * const a = await listener.accept();
 * const b = await listener.accept();
 * assert.deepEqual(await readExact(a, 1), new Uint8Array([1]));
 * assert.deepEqual(await readExact(b, 1), new Uint8Array([2]));
 * for (const conn of [first, second, a, b]) conn.close();
 * listener.close();
 * await assert.rejects(listener.accept(), { code: "CONNECTION_CLOSED" });
 * ```
 */
export interface NodeListener<A extends NetAddr | UnixAddr = NetAddr>
  extends Listener<NodeConn<A>> {
  /**
   * The bound address: with the real port when `port: 0` was asked for, or
   * the socket file's path.
   */
  readonly addr: A;
  /**
   * How many connections were reset on arrival because `maxPending` of
   * them already waited for `accept()`.
   */
  readonly refused: number;
}

/**
 * Starts listening for TCP connections, like `Deno.listen`.
 *
 * @param options Where to listen.
 * @returns The listener, once bound.
 */
export function listen(options: ListenOptions): Promise<NodeListener<NetAddr>>;
/**
 * Starts listening on a Unix domain socket, like
 * `Deno.listen({ transport: "unix", path })`.
 *
 * @param options The path of the socket file to create.
 * @returns The listener, once bound.
 */
export function listen(
  options: UnixListenOptions,
): Promise<NodeListener<UnixAddr>>;
/**
 * Starts listening for TCP connections (`hostname` and `port`) or on a Unix
 * domain socket (`path`), like `Deno.listen`, and returns a
 * {@linkcode NodeListener}.
 *
 * Unlike `Deno.listen` it returns a promise, because Node binds
 * asynchronously. Accepted sockets have `allowHalfOpen: true`, and Nagle's
 * algorithm turned off unless `noDelay: false`. On a Unix socket, accepted
 * connections have the listener's path as `localAddr` and an empty path as
 * `remoteAddr` (the client's socket has no name).
 *
 * At most `maxPending` connections (default 128) wait for `accept()`; one
 * that arrives beyond that is reset at once, so a slow accept loop cannot
 * grow the process's fds and memory without bound.
 *
 * @param options Where to listen.
 * @returns The listener, once bound.
 * @throws {RangeError} `port` is not an integer from 0 to 65535, or
 * `maxPending` is neither a non-negative integer nor `Infinity`.
 * @throws {TypeError} `path` is not a non-empty string.
 * @throws {Error} Node's error when binding fails, such as `EADDRINUSE`
 * (for a path: the file exists).
 *
 * @example Serve two clients with `for await`
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   for await (const conn of listener) {
 *     await writeAll(conn, new TextEncoder().encode("hi"));
 *     await conn.closeWrite();
 *     conn.close();
 *   }
 * })();
 *
 * for (let i = 0; i < 2; i++) {
 *   const conn = await connect({ port: listener.addr.port });
 *   assert.equal(new TextDecoder().decode(await readExact(conn, 2)), "hi");
 *   conn.close();
 * }
 * listener.close();
 * await serving; // the loop ends when the listener closes
 * ```
 */
export async function listen(
  options: ListenOptions | UnixListenOptions,
): Promise<NodeListener<NetAddr> | NodeListener<UnixAddr>> {
  const { maxPending = DEFAULT_MAX_PENDING } = options;
  if (
    !(Number.isSafeInteger(maxPending) && maxPending >= 0) &&
    maxPending !== Infinity
  ) {
    throw new RangeError(
      `Cannot listen: maxPending ${maxPending} is neither a non-negative integer nor Infinity`,
    );
  }
  if ("path" in options) {
    const { path } = options;
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Cannot listen: path must be a non-empty string, got ${
          JSON.stringify(path)
        }`,
      );
    }
    const server = await _bound({ path });
    return new ServerListener<UnixAddr>(server, {
      addr: { transport: "unix", path },
      peerAddr: { transport: "unix", path: "" },
      noDelay: false,
      maxPending,
    });
  }
  const { hostname = "127.0.0.1", port, noDelay = true } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot listen on port ${port}: expected an integer from 0 to 65535`,
    );
  }
  const server = await _bound({ host: hostname, port });
  const address = server.address();
  const addr: NetAddr = typeof address === "object" && address !== null
    ? { transport: "tcp", hostname: address.address, port: address.port }
    : { transport: "tcp", hostname: "", port: 0 };
  return new ServerListener<NetAddr>(server, {
    addr,
    peerAddr: undefined,
    noDelay,
    maxPending,
  });
}

/** A server listening where `options` say, once it is. */
async function _bound(options: ListenOptionsOfNode): Promise<Server> {
  // Connections wait for accept() unread: no buffer, and no 'data' yet.
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(normalizeError(error));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(options);
  });
  return server;
}

interface Waiter<A extends NetAddr | UnixAddr> {
  resolve(conn: NodeConn<A>): void;
  reject(error: unknown): void;
}

/** How a {@linkcode ServerListener} treats the connections it accepts. */
interface ServerListenerInit<A extends NetAddr | UnixAddr> {
  /** The bound address. */
  addr: A;
  /**
   * The `remoteAddr` of every accepted connection (Unix sockets, whose
   * peers have no name), or `undefined` to ask each socket (TCP).
   */
  peerAddr: A | undefined;
  /** Turn Nagle's algorithm off on TCP connections. */
  noDelay: boolean;
  /** Connections held for `accept()` before new ones are reset. */
  maxPending: number;
}

class ServerListener<A extends NetAddr | UnixAddr> implements NodeListener<A> {
  readonly #server: Server;
  readonly #addr: A;
  readonly #maxPending: number;
  /** Connections not yet accepted, oldest first; their sockets are paused. */
  readonly #queue: NodeConn<A>[] = [];
  /** Pending `accept()` calls, oldest first. */
  readonly #waiters: Waiter<A>[] = [];
  /** A server error for the next `accept()`. */
  #error: unknown;
  #closed = false;
  #refused = 0;

  constructor(server: Server, init: ServerListenerInit<A>) {
    const { addr, peerAddr, noDelay, maxPending } = init;
    this.#server = server;
    this.#addr = addr;
    this.#maxPending = maxPending;
    server.on("connection", (socket: Socket) => {
      if (this.#closed) {
        socket.destroy(); // arrived while the server was closing
        return;
      }
      const waiter = this.#waiters[0];
      if (waiter === undefined && this.#queue.length >= this.#maxPending) {
        this.#refused++;
        _reset(socket);
        return;
      }
      let conn: NodeConn<A>;
      try {
        if (peerAddr === undefined) {
          socket.setNoDelay(noDelay);
          conn = fromSocket<A>(socket);
        } else {
          conn = fromSocket<A>(socket, {
            localAddr: addr,
            remoteAddr: peerAddr,
          });
        }
      } catch {
        socket.destroy(); // reset before it could be adapted
        return;
      }
      if (waiter !== undefined) {
        this.#waiters.shift();
        waiter.resolve(_started(conn));
      } else {
        this.#queue.push(conn);
      }
    });
    server.on("error", (error) => {
      const mapped = normalizeError(error);
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.reject(mapped);
      else this.#error ??= mapped;
    });
  }

  get refused(): number {
    return this.#refused;
  }

  get addr(): A {
    return this.#addr;
  }

  accept(): Promise<NodeConn<A>> {
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError("Cannot accept: the listener is closed"),
      );
    }
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(_started(queued));
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const conn of this.#queue.splice(0)) conn.close();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(
        new ConnectionClosedError("Cannot accept: the listener was closed"),
      );
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<
    NodeConn<A>,
    void,
    undefined
  > {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }
}

/** Lets an accepted connection's socket read (it was created paused). */
function _started<C extends NodeConn<NetAddr | UnixAddr>>(conn: C): C {
  conn.socket.resume();
  return conn;
}

/** Refuses a connection at once: RST where Node can send one, else FIN. */
function _reset(socket: Socket): void {
  socket.on("error", () => {}); // nothing more to hear from it
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}
