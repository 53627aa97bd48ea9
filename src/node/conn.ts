/**
 * {@linkcode fromSocket}: a `node:net` socket as a tcpframe {@linkcode Conn}.
 *
 * @module
 */

import type { Socket } from "node:net";
import { type ChunkSource, takeChunk } from "../_chunk_source.ts";
import {
  BrokenPipeError,
  ConnectionClosedError,
  normalizeError,
} from "../errors.ts";
import type { Conn, NetAddr, UnixAddr } from "../types.ts";

/**
 * A {@linkcode Conn} over a `node:net` socket, as {@linkcode fromSocket},
 * `connect()` and `listen()` return it: the same shape as `Deno.TcpConn`, so
 * code written against `Conn` runs on both runtimes.
 *
 * - `read(p)` copies what has arrived, up to `p.byteLength` bytes, and waits
 *   only when nothing has. A `FrameReader` over the connection does not
 *   call it: it takes the socket's chunks as they are (no copy, and no
 *   promise per chunk while chunks are waiting). At most 64 KiB are taken from the socket ahead of
 *   the reads; then the socket is paused, so an idle reader makes the peer's
 *   writes wait, as in Deno. It resolves to `null` once the peer has
 *   half-closed and every byte before that was read.
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
export interface NodeConn<A extends NetAddr | UnixAddr = NetAddr> extends Conn {
  /**
   * The underlying socket, for settings tcpframe does not cover
   * (`ref()`, `unref()`, keepalive timing). Do not read from it or write to
   * it directly: the connection owns its data.
   */
  readonly socket: Socket;
  /**
   * The local address: a `NetAddr`, or over a Unix domain socket a
   * `UnixAddr` (the listener's path on the accepting side; `""` on the
   * connecting side, whose socket has no name).
   */
  readonly localAddr: A;
  /**
   * The peer's address: a `NetAddr`, or over a Unix domain socket a
   * `UnixAddr` (the path `connect()` was given on the connecting side; `""`
   * on the accepting side, as the peer's socket has no name).
   */
  readonly remoteAddr: A;
  /**
   * Turns Nagle's algorithm off (`true`) or on (`false`); does nothing on a
   * Unix domain socket, which has no Nagle.
   *
   * @param noDelay `true` to send small segments at once.
   */
  setNoDelay(noDelay?: boolean): void;
  /**
   * Turns TCP keepalive probes on (`true`) or off (`false`), with the
   * system's idle time before the first probe; does nothing on a Unix
   * domain socket.
   *
   * @param keepAlive `true` to send keepalive probes on an idle connection.
   */
  setKeepAlive(keepAlive?: boolean): void;
}

/**
 * Wraps a connected `node:net` socket as a {@linkcode NodeConn}.
 *
 * The connection takes the socket over: it consumes its `'data'` events
 * (pausing the socket while 64 KiB wait unread) and listens for `'error'`,
 * so nothing else should read from it.
 *
 * Half-close needs `allowHalfOpen: true` (with Node's default, the socket
 * ends its own side as soon as the peer's FIN arrives, so a reply after the
 * peer's `closeWrite()` would fail). `fromSocket` turns it on for sockets
 * created without it; create sockets and servers with
 * `{ allowHalfOpen: true }` to make that visible in your code, as
 * `connect()` and `listen()` do.
 *
 * A `tls.TLSSocket` is a `net.Socket` too: wrap it from a TLS server's
 * `'secureConnection'` event or after `'secureConnect'`. Its `closeWrite()`
 * sends TLS `close_notify`, then FIN, and the peer's `close_notify` reads as
 * end of stream (TLS 1.2 and 1.3). Node does not tell a FIN without
 * `close_notify` from a clean end, so over TLS on Node a stream cut exactly
 * at a frame boundary reads as `null` (a cut inside a frame is still
 * `UnexpectedEofError`); Deno reports it as `ConnectionResetError`.
 *
 * A Unix domain socket (Node's `path` sockets) becomes a connection whose
 * addresses are `UnixAddr`s with an empty `path`, as Node does not tell a
 * socket's path: pass `addresses` with the paths you know (or name the type,
 * `fromSocket<UnixAddr>(socket)`). `connect({ path })` and
 * `listen({ path })` do that for you.
 *
 * @typeParam A The kind of address: `NetAddr` for TCP (and TLS over TCP),
 * `UnixAddr` for a Unix domain socket.
 * @param socket A connected socket: from a server's `'connection'` event, or
 * after a client socket's `'connect'` event.
 * @param addresses The two addresses, when you know them better than Node.
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
export function fromSocket<A extends NetAddr | UnixAddr = NetAddr>(
  socket: Socket,
  addresses?: SocketAddresses<A>,
): NodeConn<A> {
  return new SocketConn<A>(socket, addresses);
}

/**
 * The addresses of a socket, for {@linkcode fromSocket} to use instead of
 * asking Node: the paths of a Unix domain socket, which Node does not tell.
 *
 * @typeParam A `NetAddr` or `UnixAddr`.
 *
 * @example The addresses of a client socket on a Unix path
 * ```ts
 * import type { UnixAddr } from "@tcpframe/tcpframe";
 * import type { SocketAddresses } from "@tcpframe/tcpframe/node";
 *
 * const addresses: SocketAddresses<UnixAddr> = {
 *   localAddr: { transport: "unix", path: "" },
 *   remoteAddr: { transport: "unix", path: "/run/app.sock" },
 * };
 * void addresses;
 * ```
 */
export interface SocketAddresses<A extends NetAddr | UnixAddr> {
  /** This end's address. */
  localAddr: A;
  /** The peer's address. */
  remoteAddr: A;
}

/**
 * A socket's addresses as Node reports them. A TCP socket always has a
 * local address while it is open (even after a reset); a Unix domain
 * socket never does.
 */
function _addressesOf(socket: Socket): SocketAddresses<NetAddr | UnixAddr> {
  if (socket.localAddress === undefined) {
    return {
      localAddr: { transport: "unix", path: "" },
      remoteAddr: { transport: "unix", path: "" },
    };
  }
  return {
    localAddr: {
      transport: "tcp",
      hostname: socket.localAddress,
      port: socket.localPort ?? 0,
    },
    remoteAddr: {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    },
  };
}

/** One pending `write()` or `closeWrite()`, failed by `close()` or an error. */
type Fail = (error: unknown) => void;

/**
 * A `read()` waiting for bytes, the end of the stream or an error; with
 * `p` null, a reader waiting for the next whole chunk.
 */
type PendingRead =
  | {
    p: Uint8Array;
    resolve(n: number | null): void;
    reject(error: unknown): void;
  }
  | {
    p: null;
    resolve(chunk: Uint8Array | null): void;
    reject(error: unknown): void;
  };

/**
 * Bytes taken from the socket ahead of the reads before it is paused. A
 * whole chunk of Node's (up to 64 KiB) may still arrive on top of this.
 */
const READ_AHEAD = 64 * 1024;

class SocketConn<A extends NetAddr | UnixAddr>
  implements NodeConn<A>, ChunkSource {
  readonly #socket: Socket;
  readonly #localAddr: A;
  readonly #remoteAddr: A;
  /**
   * Chunks taken from the socket but not yet handed to a read, oldest
   * first; `#offset` bytes of the first one were read already.
   */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  /** Unread bytes in `#chunks`. */
  #queued = 0;
  /** The socket was paused because `#queued` reached `READ_AHEAD`. */
  #paused = false;
  /** The peer's FIN was read: every later read resolves to `null`. */
  #eof = false;
  /** `close()` was called. */
  #closed = false;
  /** The first error of the socket, mapped; `undefined` while healthy. */
  #error: unknown;
  /** `closeWrite()` was called; its promise, for repeated calls. */
  #closingWrite: Promise<void> | undefined;
  /** Reads that wait, served in call order. */
  readonly #readers: PendingRead[] = [];
  readonly #pending = new Set<Fail>();
  readonly #drainWaiters = new Set<() => void>();

  constructor(socket: Socket, addresses: SocketAddresses<A> | undefined) {
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
    const { localAddr, remoteAddr } = addresses ?? _addressesOf(socket);
    this.#localAddr = localAddr as A;
    this.#remoteAddr = remoteAddr as A;
    // Flowing mode: each chunk goes straight to a waiting read (no
    // 'readable' round trip through the next tick), and pause() bounds what
    // waits unread.
    socket.on("data", (chunk: Uint8Array) => {
      if (this.#closed) return;
      this.#chunks.push(chunk);
      this.#queued += chunk.byteLength;
      if (this.#queued >= READ_AHEAD && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      this.#serve();
    });
    socket.on("end", () => {
      this.#eof = true;
      this.#serve();
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

  get localAddr(): A {
    return this.#localAddr;
  }

  get remoteAddr(): A {
    return this.#remoteAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#readers.length === 0) {
      // No read waits before this one: answer at once if possible.
      let n: number | null | undefined;
      try {
        n = this.#take(p);
      } catch (error) {
        return Promise.reject(error);
      }
      if (n !== undefined) return Promise.resolve(n);
    }
    return new Promise((resolve, reject) => {
      this.#readers.push({ p, resolve, reject });
    });
  }

  /**
   * Hands the socket's chunks to tcpframe's readers as they are, instead of
   * copying them into the reader's buffer: the next chunk (or what is left
   * of it after a `read()`), `null` at the end; when nothing has arrived,
   * `undefined`, or with `wait` a promise of the next chunk.
   */
  [takeChunk](
    wait: boolean,
  ): Uint8Array | null | undefined | Promise<Uint8Array | null> {
    if (this.#readers.length === 0) {
      const chunk = this.#takeChunk();
      if (chunk !== undefined || !wait) return chunk;
    } else if (!wait) {
      return undefined;
    }
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#readers.push({ p: null, resolve, reject });
    });
  }

  /** `#take()` for a whole chunk: nobody writes to it once it is handed out. */
  #takeChunk(): Uint8Array | null | undefined {
    if (this.#closed) {
      throw new ConnectionClosedError("Cannot read: the connection is closed");
    }
    if (this.#queued > 0) {
      // A plain Uint8Array over the Buffer's bytes (what is left of them
      // after a read()), as every frame of tcpframe is.
      const buffer = this.#chunks.shift()!;
      const chunk = new Uint8Array(
        buffer.buffer,
        buffer.byteOffset + this.#offset,
        buffer.byteLength - this.#offset,
      );
      this.#offset = 0;
      this.#consumed(chunk.byteLength);
      return chunk;
    }
    if (this.#eof) return null;
    if (this.#error !== undefined) throw this.#error;
    return undefined;
  }

  /** `n` queued bytes were read: resume the socket once below the bound. */
  #consumed(n: number): void {
    this.#queued -= n;
    if (this.#paused && this.#queued < READ_AHEAD) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /**
   * Fills `p` from the chunks that arrived: the number of bytes, `null` at
   * the end of the stream, or `undefined` when the read has to wait. Throws
   * once the connection is closed or failed and nothing is left to read.
   */
  #take(p: Uint8Array): number | null | undefined {
    if (this.#closed) {
      throw new ConnectionClosedError("Cannot read: the connection is closed");
    }
    if (p.byteLength === 0) return 0;
    if (this.#queued > 0) {
      const chunks = this.#chunks;
      let n = 0;
      while (n < p.byteLength && chunks.length > 0) {
        const chunk = chunks[0]!;
        const offset = this.#offset;
        const take = Math.min(chunk.byteLength - offset, p.byteLength - n);
        p.set(
          offset === 0 && take === chunk.byteLength
            ? chunk
            : new Uint8Array(chunk.buffer, chunk.byteOffset + offset, take),
          n,
        );
        n += take;
        if (offset + take === chunk.byteLength) {
          chunks.shift();
          this.#offset = 0;
        } else {
          this.#offset = offset + take;
        }
      }
      this.#consumed(n);
      return n;
    }
    if (this.#eof) return null;
    if (this.#error !== undefined) throw this.#error;
    return undefined;
  }

  /** Settles waiting reads, in order, as far as the connection's state allows. */
  #serve(): void {
    const readers = this.#readers;
    while (readers.length > 0) {
      const reader = readers[0]!;
      try {
        if (reader.p === null) {
          const chunk = this.#takeChunk();
          if (chunk === undefined) return;
          readers.shift();
          reader.resolve(chunk);
        } else {
          const n = this.#take(reader.p);
          if (n === undefined) return;
          readers.shift();
          reader.resolve(n);
        }
      } catch (error) {
        readers.shift();
        reader.reject(error);
      }
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
    this.#chunks = [];
    this.#queued = 0;
    this.#fail(new ConnectionClosedError("Connection closed"));
    this.#socket.destroy();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
  }

  /** Why the connection cannot be used any more, if it cannot. */
  #failure(): unknown {
    return this.#closed
      ? new ConnectionClosedError("Connection closed")
      : this.#error;
  }

  /** Records the first error; fails pending writes and waiting reads. */
  #fail(error: unknown): void {
    if (this.#error === undefined && !this.#closed) this.#error = error;
    const failure = this.#failure() ?? error;
    for (const fail of [...this.#pending]) fail(failure);
    this.#serve();
  }
}
