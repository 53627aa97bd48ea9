/**
 * Delimiter framing: messages separated by a marker such as `"\n"`, the
 * other way (besides a length prefix) to find message boundaries in a TCP
 * byte stream. The anchors are tokio-util's `LinesCodec`/`AnyDelimiterCodec`
 * and Deno std's `DelimiterStream`/`TextLineStream`.
 *
 * A frame is the bytes before each delimiter; the delimiter itself is not
 * part of it. The stream must end exactly after a delimiter (or be empty):
 * bytes after the last one are an error, never a silent partial frame.
 *
 * ## `delimiter` (default `"\n"`)
 *
 * Any non-empty byte sequence, given as a string (UTF-8) or bytes. A
 * multi-byte delimiter may arrive split across reads.
 *
 * ```text
 * delimiter "\n"
 * input:  | h i \n | \n | b y e \n |
 * frames: "hi"  ""  "bye"
 *
 * delimiter "\r\n\r\n" (blank line, as between HTTP header blocks)
 * input:  | a \r \n b \r \n \r | \n c \r \n \r \n |
 * frames: "a\r\nb"  "c"
 * ```
 *
 * ## `stripCR` (default `false`)
 *
 * With the `"\n"` delimiter, also removes one `"\r"` just before it, so
 * CRLF and LF lines both come out clean (SMTP, IRC, Redis' inline commands).
 *
 * ```text
 * input:  | P I N G \r \n | P O N G \n |
 * frames: "PING"  "PONG"
 * ```
 *
 * ## `maxFrameSize` (default 1 MiB = 1,048,576)
 *
 * A frame longer than this fails with `FrameTooLargeError` as soon as more
 * than `maxFrameSize` bytes arrived without a delimiter: the rest of the
 * line is never buffered, so a peer that sends no delimiter cannot make you
 * hold more than `maxFrameSize` plus one read buffer.
 *
 * ```text
 * maxFrameSize 4
 * input:  | a b c d \n | e f g h i ...
 * frames: "abcd"  FrameTooLargeError { size: 5, limit: 4 }
 * ```
 *
 * @module
 */

import {
  checkSize,
  DEFAULT_READ_BUFFER_SIZE,
  DelimiterDecoder,
  resolveDelimiterOptions,
} from "./_delimiter.ts";
import { ReadShell } from "./_read_shell.ts";
import type { Reader, SignalOptions } from "./types.ts";

/**
 * How delimited frames are marked and bounded; shared by
 * {@linkcode DelimitedReader} and {@linkcode DelimiterDecoderStream}.
 *
 * @example CRLF lines with a cap
 * ```ts
 * import { DelimitedReader, type DelimiterOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new TextEncoder().encode("HELO a\r\nQUIT\r\n");
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * const options: DelimiterOptions = { stripCR: true, maxFrameSize: 512 };
 * const lines: string[] = [];
 * for await (const line of new DelimitedReader(reader, options)) {
 *   lines.push(new TextDecoder().decode(line));
 * }
 * assert.deepEqual(lines, ["HELO a", "QUIT"]);
 * ```
 */
export interface DelimiterOptions {
  /**
   * The bytes that end each frame: a string (encoded as UTF-8) or bytes,
   * never empty. It is copied, so changing the array later has no effect.
   *
   * @default {"\n"}
   */
  delimiter?: Uint8Array | string;
  /**
   * The largest frame, in bytes, not counting the delimiter (nor a stripped
   * `"\r"`). A longer frame fails with `FrameTooLargeError` as soon as more
   * than this many bytes arrived without a delimiter.
   *
   * @default {1048576}
   */
  maxFrameSize?: number;
  /**
   * Remove one `"\r"` just before each `"\n"`, so CRLF and LF lines both
   * work. Only valid with the `"\n"` delimiter.
   *
   * @default {false}
   */
  stripCR?: boolean;
}

/**
 * Options for {@linkcode DelimitedReader}.
 *
 * @example A NUL-delimited stream with a small read buffer
 * ```ts
 * import { DelimitedReader, type DelimitedReaderOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([97, 0, 98, 0]);
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * const options: DelimitedReaderOptions = { delimiter: new Uint8Array([0]), readBufferSize: 1024 };
 * const frames = new DelimitedReader(reader, options);
 * assert.deepEqual(await frames.read(), new Uint8Array([97]));
 * assert.deepEqual(await frames.read(), new Uint8Array([98]));
 * assert.equal(await frames.read(), null);
 * ```
 */
export interface DelimitedReaderOptions extends DelimiterOptions {
  /**
   * About how much the reader asks for per `read()` of the underlying
   * reader while data streams in. The reader starts with a 4 KiB buffer (or
   * this size, if smaller), takes this much more once a read fills it, and
   * goes back to 4 KiB after a read that came back short, so an idle reader
   * holds at most 4 KiB. The buffer grows past this size only to hold a
   * frame longer than it (up to `maxFrameSize`).
   *
   * @default {65536}
   */
  readBufferSize?: number;
}

/**
 * Reads delimiter-separated frames from a {@linkcode Reader} such as a
 * `Deno.Conn`, buffered: one `read()` on the connection serves many small
 * frames, and a frame split across reads (delimiter included) is put back
 * together.
 *
 * Ownership: every frame returned is a fresh copy that belongs to the
 * caller; later reads never touch it.
 *
 * After any error other than an abort (a frame over the cap, a truncated
 * end, a failed connection), the stream is out of sync: every later
 * `read()` rejects with the same error; close the connection. At a clean
 * end of stream, every later `read()` resolves to `null`.
 *
 * The reader does not own `reader`: ending an iteration early (`break`)
 * does not close the connection.
 *
 * @example Read lines from a connection
 * ```ts
 * import { DelimitedReader, type Reader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * // Stands in for a TCP connection: the data arrives in odd pieces.
 * const pieces = ["he", "llo\nwor", "ld\n", "\nbye\n"].map((s) => new TextEncoder().encode(s));
 * const conn: Reader = {
 *   read(p) {
 *     const piece = pieces.shift();
 *     if (piece === undefined) return Promise.resolve(null);
 *     p.set(piece);
 *     return Promise.resolve(piece.byteLength);
 *   },
 * };
 *
 * const lines: string[] = [];
 * for await (const frame of new DelimitedReader(conn)) {
 *   lines.push(new TextDecoder().decode(frame));
 * }
 * assert.deepEqual(lines, ["hello", "world", "", "bye"]);
 * ```
 *
 * @example A multi-byte delimiter
 * ```ts
 * import { DelimitedReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new TextEncoder().encode("a\r\nb\r\n\r\nc\r\n\r\n");
 * let offset = 0;
 * const oneByteAtATime = {
 *   read(p: Uint8Array) {
 *     if (offset === wire.length) return Promise.resolve(null);
 *     p[0] = wire[offset++]!;
 *     return Promise.resolve(1);
 *   },
 * };
 * const reader = new DelimitedReader(oneByteAtATime, { delimiter: "\r\n\r\n" });
 * const text = (frame: Uint8Array | null) => frame && new TextDecoder().decode(frame);
 * assert.equal(text(await reader.read()), "a\r\nb");
 * assert.equal(text(await reader.read()), "c");
 * assert.equal(await reader.read(), null);
 * ```
 *
 * @example CRLF lines with `stripCR`
 * ```ts
 * import { DelimitedReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new TextEncoder().encode("PING\r\nPONG\n");
 * let sent = false;
 * const conn = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.byteLength);
 *   },
 * };
 * const lines = [];
 * for await (const frame of new DelimitedReader(conn, { stripCR: true })) {
 *   lines.push(new TextDecoder().decode(frame));
 * }
 * assert.deepEqual(lines, ["PING", "PONG"]);
 * ```
 *
 * @example A line over `maxFrameSize` fails without being buffered whole
 * ```ts
 * import { DelimitedReader, FrameTooLargeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let handedOut = 0;
 * const endless = { // "x" forever, no delimiter
 *   read(p: Uint8Array) {
 *     p.fill(0x78);
 *     handedOut += p.byteLength;
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const reader = new DelimitedReader(endless, { maxFrameSize: 1000, readBufferSize: 256 });
 * await assert.rejects(reader.read(), (error) => {
 *   assert.ok(error instanceof FrameTooLargeError);
 *   assert.equal(error.size, 1001);
 *   assert.equal(error.limit, 1000);
 *   return true;
 * });
 * assert.ok(handedOut <= 1000 + 1 + 256);
 * ```
 */
export class DelimitedReader implements AsyncIterable<Uint8Array> {
  readonly #shell: ReadShell;

  /**
   * Wraps `reader`. Nothing is read until the first {@linkcode read}.
   *
   * @param reader Where the bytes come from, e.g. a `Deno.Conn`.
   * @param options The delimiter, the frame cap, `stripCR` and the read
   * buffer size.
   * @throws {TypeError} `reader` has no `read` method, the delimiter is
   * empty or of the wrong type, or `stripCR` is set with a delimiter other
   * than `"\n"`.
   * @throws {RangeError} `maxFrameSize` is negative or not an integer, or
   * `readBufferSize` is less than 1.
   */
  constructor(reader: Reader, options: DelimitedReaderOptions = {}) {
    if (typeof reader?.read !== "function") {
      throw new TypeError(
        "Cannot create DelimitedReader: reader has no read() method",
      );
    }
    const resolved = resolveDelimiterOptions(options);
    const readBufferSize = checkSize(
      "readBufferSize",
      options.readBufferSize ?? DEFAULT_READ_BUFFER_SIZE,
      1,
    );
    this.#shell = new ReadShell(
      reader,
      new DelimiterDecoder(resolved, readBufferSize),
      "DelimitedReader",
    );
  }

  /**
   * Reads the next frame.
   *
   * @param options A signal to cancel the wait. An abort loses no bytes:
   * the underlying read stays in flight, and the next `read()` picks up its
   * result.
   * @returns The frame without its delimiter (a copy the caller owns), or
   * `null` when the stream ended cleanly right after a delimiter.
   * @throws {FrameTooLargeError} The frame is longer than `maxFrameSize`;
   * `size` is `maxFrameSize + 1` (the rest was not read).
   * @throws {UnexpectedEofError} The stream ended after bytes with no
   * delimiter; `bytesRead` counts them and `partial` holds them.
   * @throws {NoProgressError} The reader returned 0 bytes too many times.
   * @throws {ConnectionResetError | ConnectionClosedError} The connection
   * failed; the runtime's error is the `cause`.
   * @throws {RangeError} The reader broke its contract (returned a
   * negative, fractional or too large count).
   * @throws {TypeError} Another `read()` on this reader is still pending.
   * @throws {unknown} `signal.reason` when the signal aborts.
   *
   * @example Abort a read, then resume with nothing lost
   * ```ts
   * import { DelimitedReader } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * let deliver = (_bytes: Uint8Array) => {};
   * const slow = {
   *   read(p: Uint8Array) {
   *     return new Promise<number>((resolve) => {
   *       deliver = (bytes) => {
   *         p.set(bytes);
   *         resolve(bytes.byteLength);
   *       };
   *     });
   *   },
   * };
   * const reader = new DelimitedReader(slow);
   * const controller = new AbortController();
   * const first = reader.read({ signal: controller.signal });
   * controller.abort(new Error("deadline"));
   * await assert.rejects(first, { message: "deadline" });
   *
   * deliver(new TextEncoder().encode("late\n")); // the read in flight completes
   * const frame = await reader.read();
   * assert.equal(new TextDecoder().decode(frame!), "late");
   * ```
   */
  read(options: SignalOptions = {}): Promise<Uint8Array | null> {
    return this.#shell.read(options.signal);
  }

  /**
   * Iterates over the frames until the stream ends cleanly; rejects like
   * {@linkcode read}.
   *
   * @returns An async iterator of frames.
   *
   * @example
   * ```ts
   * import { DelimitedReader } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const wire = new TextEncoder().encode("one\ntwo\n");
   * let sent = false;
   * const conn = {
   *   read(p: Uint8Array) {
   *     if (sent) return Promise.resolve(null);
   *     sent = true;
   *     p.set(wire);
   *     return Promise.resolve(wire.byteLength);
   *   },
   * };
   * let count = 0;
   * for await (const _frame of new DelimitedReader(conn)) count++;
   * assert.equal(count, 2);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (let frame = await this.read(); frame !== null;) {
      yield frame;
      frame = await this.read();
    }
  }
}
