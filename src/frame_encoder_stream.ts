/**
 * A `TransformStream` from payloads to length-prefixed bytes.
 *
 * @module
 */

import { layoutOf } from "./_layout.ts";
import type { FrameOptions } from "./frame_options.ts";
import { COALESCE_LIMIT } from "./write_frame.ts";

/**
 * Turns each payload written to it into a frame: one chunk holding header and
 * payload for frames up to {@linkcode COALESCE_LIMIT} bytes (so a socket
 * writes it in one call), a header chunk followed by the payload itself,
 * uncopied, for larger ones.
 *
 * A payload over `maxFrameSize`, or whose length does not fit the length
 * field, errors the stream with a `RangeError`.
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
    const layout = layoutOf(options);
    layout.assertEncodable();
    super({
      transform(payload, controller) {
        if (!(payload instanceof Uint8Array)) {
          throw new TypeError(
            `Cannot encode frame: expected a Uint8Array payload, got ${typeof payload}`,
          );
        }
        layout.checkPayload(payload.byteLength);
        const headerLength = layout.headerLengthFor(payload.byteLength);
        if (headerLength + payload.byteLength <= COALESCE_LIMIT) {
          const frame = new Uint8Array(headerLength + payload.byteLength);
          layout.writeHeader(frame, 0, payload.byteLength);
          frame.set(payload, headerLength);
          controller.enqueue(frame);
          return;
        }
        const header = new Uint8Array(headerLength);
        layout.writeHeader(header, 0, payload.byteLength);
        controller.enqueue(header);
        controller.enqueue(payload);
      },
    });
  }
}
