/**
 * {@linkcode listen}: accept TCP connections with `node:net`, the way
 * `Deno.listen` does.
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import { ConnectionClosedError, normalizeError } from "../errors.ts";
import type { Listener, NetAddr } from "../types.ts";
import { fromSocket, type NodeConn } from "./conn.ts";

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
export interface ListenOptions {
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
export interface NodeListener extends Listener<NodeConn> {
  /** The bound address, with the real port when `port: 0` was asked for. */
  readonly addr: NetAddr;
}

/**
 * Starts listening for TCP connections, like `Deno.listen`, and returns a
 * {@linkcode NodeListener}.
 *
 * Unlike `Deno.listen` it returns a promise, because Node binds
 * asynchronously. Accepted sockets have `allowHalfOpen: true`, and Nagle's
 * algorithm turned off unless `noDelay: false`.
 *
 * @param options Where to listen.
 * @returns The listener, once bound.
 * @throws {RangeError} `port` is not an integer from 0 to 65535.
 * @throws {Error} Node's error when binding fails, such as `EADDRINUSE`.
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
export async function listen(options: ListenOptions): Promise<NodeListener> {
  const { hostname = "127.0.0.1", port, noDelay = true } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot listen on port ${port}: expected an integer from 0 to 65535`,
    );
  }
  const server = createServer({ allowHalfOpen: true });
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
    server.listen({ host: hostname, port });
  });
  return new ServerListener(server, noDelay);
}

interface Waiter {
  resolve(conn: NodeConn): void;
  reject(error: unknown): void;
}

class ServerListener implements NodeListener {
  readonly #server: Server;
  readonly #addr: NetAddr;
  /** Connections not yet accepted, oldest first. */
  readonly #queue: NodeConn[] = [];
  /** Pending `accept()` calls, oldest first. */
  readonly #waiters: Waiter[] = [];
  /** A server error for the next `accept()`. */
  #error: unknown;
  #closed = false;

  constructor(server: Server, noDelay: boolean) {
    this.#server = server;
    const address = server.address();
    this.#addr = typeof address === "object" && address !== null
      ? { transport: "tcp", hostname: address.address, port: address.port }
      : { transport: "tcp", hostname: "", port: 0 };
    server.on("connection", (socket: Socket) => {
      if (this.#closed) {
        socket.destroy(); // arrived while the server was closing
        return;
      }
      let conn: NodeConn;
      try {
        socket.setNoDelay(noDelay);
        conn = fromSocket(socket);
      } catch {
        socket.destroy(); // reset before it could be adapted
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.resolve(conn);
      else this.#queue.push(conn);
    });
    server.on("error", (error) => {
      const mapped = normalizeError(error);
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.reject(mapped);
      else this.#error ??= mapped;
    });
  }

  get addr(): NetAddr {
    return this.#addr;
  }

  accept(): Promise<NodeConn> {
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError("Cannot accept: the listener is closed"),
      );
    }
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
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

  async *[Symbol.asyncIterator](): AsyncGenerator<NodeConn, void, undefined> {
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
