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

/** A network address, as `Deno.NetAddr` describes one. */
export interface NetAddr {
  /** The transport; tcpframe works over `"tcp"`. */
  transport: "tcp" | "udp";
  /** The IP address or host name. */
  hostname: string;
  /** The port number. */
  port: number;
}

/**
 * A bidirectional byte stream with half-close: what `Deno.Conn` is, and what
 * the Node adapter returns.
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
  /** The local address, where known. */
  readonly localAddr?: NetAddr | { transport: string };
  /** The peer's address, where known. */
  readonly remoteAddr?: NetAddr | { transport: string };
}

/**
 * A source of incoming connections: what `Deno.Listener` is, and what the
 * Node adapter's `listen()` returns.
 *
 * @typeParam C The kind of connection accepted.
 */
export interface Listener<C extends Conn = Conn> extends AsyncIterable<C> {
  /** The address the listener is bound to, with the real port. */
  readonly addr: NetAddr | { transport: string };
  /**
   * Waits for and returns the next connection.
   *
   * @returns The accepted connection.
   */
  accept(): Promise<C>;
  /** Stops listening; pending and later `accept()` calls reject. */
  close(): void;
}

/** Options for calls that can be cancelled. */
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
