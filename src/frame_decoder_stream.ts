/**
 * A `TransformStream` from bytes to length-prefixed frames.
 *
 * @module
 */

import { decodeReadable } from "./_decoded_readable.ts";
import { layoutOf } from "./_layout.ts";
import { discardOf, LengthDecoder } from "./_length_decoder.ts";
import type { FrameOptions } from "./frame_options.ts";
import type { FrameReaderOptions } from "./frame_reader.ts";

/**
 * Splits a byte stream into frames: each chunk it emits is one frame, with
 * the header stripped by default. It takes the same layout options as
 * {@linkcode FrameReader}.
 *
 * The stream errors with {@linkcode FrameTooLargeError} when a length is over
 * `maxFrameSize` (before anything of that size is allocated), with
 * {@linkcode InvalidFrameError} for a header that cannot describe a frame,
 * and with {@linkcode UnexpectedEofError} when the input ends inside a frame;
 * every frame that came before the bad bytes is read out first.
 * Backpressure flows through: it reads input only as frames are consumed.
 *
 * Frames under 4 KiB are views into a slab that holds only bytes of the same
 * stream (neighbouring frames and headers): use `byteOffset` and
 * `byteLength` with `frame.buffer`.
 *
 * @example Frames from a Deno connection
 * ```ts ignore
 * import { FrameDecoderStream } from "@tcpframe/tcpframe";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 9000 });
 * for await (const frame of conn.readable.pipeThrough(new FrameDecoderStream())) {
 *   console.log(frame.byteLength);
 * }
 * ```
 *
 * @example Frames split across chunks are put back together
 * ```ts
 * import { FrameDecoderStream } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const chunks = [new Uint8Array([0, 0]), new Uint8Array([0, 2, 7]), new Uint8Array([8])];
 * const frames = await Array.fromAsync(
 *   ReadableStream.from(chunks).pipeThrough(new FrameDecoderStream()),
 * );
 * assert.deepEqual(frames, [new Uint8Array([7, 8])]);
 * ```
 */
export class FrameDecoderStream
  extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates a decoder.
   *
   * @param options The layout and the cap; `discardTooLongFrames` and
   * `onDiscard` skip frames over the cap, as in {@linkcode FrameReader}.
   * @throws {TypeError | RangeError} An option is invalid.
   */
  constructor(
    options?:
      & FrameOptions
      & Pick<FrameReaderOptions, "discardTooLongFrames" | "onDiscard">,
  ) {
    const decoder = new LengthDecoder(layoutOf(options), {
      borrow: false,
      bufferSize: 0,
      onDiscard: discardOf(options),
    });
    super();
    decodeReadable(this, {
      push(chunk, emit) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError(
            `Cannot decode frames: expected Uint8Array chunks, got ${typeof chunk}`,
          );
        }
        // The writer may reuse its chunk: small frames are copied.
        decoder.push(chunk, false);
        for (let frame; (frame = decoder.next()) !== undefined;) emit(frame);
      },
      end() {
        decoder.end();
      },
    });
  }
}
