/**
 * Writing length-prefixed frames: one buffer, one write, for small frames.
 *
 * @module
 */

import {
  batchBytesOf,
  COALESCE_BYTES,
  encodeHeader,
  encodeInto,
  encoderOf,
  encodeWhole,
  frameSize,
} from "./_encode.ts";
import { writeFully } from "./_write_fully.ts";
import { withWriteLock } from "./_write_lock.ts";
import type { FrameOptions } from "./frame_options.ts";
import type { SignalOptions, Writer } from "./types.ts";

/**
 * Frames up to this many bytes (header + payload) are copied into one buffer
 * and written with one `write`: a 64 KiB payload with the longest header
 * `writeFrame` writes (8 bytes), or any smaller frame.
 *
 * Why: with Nagle's algorithm on (the default in Deno and Node) and the
 * peer's delayed ACK, a small header written alone and then the payload
 * stalls until the delayed ACK fires: about 88 ms per round trip measured on
 * loopback, against 0.02 ms for one write. Above this size the payload is not
 * copied just to prepend a few bytes: the header goes out in a write of its
 * own and the payload follows at once. That does not stall, because Nagle
 * only holds back a segment smaller than the MSS while data is unacknowledged,
 * the payload right behind the header fills full-size segments at once, and
 * a receiver acknowledges every second full-size segment without delay.
 * It still costs about a round trip more than one write (the payload's last,
 * short segment waits for the header's acknowledgement): 64 KiB ping-pongs
 * on loopback took 97-160 us split, 55-82 us as one write; from 128 KiB on,
 * allocating and filling the combined buffer costs more than that.
 *
 * @example Frames up to the limit are one write
 * ```ts
 * import { COALESCE_LIMIT, writeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const sizes: number[] = [];
 * const writer = { write: (p: Uint8Array) => (sizes.push(p.length), Promise.resolve(p.length)) };
 * await writeFrame(writer, new Uint8Array(COALESCE_LIMIT - 4));
 * await writeFrame(writer, new Uint8Array(COALESCE_LIMIT));
 * assert.deepEqual(sizes, [COALESCE_LIMIT, 4, COALESCE_LIMIT]);
 * ```
 */
export const COALESCE_LIMIT: number = COALESCE_BYTES;

/**
 * Options for {@linkcode writeFrame} and {@linkcode encodeFrame}.
 *
 * @example A layout and a deadline
 * ```ts
 * import { writeFrame, type WriteFrameOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const out: Uint8Array[] = [];
 * const writer = { write: (p: Uint8Array) => (out.push(p.slice()), Promise.resolve(p.length)) };
 * const options: WriteFrameOptions = { lengthFieldLength: 1, signal: AbortSignal.timeout(1000) };
 * await writeFrame(writer, new Uint8Array([7, 8]), options);
 * assert.deepEqual(out, [new Uint8Array([2, 7, 8])]);
 * ```
 */
export interface WriteFrameOptions extends FrameOptions, SignalOptions {}

/**
 * Encodes one frame (header and payload) into a new buffer.
 *
 * @param payload The payload.
 * @param options The layout and the cap.
 * @returns The frame's bytes, ready to write.
 * @throws {RangeError} The payload is over `maxFrameSize`, or its length does
 * not fit the length field.
 * @throws {TypeError} The layout is decode-only (`lengthFieldOffset` or
 * `bytesToStrip`), or an option is invalid.
 *
 * @example The default layout
 * ```ts
 * import { encodeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeFrame(new TextEncoder().encode("hi"));
 * assert.deepEqual(frame, new Uint8Array([0, 0, 0, 2, 0x68, 0x69]));
 * ```
 *
 * @example A little-endian 2-byte length that counts itself
 * ```ts
 * import { encodeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeFrame(new Uint8Array([7]), {
 *   lengthFieldLength: 2,
 *   littleEndian: true,
 *   lengthAdjustment: -2,
 * });
 * assert.deepEqual(frame, new Uint8Array([3, 0, 7]));
 * ```
 */
export function encodeFrame(
  payload: Uint8Array,
  options?: FrameOptions,
): Uint8Array {
  const layout = encoderOf(options);
  frameSize(layout, payload);
  return encodeWhole(layout, payload);
}

/**
 * Writes one frame: the length header, then the payload.
 *
 * A frame of up to {@linkcode COALESCE_LIMIT} bytes goes out as one buffer
 * (one `write` unless the writer comes back short), so Nagle's algorithm
 * cannot stall it; a larger payload is written without being copied.
 *
 * Concurrent calls on the same writer never interleave (see
 * {@linkcode writeAll}). To send many frames from many tasks, a
 * {@linkcode FrameWriter} batches them into few writes.
 *
 * @param writer Where to write (a `Deno.Conn`, a Node adapter `Conn`, ...).
 * @param payload The payload; not modified, and must not be modified until
 * the promise settles.
 * @param options The layout, the cap and a signal.
 * @returns A promise that resolves once the whole frame was written.
 * @throws {RangeError} The payload is over `maxFrameSize` (default 1 MiB) or
 * does not fit the length field; nothing is written.
 * @throws {TypeError} The layout is decode-only or invalid.
 * @throws {WriteZeroError | ConnectionResetError | BrokenPipeError} As
 * {@linkcode writeAll}.
 * @throws {unknown} `signal.reason` if the signal aborts: before the call's
 * turn on this writer came, nothing was written; after, the call rejects at
 * once but the frame is still written whole in the background, before any
 * later call's bytes (see {@linkcode writeAll}).
 *
 * @example Write a frame to an in-memory writer
 * ```ts
 * import { writeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const writes: Uint8Array[] = [];
 * const writer = {
 *   write(p: Uint8Array) {
 *     writes.push(p.slice());
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * await writeFrame(writer, new TextEncoder().encode("hello world"));
 * assert.equal(writes.length, 1); // header and payload in one write
 * assert.deepEqual(writes[0]!.subarray(0, 4), new Uint8Array([0, 0, 0, 11]));
 * ```
 */
export async function writeFrame(
  writer: Writer,
  payload: Uint8Array,
  options: WriteFrameOptions = {},
): Promise<void> {
  const layout = encoderOf(options);
  const size = frameSize(layout, payload);
  if (size <= COALESCE_LIMIT) {
    const frame = encodeWhole(layout, payload);
    await withWriteLock(
      writer,
      options.signal,
      () => writeFully(writer, frame),
    );
    return;
  }
  const header = encodeHeader(layout, payload);
  await withWriteLock(writer, options.signal, async () => {
    await writeFully(writer, header);
    await writeFully(writer, payload);
  });
}

/**
 * Options for {@linkcode writeFrames}.
 *
 * @example Smaller batches
 * ```ts
 * import { writeFrames, type WriteFramesOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let writes = 0;
 * const writer = { write: (p: Uint8Array) => (writes++, Promise.resolve(p.length)) };
 * const options: WriteFramesOptions = { maxBatchBytes: 16 };
 * await writeFrames(writer, Array.from({ length: 4 }, () => new Uint8Array(4)), options);
 * assert.equal(writes, 2); // 8-byte frames, two per 16-byte batch
 * ```
 */
export interface WriteFramesOptions extends WriteFrameOptions {
  /**
   * The most bytes gathered into one write. Frames are packed into batches
   * up to this size; a frame larger than {@linkcode COALESCE_LIMIT} is
   * written on its own, without a copy.
   *
   * @default {65536}
   */
  maxBatchBytes?: number;
}

/**
 * Writes many frames in as few writes as possible: small frames are packed
 * into batches of up to `maxBatchBytes` (the source document's "coalesce in
 * the application" advice), so 1,000 small messages cost a handful of
 * system calls, not 1,000.
 *
 * Every payload is checked before anything is written.
 *
 * @param writer Where to write.
 * @param payloads The payloads, in order.
 * @param options The layout, the cap, the batch size and a signal.
 * @returns A promise that resolves once every frame was written.
 * @throws {RangeError} A payload is over `maxFrameSize` or does not fit the
 * length field (nothing is written), or `maxBatchBytes` is not a positive
 * integer.
 * @throws {TypeError} The layout is decode-only or invalid.
 * @throws {WriteZeroError | ConnectionResetError | BrokenPipeError} As
 * {@linkcode writeAll}.
 * @throws {unknown} `signal.reason` if the signal aborts. What was written
 * is then a run of whole frames from the start of `payloads`: the frames of
 * a write already handed to the writer are finished in the background (as
 * in {@linkcode writeAll}), and none after them is sent.
 *
 * @example Three frames, one write
 * ```ts
 * import { writeFrames } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let writes = 0;
 * const writer = {
 *   write(p: Uint8Array) {
 *     writes++;
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const text = new TextEncoder();
 * await writeFrames(writer, ["a", "bb", "ccc"].map((s) => text.encode(s)));
 * assert.equal(writes, 1);
 * ```
 */
export async function writeFrames(
  writer: Writer,
  payloads: Iterable<Uint8Array>,
  options: WriteFramesOptions = {},
): Promise<void> {
  const layout = encoderOf(options);
  const maxBatch = batchBytesOf(options.maxBatchBytes);
  const list = Array.from(payloads);
  let total = 0;
  for (const payload of list) total += frameSize(layout, payload);
  const { signal } = options;
  await withWriteLock(writer, signal, async () => {
    const batch = new Uint8Array(Math.min(total, maxBatch));
    let used = 0;
    for (const payload of list) {
      // An abort stops the call at a frame boundary: what was written is a
      // run of whole frames.
      if (signal?.aborted) return;
      const size = layout.headerLengthFor(payload.byteLength) +
        payload.byteLength;
      if (size > batch.byteLength || size > COALESCE_LIMIT) {
        if (used > 0) {
          await writeFully(writer, batch.subarray(0, used));
          used = 0;
        }
        if (size <= COALESCE_LIMIT) {
          await writeFully(writer, encodeWhole(layout, payload));
        } else {
          await writeFully(writer, encodeHeader(layout, payload));
          await writeFully(writer, payload);
        }
        continue;
      }
      if (used + size > batch.byteLength) {
        await writeFully(writer, batch.subarray(0, used));
        used = 0;
        if (signal?.aborted) return;
      }
      used += encodeInto(layout, batch, used, payload);
    }
    if (used > 0) await writeFully(writer, batch.subarray(0, used));
  });
}
