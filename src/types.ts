/**
 * The structural interfaces tcpframe reads from and writes to.
 *
 * They are shaped after `Deno.Conn` so that a Deno connection satisfies them
 * unchanged; the Node adapter (`tcpframe/node`) implements them over
 * `net.Socket`.
 *
 * @module
 */

/**
 * A source of bytes, read into a caller-provided buffer.
 *
 * Contract (the same as Deno's `Reader`):
 * - `read(p)` resolves to the number of bytes written into `p`, with
 *   `0 < n <= p.byteLength` whenever `p.byteLength > 0`, or to `null` at end
 *   of stream. It may resolve with fewer bytes than `p.byteLength` (a short
 *   read) even when more will arrive later.
 * - Bytes are written to `p[0..n)` only; the rest of `p` is left untouched.
 * - The implementation must not keep a reference to `p` after the promise
 *   settles.
 * - A reader that resolves to `0` for a non-empty `p` violates the contract;
 *   tcpframe tolerates a bounded number of such reads, then fails with
 *   {@linkcode NoProgressError}.
 *
 * @example An in-memory reader that honours the contract
 * ```ts
 * import { readExact, type Reader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const data = new Uint8Array([1, 2, 3, 4, 5]);
 * let offset = 0;
 * const reader: Reader = {
 *   read(p) {
 *     if (offset === data.length) return Promise.resolve(null); // end of stream
 *     const n = Math.min(p.length, 2, data.length - offset); // short reads
 *     p.set(data.subarray(offset, offset + n));
 *     offset += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * assert.deepEqual(await readExact(reader, 5), data);
 * ```
 */
export interface Reader {
  /**
   * Reads up to `p.byteLength` bytes into `p`.
   *
   * @param p The buffer to fill.
   * @returns The number of bytes read, or `null` at end of stream.
   */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * A sink of bytes.
 *
 * Contract (the same as Deno's `Writer`):
 * - `write(p)` resolves to the number of bytes taken from the front of `p`,
 *   `0 <= n <= p.byteLength`. Fewer than `p.byteLength` (a short write) is
 *   normal; the caller writes the rest.
 * - The caller must not modify `p` until the promise settles; the
 *   implementation must not keep a reference to `p` after it settles.
 *
 * @example A writer that takes at most 3 bytes per call
 * ```ts
 * import { writeAll, type Writer } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const received: number[] = [];
 * const writer: Writer = {
 *   write(p) {
 *     const n = Math.min(p.length, 3);
 *     received.push(...p.subarray(0, n));
 *     return Promise.resolve(n);
 *   },
 * };
 * await writeAll(writer, new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
 * assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7]);
 * ```
 */
export interface Writer {
  /**
   * Writes bytes from the front of `p`.
   *
   * @param p The bytes to write.
   * @returns The number of bytes written.
   */
  write(p: Uint8Array): Promise<number>;
}

/**
 * A network address, as `Deno.NetAddr` describes one.
 *
 * @example Format an address the way the echo logs do
 * ```ts
 * import type { NetAddr } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const addr: NetAddr = { transport: "tcp", hostname: "::1", port: 9000 };
 * const text = addr.hostname.includes(":")
 *   ? `[${addr.hostname}]:${addr.port}`
 *   : `${addr.hostname}:${addr.port}`;
 * assert.equal(text, "[::1]:9000");
 * ```
 */
export interface NetAddr {
  /** The transport; tcpframe works over `"tcp"`. */
  transport: "tcp" | "udp";
  /** The IP address or host name. */
  hostname: string;
  /** The port number. */
  port: number;
}

/**
 * A Unix domain socket address, as `Deno.UnixAddr` describes one.
 *
 * `path` is the socket file's path. The unnamed end of a connection (the
 * client's, usually) has no path: Node reports `""` and Deno `null`.
 *
 * @example Format an address the way the echo logs do
 * ```ts
 * import type { NetAddr, UnixAddr } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * function show(addr: NetAddr | UnixAddr): string {
 *   return addr.transport === "unix"
 *     ? `unix:${addr.path}`
 *     : `${addr.hostname}:${addr.port}`;
 * }
 * assert.equal(show({ transport: "unix", path: "/tmp/echo.sock" }), "unix:/tmp/echo.sock");
 * ```
 */
export interface UnixAddr {
  /** The transport: a stream socket. */
  transport: "unix";
  /** The socket file's path; empty (Deno: `null`) for an unnamed socket. */
  path: string;
}

/**
 * A bidirectional byte stream with half-close: what `Deno.Conn` is, and what
 * the Node adapter returns.
 *
 * @example Code written against Conn runs on Deno.Conn and the Node adapter
 * ```ts
 * import { type Conn, FrameReader, writeFrame } from "@tcpframe/tcpframe";
 *
 * // Echoes frames until the peer half-closes, then half-closes back.
 * export async function echo(conn: Conn): Promise<void> {
 *   for await (const frame of new FrameReader(conn)) await writeFrame(conn, frame);
 *   await conn.closeWrite();
 *   conn.close();
 * }
 * ```
 */
export interface Conn extends Reader, Writer {
  /**
   * Half-closes the connection: tells the peer "I will send nothing more"
   * (TCP FIN, `shutdown(SHUT_WR)`) while reading can go on.
   *
   * @returns A promise that settles once the FIN has been queued.
   */
  closeWrite(): Promise<void>;
  /** Closes the connection in both directions and releases it. */
  close(): void;
  /**
   * Turns Nagle's algorithm off (`true`) or on (`false`). Optional: not
   * every connection (TLS, Unix sockets, test doubles) has it.
   *
   * @param noDelay `true` to send small segments at once.
   */
  setNoDelay?(noDelay?: boolean): void;
  /**
   * Turns TCP keepalive probes on (`true`) or off (`false`): the OS then
   * notices a peer that vanished without a FIN or a reset. Optional: not
   * every connection (TLS, Unix sockets, test doubles) has it.
   *
   * @param keepAlive `true` to send keepalive probes on an idle connection.
   */
  setKeepAlive?(keepAlive?: boolean): void;
  /** The local address, where known. */
  readonly localAddr?: NetAddr | UnixAddr | { transport: string };
  /** The peer's address, where known. */
  readonly remoteAddr?: NetAddr | UnixAddr | { transport: string };
}

/**
 * A source of incoming connections: what `Deno.Listener` is, and what the
 * Node adapter's `listen()` returns.
 *
 * @typeParam C The kind of connection accepted.
 *
 * @example Serve every connection of any Listener
 * ```ts
 * import type { Conn, Listener } from "@tcpframe/tcpframe";
 *
 * export async function serve(listener: Listener, handle: (conn: Conn) => Promise<void>) {
 *   for await (const conn of listener) {
 *     handle(conn).catch(() => conn.close()); // one bad peer never stops the loop
 *   }
 * }
 * ```
 */
export interface Listener<C extends Conn = Conn> extends AsyncIterable<C> {
  /**
   * The address the listener is bound to: the real port for TCP, the path
   * for a Unix socket.
   */
  readonly addr: NetAddr | UnixAddr | { transport: string };
  /**
   * Waits for and returns the next connection.
   *
   * @returns The accepted connection.
   */
  accept(): Promise<C>;
  /** Stops listening; pending and later `accept()` calls reject. */
  close(): void;
}

/**
 * Options for calls that can be cancelled.
 *
 * @example A deadline for one read
 * ```ts
 * import { readExact } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const silent = { read: () => new Promise<number | null>(() => {}) };
 * await assert.rejects(
 *   readExact(silent, 4, { signal: AbortSignal.timeout(10) }),
 *   { name: "TimeoutError" },
 * );
 * ```
 */
export interface SignalOptions {
  /**
   * Cancels the call: the promise rejects with `signal.reason` as soon as the
   * signal aborts, even while the peer is silent. Use
   * `AbortSignal.timeout(ms)` for a deadline.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}
