// One read that made progress, for the loops that fill a buffer (readExact,
// readProxyHeader): the signal raced, the runtime's errors mapped, the
// Reader contract checked, and zero-byte reads bounded instead of spun on.

import { abortable, isAbortReason } from "./_abort.ts";
import { NoProgressError, normalizeError } from "./errors.ts";
import type { Reader } from "./types.ts";

/** Zero-byte reads in a row before giving up (Go's `io` uses the same). */
export const MAX_EMPTY_READS = 100;

/**
 * Reads into `target` (not empty) until a read returns bytes: their count,
 * or `null` at the end of the stream.
 *
 * @throws {NoProgressError} {@linkcode MAX_EMPTY_READS} reads returned 0.
 * @throws {RangeError} The reader returned more than `target` holds.
 * @throws {unknown} `signal.reason`, or the reader's error mapped by
 * `normalizeError()`.
 */
export async function readSome(
  reader: Reader,
  target: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<number | null> {
  for (let emptyReads = 0;;) {
    let got: number | null;
    try {
      got = await abortable(reader.read(target), signal);
    } catch (error) {
      throw isAbortReason(error, signal) ? error : normalizeError(error);
    }
    if (got === null) return null;
    if (!Number.isInteger(got) || got < 0 || got > target.byteLength) {
      throw new RangeError(
        `Cannot read: reader returned ${got} for a ${target.byteLength}-byte buffer`,
      );
    }
    if (got > 0) return got;
    if (++emptyReads >= MAX_EMPTY_READS) throw new NoProgressError(emptyReads);
  }
}
