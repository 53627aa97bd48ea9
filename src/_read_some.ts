// One read that made progress, for the loops that fill a buffer (readExact,
// readProxyHeader): the signal raced, the runtime's errors mapped, the
// Reader contract checked, and zero-byte reads bounded instead of spun on.

import { abortable, isAbortReason } from "./_abort.ts";
import { checkCount, countEmptyRead } from "./_read_shell.ts";
import { normalizeError } from "./errors.ts";
import type { Reader } from "./types.ts";

/**
 * Reads into `target` (not empty) until a read returns bytes: their count,
 * or `null` at the end of the stream.
 *
 * @throws {NoProgressError} `MAX_CONSECUTIVE_EMPTY_READS` reads returned 0.
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
    const n = checkCount(got, target.byteLength);
    if (n !== 0) return n;
    emptyReads = countEmptyRead(emptyReads);
  }
}
