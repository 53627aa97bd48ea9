/**
 * {@linkcode fromSocket}: a `node:net` socket as a tcpframe {@linkcode Conn}.
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  BrokenPipeError,
  ConnectionClosedError,
  normalizeError,
} from "../errors.ts";
import type { Conn, NetAddr } from "../types.ts";

/**
 * A {@linkcode Conn} over a `node:net` socket, as {@linkcode fromSocket},
 * `connect()` and `listen()` return it: the same shape as `Deno.TcpConn`, so
 * code written against `Conn` runs on both runtimes.
 *
 * - `read(p)` pulls bytes on demand (the socket stays in paused mode, so an
 *   idle reader makes the peer's writes wait, as in Deno). It resolves to
 *   `null` once the peer has half-closed and every byte before that was read.
 * - `write(p)` resolves once the bytes are in the kernel and Node keeps no
 *   reference to `p`, always with `p.byteLength`. When Node's buffer is over
 *   its high-water mark it also waits for `'drain'`, so memory stays bounded.
 * - `closeWrite()` sends FIN (`socket.end()`); reading goes on.
 * - `close()` destroys the socket; pending and later calls reject with
 *   {@linkcode ConnectionClosedError}.
 *
 * Errors are tcpframe's classes ({@linkcode ConnectionResetError},
 * {@linkcode BrokenPipeError}, ...) with Node's error as `cause`. A socket
 * `'error'` event is always handled: it rejects the pending and the next
 * `read()` and `write()` instead of crashing the process.
 *
 * @example Half-close: send a request, then read the reply to its end
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const serving = (async () => {
 *   const peer = await listener.accept();
 *   const request = await readExact(peer, 3);
 *   assert.equal(await peer.read(new Uint8Array(1)), null); // client's FIN
 *   await writeAll(peer, request.reverse()); // still allowed: half-open
 *   await peer.closeWrite();
 *   peer.close();
 * })();
 *
 * const conn = await connect({ port: listener.addr.port });
 * await writeAll(conn, new Uint8Array([1, 2, 3]));
 * await conn.closeWrite();
 * assert.deepEqual(await readExact(conn, 3), new Uint8Array([3, 2, 1]));
 * assert.equal(await conn.read(new Uint8Array(1)), null);
 * await assert.rejects(conn.write(new Uint8Array(1)), { code: "BROKEN_PIPE" });
 * conn.close();
 * await serving;
 * listener.close();
 * ```
 */
export interface NodeConn extends Conn {
  /**
   * The underlying socket, for settings tcpframe does not cover
   * (`setKeepAlive()`, `ref()`, `unref()`). Do not read from it or write to
   * it directly: the connection owns its data.
   */
  readonly socket: Socket;
  /** The local address. */
  readonly localAddr: NetAddr;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /**
   * Turns Nagle's algorithm off (`true`) or on (`false`).
   *
   * @param noDelay `true` to send small segments at once.
   */
  setNoDelay(noDelay?: boolean): void;
}

/**
 * Wraps a connected `node:net` socket as a {@linkcode NodeConn}.
 *
 * The connection takes the socket over: it switches it to paused mode and
 * listens for `'error'`, so nothing else should read from it.
 *
 * Half-close needs `allowHalfOpen: true` (with Node's default, the socket
 * ends its own side as soon as the peer's FIN arrives, so a reply after the
 * peer's `closeWrite()` would fail). `fromSocket` turns it on for sockets
 * created without it; create sockets and servers with
 * `{ allowHalfOpen: true }` to make that visible in your code, as
 * `connect()` and `listen()` do.
 *
 * @param socket A connected socket: from a server's `'connection'` event, or
 * after a client socket's `'connect'` event.
 * @returns The connection.
 * @throws {TypeError} `socket` is not a `net.Socket`, or is not connected
 * (still connecting, or already destroyed).
 *
 * @example Wrap the sockets of a plain `node:net` server and client
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { fromSocket } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 * import net from "node:net";
 * import { once } from "node:events";
 *
 * const server = net.createServer({ allowHalfOpen: true }, async (socket) => {
 *   const peer = fromSocket(socket);
 *   const request = await readExact(peer, 4);
 *   await writeAll(peer, request.reverse());
 *   await peer.closeWrite();
 * });
 * server.listen(0, "127.0.0.1");
 * await once(server, "listening");
 * const { port } = server.address() as net.AddressInfo;
 *
 * const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
 * await once(socket, "connect");
 * const conn = fromSocket(socket);
 * await writeAll(conn, new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(await readExact(conn, 4), new Uint8Array([4, 3, 2, 1]));
 * assert.equal(await conn.read(new Uint8Array(1)), null); // the server's FIN
 * conn.close();
 * server.close();
 * ```
 */
export function fromSocket(socket: Socket): NodeConn {
  return new SocketConn(socket);
}

/** One pending `write()` or `closeWrite()`, failed by `close()` or an error. */
type Fail = (error: unknown) => void;

class SocketConn implements NodeConn {
  readonly #socket: Socket;
  readonly #localAddr: NetAddr;
  readonly #remoteAddr: NetAddr;
  /** Bytes taken from the socket but not yet handed to a read. */
  #leftover: Uint8Array | undefined;
  /** The peer's FIN was read: every later read resolves to `null`. */
  #eof = false;
  /** `close()` was called. */
  #closed = false;
  /** The first error of the socket, mapped; `undefined` while healthy. */
  #error: unknown;
  /** `closeWrite()` was called; its promise, for repeated calls. */
  #closingWrite: Promise<void> | undefined;
  /** Reads run one at a time, in call order. */
  #readTail: Promise<unknown> = Promise.resolve();
  /** Wakes the read waiting for the socket, if any. */
  #wake: (() => void) | undefined;
  readonly #pending = new Set<Fail>();
  readonly #drainWaiters = new Set<() => void>();

  constructor(socket: Socket) {
    if (
      typeof socket !== "object" || socket === null ||
      typeof socket.read !== "function" || typeof socket.end !== "function"
    ) {
      throw new TypeError("Cannot adapt socket: expected a net.Socket");
    }
    if (socket.pending) {
      throw new TypeError(
        "Cannot adapt socket: it is not connected (wait for 'connect', or use connect())",
      );
    }
    this.#socket = socket;
    (socket as { allowHalfOpen: boolean }).allowHalfOpen = true;
    this.#localAddr = {
      transport: "tcp",
      hostname: socket.localAddress ?? "",
      port: socket.localPort ?? 0,
    };
    this.#remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    const wake = () => this.#wake?.();
    socket.on("readable", wake);
    socket.on("end", () => {
      this.#eof = true;
      wake();
    });
    socket.on("error", (error) => this.#fail(normalizeError(error)));
    socket.on("close", () => {
      this.#fail(
        new ConnectionClosedError(
          "Connection closed: the socket was destroyed",
        ),
      );
    });
    socket.on("drain", () => {
      for (const resolve of this.#drainWaiters) resolve();
      this.#drainWaiters.clear();
    });
  }

  get socket(): Socket {
    return this.#socket;
  }

  get localAddr(): NetAddr {
    return this.#localAddr;
  }

  get remoteAddr(): NetAddr {
    return this.#remoteAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    const result = this.#readTail.then(() => this.#readNow(p));
    this.#readTail = result.catch(() => {});
    return result;
  }

  async #readNow(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) {
        throw new ConnectionClosedError(
          "Cannot read: the connection is closed",
        );
      }
      if (p.byteLength === 0) return 0;
      const chunk = this.#leftover ??
        (this.#socket.read() as Uint8Array | null) ?? undefined;
      if (chunk !== undefined) {
        const n = Math.min(chunk.byteLength, p.byteLength);
        p.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
        this.#leftover = n < chunk.byteLength ? chunk.subarray(n) : undefined;
        return n;
      }
      if (this.#eof) return null;
      if (this.#error !== undefined) throw this.#error;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }

  write(p: Uint8Array): Promise<number> {
    const refused = this.#closed
      ? new ConnectionClosedError("Cannot write: the connection is closed")
      : this.#closingWrite !== undefined
      ? new BrokenPipeError(
        "Cannot write: the connection was closed for writing",
      )
      : this.#error;
    if (refused !== undefined) return Promise.reject(refused);
    if (p.byteLength === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      const fail: Fail = (error) => {
        this.#pending.delete(fail);
        this.#drainWaiters.delete(done);
        reject(error);
      };
      const done = () => {
        this.#pending.delete(fail);
        resolve(p.byteLength);
      };
      this.#pending.add(fail);
      this.#socket.write(p, (error) => {
        if (!this.#pending.has(fail)) return; // already failed
        // Node reports a write cancelled by destroy() as a success: check.
        const failure = this.#failure() ??
          (error ? normalizeError(error) : undefined);
        if (failure !== undefined) fail(failure);
        else if (this.#socket.writableNeedDrain) this.#drainWaiters.add(done);
        else done();
      });
    });
  }

  closeWrite(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError(
          "Cannot close for writing: the connection is closed",
        ),
      );
    }
    this.#closingWrite ??= this.#error !== undefined
      ? Promise.reject(this.#error)
      : new Promise<void>((resolve, reject) => {
        const fail: Fail = (error) => {
          this.#pending.delete(fail);
          reject(error);
        };
        this.#pending.add(fail);
        // Node calls back with an error if the socket is destroyed first.
        this.#socket.end((error?: unknown) => {
          if (!this.#pending.has(fail)) return;
          const failure = this.#failure() ??
            (error ? normalizeError(error) : undefined);
          if (failure !== undefined) return fail(failure);
          this.#pending.delete(fail);
          resolve();
        });
      });
    return this.#closingWrite;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leftover = undefined;
    this.#fail(new ConnectionClosedError("Connection closed"));
    this.#socket.destroy();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  /** Why the connection cannot be used any more, if it cannot. */
  #failure(): unknown {
    return this.#closed
      ? new ConnectionClosedError("Connection closed")
      : this.#error;
  }

  /** Records the first error; fails pending writes, wakes the reader. */
  #fail(error: unknown): void {
    if (this.#error === undefined && !this.#closed) this.#error = error;
    const failure = this.#failure() ?? error;
    for (const fail of [...this.#pending]) fail(failure);
    this.#wake?.();
  }
}
