/**
 * A `TransformStream` from bytes to length-prefixed frames.
 *
 * @module
 */

import { type ChunkDecoder, decodeReadable } from "./_decoded_readable.ts";
import { type HeaderInfo, type Layout, layoutOf } from "./_layout.ts";
import { UnexpectedEofError } from "./errors.ts";
import type { FrameOptions } from "./frame_options.ts";
import { Slab } from "./_slab.ts";

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
   * @param options The layout and the cap.
   * @throws {TypeError | RangeError} An option is invalid.
   */
  constructor(options?: FrameOptions) {
    const decoder = new PushDecoder(layoutOf(options));
    super();
    decodeReadable(this, decoder);
  }
}

/** The push-style state machine: header, then payload. */
class PushDecoder implements ChunkDecoder {
  readonly #layout: Layout;
  readonly #info: HeaderInfo = { headerLength: 0, payloadLength: 0 };
  /** Bytes of a header split across chunks. */
  readonly #carry: Uint8Array;
  #carried = 0;
  /** A frame whose payload is split across chunks, or null. */
  #frame: Uint8Array | null = null;
  #filled = 0;
  #kept = 0;
  readonly #slab = new Slab();

  constructor(layout: Layout) {
    this.#layout = layout;
    this.#carry = new Uint8Array(layout.offset + 16);
  }

  push(chunk: Uint8Array, emit: (frame: Uint8Array) => void): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot decode frames: expected Uint8Array chunks, got ${typeof chunk}`,
      );
    }
    const layout = this.#layout;
    const info = this.#info;
    this.#slab.forget(); // a new chunk, perhaps a reused array
    let i = 0;
    const length = chunk.byteLength;
    while (i < length) {
      const frame = this.#frame;
      if (frame !== null) {
        const n = Math.min(frame.byteLength - this.#filled, length - i);
        frame.set(chunk.subarray(i, i + n), this.#filled);
        this.#filled += n;
        i += n;
        if (this.#filled === frame.byteLength) {
          this.#frame = null;
          emit(frame);
        }
        continue;
      }
      if (this.#carried > 0) {
        // Complete a header that began in an earlier chunk.
        const before = this.#carried;
        const take = Math.min(this.#carry.byteLength - before, length - i);
        this.#carry.set(chunk.subarray(i, i + take), before);
        if (!layout.parse(this.#carry, 0, before + take, info)) {
          this.#carried = before + take;
          i += take;
          continue;
        }
        i += info.headerLength - before;
        this.#carried = 0;
        this.#begin(this.#carry, 0, emit);
        continue;
      }
      if (!layout.parse(chunk, i, length, info)) {
        this.#carry.set(chunk.subarray(i));
        this.#carried = length - i;
        break;
      }
      const total = info.headerLength + info.payloadLength;
      if (total <= length - i) {
        emit(
          this.#slab.copy(
            chunk,
            i + layout.stripFor(info.headerLength),
            i + total,
            length,
          ),
        );
        i += total;
        continue;
      }
      this.#begin(chunk, i, emit);
      i += info.headerLength;
    }
  }

  /** Allocates a frame whose header is at `source[at..)`. */
  #begin(
    source: Uint8Array,
    at: number,
    emit: (frame: Uint8Array) => void,
  ): void {
    const { headerLength, payloadLength } = this.#info;
    const strip = this.#layout.stripFor(headerLength);
    const kept = headerLength - strip;
    const frame = new Uint8Array(kept + payloadLength);
    frame.set(source.subarray(at + strip, at + headerLength));
    if (payloadLength === 0) {
      emit(frame);
      return;
    }
    this.#frame = frame;
    this.#filled = kept;
    this.#kept = kept;
  }

  end(): void {
    if (this.#frame !== null) {
      throw new UnexpectedEofError({
        bytesRead: this.#filled - this.#kept,
        expected: this.#frame.byteLength - this.#kept,
        partial: this.#frame.slice(this.#kept, this.#filled),
        what: "frame payload",
      });
    }
    if (this.#carried > 0) {
      throw new UnexpectedEofError({
        bytesRead: this.#carried,
        expected: this.#layout.varint
          ? Math.max(this.#layout.minHeader, this.#carried + 1)
          : this.#layout.minHeader,
        partial: this.#carry.slice(0, this.#carried),
        what: "frame header",
      });
    }
  }
}
