/**
 * Writing every byte of a buffer across short writes.
 *
 * @module
 */

import { abortable, isAbortReason } from "./_abort.ts";
import { normalizeError, WriteZeroError } from "./errors.ts";
import type { SignalOptions, Writer } from "./types.ts";

/**
 * Options for {@linkcode writeAll}.
 *
 * @example A deadline for the whole write
 * ```ts
 * import { writeAll, type WriteAllOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const stalled = { write: () => new Promise<number>(() => {}) };
 * const options: WriteAllOptions = { signal: AbortSignal.timeout(10) };
 * await assert.rejects(writeAll(stalled, new Uint8Array(1), options), { name: "TimeoutError" });
 * ```
 */
export type WriteAllOptions = SignalOptions;

/**
 * Writes all of `data` to `writer`, calling `write` again after each short
 * write (a single `Deno.Conn.write` of 64 MB has been seen to take only
 * 4 MB).
 *
 * @param writer Where to write.
 * @param data The bytes to write; not modified, and must not be modified by
 * the caller until the promise settles.
 * @param options A signal to cancel the write.
 * @returns A promise that resolves once every byte has been accepted.
 * @throws {WriteZeroError} The writer accepted 0 bytes of a non-empty buffer
 * (instead of spinning forever).
 * @throws {ConnectionResetError | BrokenPipeError | ConnectionClosedError}
 * The connection failed; the runtime's error is the `cause`.
 * @throws {RangeError} The writer broke its contract (returned a negative,
 * fractional or too large count).
 * @throws {unknown} `signal.reason` when the signal aborts before or during
 * the write. How many bytes went out is then unknown: close the connection.
 *
 * @example Short writes are looped over
 * ```ts
 * import { writeAll } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const received: number[] = [];
 * const oneByteAtATime = {
 *   write(p: Uint8Array) {
 *     received.push(p[0]!);
 *     return Promise.resolve(1);
 *   },
 * };
 * await writeAll(oneByteAtATime, new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(received, [1, 2, 3, 4]);
 * ```
 */
export async function writeAll(
  writer: Writer,
  data: Uint8Array,
  options: WriteAllOptions = {},
): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  let written = 0;
  while (written < data.byteLength) {
    const rest = written === 0 ? data : data.subarray(written);
    let n: number;
    try {
      n = await abortable(writer.write(rest), signal);
    } catch (error) {
      throw isAbortReason(error, signal) ? error : normalizeError(error);
    }
    if (!Number.isInteger(n) || n < 0 || n > rest.byteLength) {
      throw new RangeError(
        `Cannot write: writer returned ${n} for a ${rest.byteLength}-byte buffer`,
      );
    }
    if (n === 0) throw new WriteZeroError(written, data.byteLength);
    written += n;
  }
}
