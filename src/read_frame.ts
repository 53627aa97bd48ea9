/**
 * Reading one length-prefixed frame without a buffer of its own.
 *
 * @module
 */

import { type HeaderInfo, layoutOf } from "./_layout.ts";
import { UnexpectedEofError } from "./errors.ts";
import type { FrameOptions } from "./frame_options.ts";
import { readExact } from "./read_exact.ts";
import type { Reader, SignalOptions } from "./types.ts";

/**
 * Options for {@linkcode readFrame}.
 *
 * @example A varint layout with a deadline
 * ```ts
 * import { readFrame, type ReadFrameOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = [new Uint8Array([2]), new Uint8Array([5, 6])];
 * const reader = {
 *   read(p: Uint8Array) {
 *     const chunk = wire.shift();
 *     if (chunk === undefined) return Promise.resolve(null);
 *     p.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * const options: ReadFrameOptions = { lengthFieldLength: "varint", signal: AbortSignal.timeout(1000) };
 * assert.deepEqual(await readFrame(reader, options), new Uint8Array([5, 6]));
 * ```
 */
export interface ReadFrameOptions extends FrameOptions, SignalOptions {}

/**
 * Reads one frame: exactly the header, then exactly the payload it
 * announces. It never reads past the frame, so it can be mixed with other
 * reads on the same stream; for many frames, {@linkcode FrameReader} is
 * faster (one `read` serves many small frames).
 *
 * @param reader Where to read from.
 * @param options The layout, the cap and a signal.
 * @returns The frame (with the header stripped, by default), or `null` when
 * the stream ended cleanly exactly at a frame boundary.
 * @throws {FrameTooLargeError} The announced length is over `maxFrameSize`
 * (default 1 MiB); thrown before anything of that size is allocated. The
 * stream is then out of sync: close it.
 * @throws {InvalidFrameError} The header cannot describe a frame. Close the
 * stream.
 * @throws {UnexpectedEofError} The stream ended inside the header or the
 * payload; the message says which, with the byte counts.
 * @throws {ConnectionResetError | NoProgressError} As {@linkcode readExact}.
 * @throws {unknown} `signal.reason` as soon as the signal aborts; the stream
 * position is then unknown.
 *
 * @example Read frames until the peer closes
 * ```ts
 * import { readFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([0, 0, 0, 1, 65, 0, 0, 0, 0]);
 * let offset = 0;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (offset === wire.length) return Promise.resolve(null);
 *     const n = Math.min(p.length, wire.length - offset);
 *     p.set(wire.subarray(offset, offset + n));
 *     offset += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * assert.deepEqual(await readFrame(reader), new Uint8Array([65]));
 * assert.deepEqual(await readFrame(reader), new Uint8Array(0));
 * assert.equal(await readFrame(reader), null);
 * ```
 */
export async function readFrame(
  reader: Reader,
  options: ReadFrameOptions = {},
): Promise<Uint8Array | null> {
  const layout = layoutOf(options);
  const { signal } = options;
  const header = new Uint8Array(layout.minHeader + (layout.varint ? 8 : 0));
  let got = layout.minHeader;
  try {
    await readExact(reader, header.subarray(0, got), {
      signal,
      what: "frame header",
    });
  } catch (error) {
    if (error instanceof UnexpectedEofError && error.bytesRead === 0) {
      return null;
    }
    throw error;
  }
  const info: HeaderInfo = { headerLength: 0, payloadLength: 0 };
  while (!layout.parse(header, 0, got, info)) {
    // Only a varint header gets here: read it one byte at a time, so that no
    // byte past the header is consumed.
    try {
      await readExact(reader, header.subarray(got, got + 1), { signal });
    } catch (error) {
      if (error instanceof UnexpectedEofError) {
        throw new UnexpectedEofError({
          bytesRead: got,
          expected: got + 1,
          partial: header.slice(0, got),
          what: "frame header",
        });
      }
      throw error;
    }
    got++;
  }
  const strip = layout.stripFor(info.headerLength);
  const kept = info.headerLength - strip;
  const frame = new Uint8Array(kept + info.payloadLength);
  frame.set(header.subarray(strip, info.headerLength));
  await readExact(reader, frame.subarray(kept), {
    signal,
    what: "frame payload",
  });
  return frame;
}
