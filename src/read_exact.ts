/**
 * Reading exactly N bytes across short reads.
 *
 * @module
 */

import { readSome } from "./_read_some.ts";
import { UnexpectedEofError } from "./errors.ts";
import type { Reader, SignalOptions } from "./types.ts";

export { MAX_CONSECUTIVE_EMPTY_READS } from "./_read_shell.ts";

/**
 * Options for {@linkcode readExact}.
 *
 * @example Name what is read, for the message
 * ```ts
 * import { readExact, type ReadExactOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const empty = { read: () => Promise.resolve(null) };
 * const options: ReadExactOptions = { what: "greeting" };
 * await assert.rejects(readExact(empty, 5, options), {
 *   message: "Cannot read greeting: stream ended after 0 of 5 bytes",
 * });
 * ```
 */
export interface ReadExactOptions extends SignalOptions {
  /**
   * What is being read, used in the error message:
   * `Cannot read frame header: stream ended after 1 of 4 bytes`.
   *
   * @default {undefined}
   */
  what?: string | undefined;
}

/**
 * Reads exactly `n` bytes (or exactly enough to fill `buffer`) from
 * `reader`, looping over short reads. Bytes beyond those are left in the
 * stream for the next call.
 *
 * Like Go's `io.ReadFull`: end of stream before anything was read is a clean
 * close (`UnexpectedEofError` with `bytesRead === 0`); end of stream after
 * some bytes means the data was cut short.
 *
 * @param reader Where to read from.
 * @param n How many bytes to read (a non-negative safe integer), or the
 * buffer to fill completely.
 * @param options A signal to cancel the read, and a name for messages.
 * @returns The filled buffer: a new one of length `n`, or `buffer` itself.
 * @throws {UnexpectedEofError} The stream ended first; `bytesRead`,
 * `expected` and `partial` tell how far it got.
 * @throws {NoProgressError} The reader returned 0 bytes too many times.
 * @throws {ConnectionResetError | ConnectionClosedError} The connection
 * failed; the runtime's error is the `cause`.
 * @throws {RangeError} `n` is negative or not an integer, or the reader
 * returned more bytes than asked.
 * @throws {TypeError} `n` is neither a number nor a `Uint8Array`.
 * @throws {unknown} `signal.reason` as soon as the signal aborts, even while
 * the peer is silent. The read in flight may still consume bytes (and write
 * them into `buffer`): treat the stream as unusable, or use `FrameReader`,
 * whose reads resume losslessly.
 *
 * @example Read a 4-byte header, then the payload it announces
 * ```ts
 * import { readExact } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([0, 0, 0, 2, 104, 105]);
 * let offset = 0;
 * const reader = { // hands out one byte per read, like a slow network
 *   read(p: Uint8Array) {
 *     if (offset === wire.length) return Promise.resolve(null);
 *     p[0] = wire[offset++]!;
 *     return Promise.resolve(1);
 *   },
 * };
 * const header = await readExact(reader, 4);
 * const length = new DataView(header.buffer).getUint32(0);
 * const payload = await readExact(reader, new Uint8Array(length));
 * assert.equal(new TextDecoder().decode(payload), "hi");
 * ```
 */
export async function readExact(
  reader: Reader,
  n: number | Uint8Array,
  options: ReadExactOptions = {},
): Promise<Uint8Array> {
  let buffer: Uint8Array;
  if (typeof n === "number") {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot read ${n} bytes: the count must be a non-negative safe integer`,
      );
    }
    buffer = new Uint8Array(n);
  } else if (n instanceof Uint8Array) {
    buffer = n;
  } else {
    throw new TypeError(
      `Cannot read: expected a byte count or a Uint8Array, got ${typeof n}`,
    );
  }
  const { signal, what } = options;
  signal?.throwIfAborted();
  const expected = buffer.byteLength;
  let filled = 0;
  while (filled < expected) {
    const got = await readSome(reader, buffer.subarray(filled), signal);
    if (got === null) {
      throw new UnexpectedEofError({
        bytesRead: filled,
        expected,
        partial: buffer.slice(0, filled),
        ...(what === undefined ? {} : { what }),
      });
    }
    filled += got;
  }
  return buffer;
}
