/**
 * A connection wrapper that counts read and write calls: the client's
 * `--trace` statistics, and the server's idle clock.
 *
 * @module
 */

import type { Conn, NetAddr } from "../types.ts";

/** Counts of the calls made on a {@linkcode CountingConn}. */
export interface IoStats {
  /** `read` calls that returned bytes or end of stream. */
  reads: number;
  /** Reads that returned fewer bytes than the buffer had room for. */
  shortReads: number;
  /** Bytes read. */
  bytesRead: number;
  /** `write` calls that returned. */
  writes: number;
  /** Writes that took fewer bytes than offered. */
  shortWrites: number;
  /** Bytes written. */
  bytesWritten: number;
}

const UNKNOWN_ADDR: { transport: string } = { transport: "unknown" };

/**
 * Wraps a {@linkcode Conn}, counting every `read` and `write` and how many
 * came back short: what makes the source document's lesson ("one send is not
 * one recv") visible on a real connection.
 *
 * @example Short reads are counted
 * ```ts
 * import { CountingConn } from "./counting_conn.ts";
 * import assert from "node:assert/strict";
 *
 * const conn = new CountingConn({
 *   read: (p) => Promise.resolve(Math.min(3, p.byteLength)),
 *   write: (p) => Promise.resolve(p.byteLength),
 *   closeWrite: () => Promise.resolve(),
 *   close() {},
 * });
 * await conn.read(new Uint8Array(10));
 * await conn.write(new Uint8Array(5));
 * assert.deepEqual(conn.stats, {
 *   reads: 1, shortReads: 1, bytesRead: 3,
 *   writes: 1, shortWrites: 0, bytesWritten: 5,
 * });
 * ```
 */
export class CountingConn implements Conn {
  readonly #inner: Conn;
  readonly #onProgress: (() => void) | undefined;
  /** The counts so far. */
  readonly stats: IoStats = {
    reads: 0,
    shortReads: 0,
    bytesRead: 0,
    writes: 0,
    shortWrites: 0,
    bytesWritten: 0,
  };

  /**
   * Wraps a connection.
   *
   * @param inner The connection; this wrapper does not own more than it.
   * @param onProgress Called whenever a read or a write moved bytes.
   */
  constructor(inner: Conn, onProgress?: () => void) {
    this.#inner = inner;
    this.#onProgress = onProgress;
  }

  /** The wrapped connection's local address, where known. */
  get localAddr(): NetAddr | { transport: string } {
    return this.#inner.localAddr ?? UNKNOWN_ADDR;
  }

  /** The wrapped connection's peer address, where known. */
  get remoteAddr(): NetAddr | { transport: string } {
    return this.#inner.remoteAddr ?? UNKNOWN_ADDR;
  }

  /**
   * Reads, counting the call.
   *
   * @param p The buffer to fill.
   * @returns What the wrapped connection returned.
   */
  async read(p: Uint8Array): Promise<number | null> {
    const n = await this.#inner.read(p);
    const stats = this.stats;
    stats.reads++;
    if (n !== null) {
      if (n < p.byteLength) stats.shortReads++;
      stats.bytesRead += n;
      if (n > 0) this.#onProgress?.();
    }
    return n;
  }

  /**
   * Writes, counting the call.
   *
   * @param p The bytes to write.
   * @returns What the wrapped connection returned.
   */
  async write(p: Uint8Array): Promise<number> {
    const n = await this.#inner.write(p);
    const stats = this.stats;
    stats.writes++;
    if (n < p.byteLength) stats.shortWrites++;
    stats.bytesWritten += n;
    if (n > 0) this.#onProgress?.();
    return n;
  }

  /**
   * Half-closes the wrapped connection.
   *
   * @returns A promise that settles once the FIN has been queued.
   */
  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }

  /** Closes the wrapped connection. */
  close(): void {
    this.#inner.close();
  }

  /**
   * Sets `TCP_NODELAY` on the wrapped connection, if it has it.
   *
   * @param noDelay `true` to send small segments at once.
   */
  setNoDelay(noDelay?: boolean): void {
    this.#inner.setNoDelay?.(noDelay);
  }
}

/**
 * The statistics as two `[trace]` log lines.
 *
 * @param stats The counts.
 * @param framesSent Frames written.
 * @param framesReceived Frames read.
 * @returns The lines, writes first.
 */
export function formatIoStats(
  stats: IoStats,
  framesSent: number,
  framesReceived: number,
): [string, string] {
  return [
    `[trace] writes: ${stats.writes} calls (${stats.shortWrites} short), ${stats.bytesWritten} bytes, ${framesSent} frames`,
    `[trace] reads: ${stats.reads} calls (${stats.shortReads} short), ${stats.bytesRead} bytes, ${framesReceived} frames`,
  ];
}
