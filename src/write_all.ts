/**
 * Writing every byte of a buffer across short writes.
 *
 * @module
 */

import { writeFully } from "./_write_fully.ts";
import { withWriteLock } from "./_write_lock.ts";
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
 * **Concurrent calls never interleave.** Calls of `writeAll`,
 * {@linkcode writeFrame}, {@linkcode writeFrames}, {@linkcode writeDelimited}
 * and {@linkcode FrameWriter} on the same writer object take turns: each
 * call's bytes are contiguous on the wire, in call order (Go's `net.Conn`
 * guarantee). Direct `writer.write()` calls are outside this guarantee.
 *
 * **An abort never cuts the data.** A signal that aborts before the call's
 * turn came rejects with `signal.reason` and nothing was written. Once the
 * first byte was handed to the writer, the call still rejects at once with
 * `signal.reason`, but the rest is written in the background, before any
 * later call's bytes: the stream stays in sync and usable.
 *
 * @param writer Where to write.
 * @param data The bytes to write; not modified, and must not be modified by
 * the caller until the promise settles (or, after an abort, until a later
 * call on the same writer settled).
 * @param options A signal to cancel the write.
 * @returns A promise that resolves once every byte has been accepted.
 * @throws {WriteZeroError} The writer accepted 0 bytes of a non-empty buffer
 * (instead of spinning forever).
 * @throws {ConnectionResetError | BrokenPipeError | ConnectionClosedError}
 * The connection failed; the runtime's error is the `cause`.
 * @throws {RangeError} The writer broke its contract (returned a negative,
 * fractional or too large count).
 * @throws {unknown} `signal.reason` when the signal aborts (for
 * `AbortSignal.timeout()` a `DOMException` named `TimeoutError`;
 * {@linkcode normalizeError} maps it to `TIMEOUT`): either nothing was
 * written, or all of `data` is being written.
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
 *
 * @example Concurrent calls take turns
 * ```ts
 * import { writeAll } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire: number[] = [];
 * const twoBytesAtATime = {
 *   async write(p: Uint8Array) {
 *     await new Promise((resolve) => setTimeout(resolve, 1));
 *     wire.push(...p.subarray(0, 2));
 *     return Math.min(2, p.byteLength);
 *   },
 * };
 * await Promise.all([
 *   writeAll(twoBytesAtATime, new Uint8Array([1, 1, 1, 1, 1])),
 *   writeAll(twoBytesAtATime, new Uint8Array([2, 2, 2])),
 * ]);
 * assert.deepEqual(wire, [1, 1, 1, 1, 1, 2, 2, 2]);
 * ```
 */
export async function writeAll(
  writer: Writer,
  data: Uint8Array,
  options: WriteAllOptions = {},
): Promise<void> {
  await withWriteLock(writer, options.signal, () => writeFully(writer, data));
}
