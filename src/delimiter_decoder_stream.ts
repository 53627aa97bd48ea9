/**
 * Delimiter framing as a Web Streams `TransformStream`.
 *
 * @module
 */

import {
  DEFAULT_READ_BUFFER_SIZE,
  DelimiterDecoder,
  resolveDelimiterOptions,
} from "./_delimiter.ts";
import { decodeReadable } from "./_decoded_readable.ts";
import type { DelimiterOptions } from "./delimited_reader.ts";

/**
 * Splits a byte stream into delimiter-separated frames, for
 * `conn.readable.pipeThrough(new DelimiterDecoderStream())`. It takes the
 * same options and keeps the same guarantees as
 * {@linkcode DelimitedReader}: the frames exclude the delimiter, each is a
 * fresh copy the consumer owns, a delimiter split across chunks is found,
 * every byte is scanned once, and memory stays bounded by `maxFrameSize`
 * plus 64 KiB whatever the chunks.
 *
 * The stream errors with `FrameTooLargeError` as soon as more than
 * `maxFrameSize` bytes arrived without a delimiter, and with
 * `UnexpectedEofError` when the input ends after bytes with no delimiter;
 * every frame that came before is read out first.
 * A chunk that is not a `Uint8Array` errors it with a `TypeError`.
 *
 * @example Lines from chunks that split them anywhere
 * ```ts
 * import { DelimiterDecoderStream } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const chunks = ["GET /a\r", "\nGET /b\r\n", "\r\n"].map((s) => new TextEncoder().encode(s));
 * const frames = ReadableStream.from(chunks)
 *   .pipeThrough(new DelimiterDecoderStream({ stripCR: true }));
 * const lines = [];
 * for await (const frame of frames) lines.push(new TextDecoder().decode(frame));
 * assert.deepEqual(lines, ["GET /a", "GET /b", ""]);
 * ```
 *
 * @example A truncated end errors the stream
 * ```ts
 * import { DelimiterDecoderStream, UnexpectedEofError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("a||b|c")]);
 * const frames = input.pipeThrough(new DelimiterDecoderStream({ delimiter: "|" }));
 * const seen: string[] = [];
 * await assert.rejects(
 *   (async () => {
 *     for await (const frame of frames) seen.push(new TextDecoder().decode(frame));
 *   })(),
 *   UnexpectedEofError,
 * );
 * assert.deepEqual(seen, ["a", "", "b"]);
 * ```
 *
 * @example A frame over `maxFrameSize` errors the stream
 * ```ts
 * import { DelimiterDecoderStream, FrameTooLargeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const input = ReadableStream.from([new Uint8Array(100).fill(0x61)]);
 * const frames = input.pipeThrough(new DelimiterDecoderStream({ maxFrameSize: 10 }));
 * await assert.rejects(Array.fromAsync(frames), (error) => {
 *   assert.ok(error instanceof FrameTooLargeError);
 *   assert.equal(error.size, 11);
 *   assert.equal(error.limit, 10);
 *   return true;
 * });
 * ```
 */
export class DelimiterDecoderStream
  extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options The delimiter, the frame cap and `stripCR`.
   * @throws {TypeError} The delimiter is empty or of the wrong type, or
   * `stripCR` is set with a delimiter other than `"\n"`.
   * @throws {RangeError} `maxFrameSize` is negative or not an integer.
   */
  constructor(options: DelimiterOptions = {}) {
    const decoder = new DelimiterDecoder(
      resolveDelimiterOptions(options),
      DEFAULT_READ_BUFFER_SIZE,
    );
    super();
    decodeReadable(this, {
      push(chunk, emit) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError(
            `Cannot decode delimited frames: expected Uint8Array chunks, got ${typeof chunk}`,
          );
        }
        let offset = 0;
        while (offset < chunk.byteLength) {
          const space = decoder.space();
          const n = Math.min(space.byteLength, chunk.byteLength - offset);
          space.set(chunk.subarray(offset, offset + n));
          decoder.commit(n);
          offset += n;
          for (let frame; (frame = decoder.next()) !== undefined;) emit(frame);
        }
      },
      end() {
        decoder.end();
      },
    });
  }
}
