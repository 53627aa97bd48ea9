// The one frame encoder: every writing API (encodeFrame, writeFrame,
// writeFrames, FrameEncoderStream, FrameWriter) checks and lays out frames
// through these functions.

import { type Layout, layoutOf } from "./_layout.ts";
import type { FrameOptions } from "./frame_options.ts";

/**
 * Frames up to this many bytes (header + payload) are copied into one
 * buffer; larger payloads go out without a copy, after their header.
 * Re-exported as `COALESCE_LIMIT` (see write_frame.ts for why 64 KiB + 8).
 */
export const COALESCE_BYTES = 64 * 1024 + 8;

/** The validated layout for writing with `options`. */
export function encoderOf(options: FrameOptions | undefined): Layout {
  const layout = layoutOf(options);
  layout.assertEncodable();
  return layout;
}

/**
 * Checks `payload` (TypeError for a non-Uint8Array, RangeError over the cap
 * or the length field) and returns its frame's size on the wire.
 */
export function frameSize(layout: Layout, payload: Uint8Array): number {
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot encode frame: expected a Uint8Array payload, got ${typeof payload}`,
    );
  }
  const length = payload.byteLength;
  layout.checkPayload(length);
  return layout.headerLengthFor(length) + length;
}

/** Writes header and payload at `buf[at..)`; returns the frame's size. */
export function encodeInto(
  layout: Layout,
  buf: Uint8Array,
  at: number,
  payload: Uint8Array,
): number {
  const headerLength = layout.writeHeader(buf, at, payload.byteLength);
  buf.set(payload, at + headerLength);
  return headerLength + payload.byteLength;
}

/** A checked payload's frame as one new buffer. */
export function encodeWhole(layout: Layout, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(
    layout.headerLengthFor(payload.byteLength) + payload.byteLength,
  );
  encodeInto(layout, frame, 0, payload);
  return frame;
}

/** A checked payload's header alone, for a payload sent without a copy. */
export function encodeHeader(layout: Layout, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(layout.headerLengthFor(payload.byteLength));
  layout.writeHeader(header, 0, payload.byteLength);
  return header;
}

/** The default of `maxBatchBytes`. */
export const DEFAULT_BATCH_BYTES = 64 * 1024;

/** Checks a `maxBatchBytes` option and applies its default. */
export function batchBytesOf(value: number | undefined): number {
  const bytes = value ?? DEFAULT_BATCH_BYTES;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(
      `Cannot use maxBatchBytes ${bytes}: expected a positive integer`,
    );
  }
  return bytes;
}
