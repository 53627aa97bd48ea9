// The short-write loop under writeAll() and every framed write: no lock,
// no signal (callers add both).

import { normalizeError, WriteZeroError } from "./errors.ts";
import type { Writer } from "./types.ts";

/**
 * Writes all of `data`, calling `write` again after each short write.
 * Errors of the writer come out as tcpframe's classes.
 */
export async function writeFully(
  writer: Writer,
  data: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const rest = written === 0 ? data : data.subarray(written);
    let n: number;
    try {
      n = await writer.write(rest);
    } catch (error) {
      throw normalizeError(error);
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
