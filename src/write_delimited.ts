/**
 * Writing one delimiter-terminated frame.
 *
 * @module
 */

import { DelimiterScanner, normalizeDelimiter } from "./_delimiter.ts";
import type { SignalOptions, Writer } from "./types.ts";
import { writeFully } from "./_write_fully.ts";
import { withWriteLock } from "./_write_lock.ts";

/**
 * Options for {@linkcode writeDelimited}.
 *
 * @example A CRLF delimiter
 * ```ts
 * import { writeDelimited, type WriteDelimitedOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const out: Uint8Array[] = [];
 * const writer = { write: (p: Uint8Array) => (out.push(p.slice()), Promise.resolve(p.length)) };
 * const options: WriteDelimitedOptions = { delimiter: "\r\n" };
 * await writeDelimited(writer, "PING", options);
 * assert.equal(new TextDecoder().decode(out[0]), "PING\r\n");
 * ```
 */
export interface WriteDelimitedOptions extends SignalOptions {
  /**
   * The bytes that end the frame: a string (encoded as UTF-8) or bytes,
   * never empty. Use the same delimiter as the reading side.
   *
   * @default {"\n"}
   */
  delimiter?: Uint8Array | string;
}

/**
 * Writes `payload` followed by the delimiter, in one buffer handed to
 * {@linkcode writeAll}: one `write` call for the whole frame unless the
 * writer takes it short, so Nagle's algorithm never holds back a lone
 * delimiter.
 *
 * A payload that would not come back as one frame is refused before
 * anything is written: one that contains the delimiter, or one whose end
 * runs into the delimiter to form it early (with `"\r\n\r\n"`, a payload
 * ending in `"\r\n"`). With a `"\n"` delimiter and a reader using
 * `stripCR`, a payload ending in `"\r"` loses that byte on the way.
 *
 * @param writer Where to write, e.g. a `Deno.Conn`.
 * @param payload The frame: bytes, or a string encoded as UTF-8.
 * @param options The delimiter and a signal to cancel the write.
 * @returns A promise that resolves once every byte has been accepted.
 * @throws {RangeError} The payload contains the delimiter (or its end and
 * the delimiter form one early); nothing was written.
 * @throws {TypeError} The payload is neither bytes nor a string, or the
 * delimiter is empty or of the wrong type.
 * @throws {WriteZeroError} The writer accepted 0 bytes.
 * @throws {ConnectionResetError | BrokenPipeError | ConnectionClosedError}
 * The connection failed; the runtime's error is the `cause`.
 * @throws {unknown} `signal.reason` when the signal aborts: either nothing
 * was written, or the whole frame is being written (see
 * {@linkcode writeAll}: concurrent calls on one writer never interleave).
 *
 * @example Write lines; each frame is one write
 * ```ts
 * import { writeDelimited } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const writes: string[] = [];
 * const conn = {
 *   write(p: Uint8Array) {
 *     writes.push(new TextDecoder().decode(p));
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * await writeDelimited(conn, "hello");
 * await writeDelimited(conn, new Uint8Array([0x68, 0x69]), { delimiter: "\r\n" });
 * assert.deepEqual(writes, ["hello\n", "hi\r\n"]);
 * ```
 *
 * @example A payload containing the delimiter is refused
 * ```ts
 * import { writeDelimited } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const conn = { write: (p: Uint8Array) => (calls++, Promise.resolve(p.byteLength)) };
 * await assert.rejects(writeDelimited(conn, "two\nlines"), RangeError);
 * assert.equal(calls, 0);
 * ```
 */
export async function writeDelimited(
  writer: Writer,
  payload: Uint8Array | string,
  options: WriteDelimitedOptions = {},
): Promise<void> {
  const delimiter = normalizeDelimiter(options.delimiter);
  let bytes: Uint8Array;
  if (typeof payload === "string") {
    bytes = new TextEncoder().encode(payload);
  } else if (payload instanceof Uint8Array) {
    bytes = payload;
  } else {
    throw new TypeError(
      `Cannot write delimited frame: expected a Uint8Array or a string, got ${typeof payload}`,
    );
  }
  const frame = new Uint8Array(bytes.byteLength + delimiter.byteLength);
  frame.set(bytes);
  frame.set(delimiter, bytes.byteLength);
  // The reader will end the frame at the first delimiter in the frame's
  // bytes, so that first one must be the one appended.
  const found = new DelimiterScanner(delimiter).scan(frame, 0, frame.length);
  if (found !== frame.byteLength) {
    const at = found - delimiter.byteLength;
    throw new RangeError(
      found <= bytes.byteLength
        ? `Cannot write delimited frame: the ${bytes.byteLength}-byte payload contains the delimiter at byte ${at}`
        : `Cannot write delimited frame: the end of the ${bytes.byteLength}-byte payload and the delimiter form a delimiter at byte ${at}`,
    );
  }
  await withWriteLock(writer, options.signal, () => writeFully(writer, frame));
}
