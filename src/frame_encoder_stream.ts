/**
 * A `TransformStream` from payloads to length-prefixed bytes.
 *
 * @module
 */

import {
  COALESCE_BYTES,
  encodeHeader,
  encoderOf,
  encodeWhole,
  frameSize,
} from "./_encode.ts";
import type { FrameOptions } from "./frame_options.ts";

/**
 * Turns each payload written to it into a frame: one chunk holding header and
 * payload for frames up to {@linkcode COALESCE_LIMIT} bytes (so a socket
 * writes it in one call), a header chunk followed by the payload itself,
 * uncopied, for larger ones.
 *
 * A payload over `maxFrameSize`, or whose length does not fit the length
 * field, errors the stream with a `RangeError`.
 *
 * Piped into a runtime's own `conn.writable`, a failing connection rejects
 * with that runtime's error (Deno's `BrokenPipe`, Node's `EPIPE`):
 * {@linkcode normalizeError} maps it. For tcpframe's typed errors and a
 * bounded queue shared with other writers of the connection, pipe the
 * payloads into a {@linkcode FrameWriter}'s `writable` instead:
 * `payloads.pipeTo(new FrameWriter(conn).writable)`.
 *
 * @example Frames to a Deno connection
 * ```ts ignore
 * import { FrameEncoderStream } from "@tcpframe/tcpframe";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 9000 });
 * const text = new TextEncoder();
 * await ReadableStream.from(["a", "b"].map((s) => text.encode(s)))
 *   .pipeThrough(new FrameEncoderStream())
 *   .pipeTo(conn.writable); // closes the connection at the end
 * ```
 *
 * @example Encode and decode again
 * ```ts
 * import { FrameDecoderStream, FrameEncoderStream } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const payloads = [new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])];
 * const decoded = await Array.fromAsync(
 *   ReadableStream.from(payloads)
 *     .pipeThrough(new FrameEncoderStream({ lengthFieldLength: 2 }))
 *     .pipeThrough(new FrameDecoderStream({ lengthFieldLength: 2 })),
 * );
 * assert.deepEqual(decoded, payloads);
 * ```
 */
export class FrameEncoderStream
  extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates an encoder.
   *
   * @param options The layout and the cap.
   * @throws {TypeError} The layout is decode-only (`lengthFieldOffset`,
   * `bytesToStrip`) or invalid.
   * @throws {RangeError} An option is out of range.
   */
  constructor(options?: FrameOptions) {
    const layout = encoderOf(options);
    super({
      transform(payload, controller) {
        if (frameSize(layout, payload) <= COALESCE_BYTES) {
          controller.enqueue(encodeWhole(layout, payload));
          return;
        }
        controller.enqueue(encodeHeader(layout, payload));
        controller.enqueue(payload);
      },
    });
  }
}
