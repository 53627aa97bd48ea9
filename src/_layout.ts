// The validated form of FrameOptions: header parsing and encoding, shared by
// every length-prefixed reader, writer and stream.

import { FrameTooLargeError, InvalidFrameError } from "./errors.ts";
import type { FrameOptions, LengthFieldLength } from "./frame_options.ts";

/** The cap used when `maxFrameSize` is not given: 1 MiB, as the source's. */
export const DEFAULT_MAX_FRAME_SIZE = 1_048_576;

const TWO_POW_32 = 0x1_0000_0000;
const MAX_VARINT_BYTES = 8; // 56 bits: enough for every safe integer

/** Where `Layout.parse` puts what it found (reused, so parsing allocates nothing). */
export interface HeaderInfo {
  /** Bytes of header on the wire: offset + length field. */
  headerLength: number;
  /** Bytes after the header. */
  payloadLength: number;
}

/** A validated, immutable framing layout. */
export class Layout {
  readonly fieldLength: number; // 0 for varint
  readonly varint: boolean;
  readonly littleEndian: boolean;
  readonly offset: number;
  readonly adjustment: number;
  /** Bytes stripped from the front of each decoded frame; -1: the whole header. */
  readonly strip: number;
  readonly maxFrameSize: number;
  readonly maxFieldValue: number;
  /** True for the default u32 BE layout, which has a fast path. */
  readonly isDefault: boolean;
  /** Header bytes needed before the header can be parsed (at least). */
  readonly minHeader: number;

  constructor(options: FrameOptions) {
    const field: LengthFieldLength = options.lengthFieldLength ?? 4;
    if (field === "varint") {
      this.varint = true;
      this.fieldLength = 0;
      this.maxFieldValue = Number.MAX_SAFE_INTEGER;
    } else if (
      field === 1 || field === 2 || field === 3 || field === 4 || field === 8
    ) {
      this.varint = false;
      this.fieldLength = field;
      this.maxFieldValue = field === 8
        ? Number.MAX_SAFE_INTEGER
        : 2 ** (8 * field) - 1;
    } else if (typeof field === "number") {
      throw new RangeError(
        `Cannot use lengthFieldLength ${field}: expected 1, 2, 3, 4, 8 or "varint"`,
      );
    } else {
      throw new TypeError(
        `Cannot use lengthFieldLength ${
          JSON.stringify(field)
        }: expected 1, 2, 3, 4, 8 or "varint"`,
      );
    }
    const littleEndian = options.littleEndian ?? false;
    if (typeof littleEndian !== "boolean") {
      throw new TypeError("Cannot use littleEndian: expected a boolean");
    }
    if (littleEndian && this.varint) {
      throw new TypeError(
        'Cannot use littleEndian with lengthFieldLength "varint": LEB128 has one byte order',
      );
    }
    this.littleEndian = littleEndian;
    this.offset = nonNegativeInteger(
      options.lengthFieldOffset ?? 0,
      "lengthFieldOffset",
    );
    const adjustment = options.lengthAdjustment ?? 0;
    if (!Number.isSafeInteger(adjustment)) {
      throw new RangeError(
        `Cannot use lengthAdjustment ${adjustment}: expected a safe integer`,
      );
    }
    this.adjustment = adjustment;
    const fixedHeader = this.offset + this.fieldLength;
    if (options.bytesToStrip === undefined) {
      this.strip = -1;
    } else {
      const strip = nonNegativeInteger(options.bytesToStrip, "bytesToStrip");
      const most = this.varint ? this.offset : fixedHeader;
      if (strip > most) {
        throw new RangeError(
          this.varint
            ? `Cannot use bytesToStrip ${strip} with a varint length: at most lengthFieldOffset (${most}), or leave it out to strip the whole header`
            : `Cannot use bytesToStrip ${strip}: the header is only ${most} bytes`,
        );
      }
      this.strip = strip === fixedHeader && !this.varint ? -1 : strip;
    }
    this.maxFrameSize = nonNegativeInteger(
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      "maxFrameSize",
    );
    this.minHeader = this.varint ? this.offset + 1 : fixedHeader;
    this.isDefault = !this.varint && this.fieldLength === 4 && !littleEndian &&
      this.offset === 0 && adjustment === 0 && this.strip === -1;
  }

  /** Bytes stripped from a frame whose header is `headerLength` bytes. */
  stripFor(headerLength: number): number {
    return this.strip === -1 ? headerLength : this.strip;
  }

  /**
   * Parses the header at `buf[start..end)`. Returns false when more bytes are
   * needed; fills `out` and returns true when the header is complete. Throws
   * `InvalidFrameError` or `FrameTooLargeError` for a header that must not be
   * followed, before anything of that size is allocated.
   */
  parse(buf: Uint8Array, start: number, end: number, out: HeaderInfo): boolean {
    const available = end - start;
    if (available < this.minHeader) return false;
    let value: number;
    let headerLength: number;
    const at = start + this.offset;
    if (this.varint) {
      value = 0;
      let scale = 1;
      let i = 0;
      for (;; i++) {
        if (i === MAX_VARINT_BYTES) {
          throw new InvalidFrameError(
            `Cannot read frame: varint length longer than ${MAX_VARINT_BYTES} bytes`,
          );
        }
        if (at + i >= end) return false;
        const byte = buf[at + i]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
        if (byte < 0x80) break;
      }
      headerLength = this.offset + i + 1;
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new InvalidFrameError(
          "Cannot read frame: varint length exceeds 2^53 - 1",
        );
      }
    } else {
      headerLength = this.offset + this.fieldLength;
      value = this.#readField(buf, at);
    }
    const payloadLength = value + this.adjustment;
    if (payloadLength < 0) {
      throw new InvalidFrameError(
        `Cannot read frame: length field ${value} with lengthAdjustment ${this.adjustment} gives a negative payload length`,
      );
    }
    if (payloadLength > this.maxFrameSize) {
      throw new FrameTooLargeError(payloadLength, this.maxFrameSize);
    }
    out.headerLength = headerLength;
    out.payloadLength = payloadLength;
    return true;
  }

  #readField(b: Uint8Array, i: number): number {
    switch (this.fieldLength) {
      case 1:
        return b[i]!;
      case 2:
        return this.littleEndian
          ? b[i]! | (b[i + 1]! << 8)
          : (b[i]! << 8) | b[i + 1]!;
      case 3:
        return this.littleEndian
          ? b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)
          : (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
      case 4:
        return (this.littleEndian
          ? b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
          : (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) |
            b[i + 3]!) >>> 0;
      default: {
        const first = this.#u32(b, i);
        const second = this.#u32(b, i + 4);
        const [high, low] = this.littleEndian
          ? [second, first]
          : [first, second];
        if (high > 0x1f_ffff) {
          throw new InvalidFrameError(
            "Cannot read frame: 8-byte length field exceeds 2^53 - 1",
          );
        }
        return high * TWO_POW_32 + low;
      }
    }
  }

  #u32(b: Uint8Array, i: number): number {
    return (this.littleEndian
      ? b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
      : (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  }

  /** Throws TypeError when this layout cannot be used to encode. */
  assertEncodable(): void {
    if (this.offset !== 0) {
      throw new TypeError(
        "Cannot encode frames with lengthFieldOffset: it describes bytes before the length field and is decode-only",
      );
    }
    if (this.strip !== -1) {
      throw new TypeError(
        "Cannot encode frames with bytesToStrip: it is decode-only",
      );
    }
  }

  /** The header length for a payload of `payloadLength` bytes. */
  headerLengthFor(payloadLength: number): number {
    if (!this.varint) return this.fieldLength;
    let v = payloadLength - this.adjustment;
    let n = 1;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }

  /**
   * Checks that a payload may be encoded: throws RangeError (the caller's
   * mistake) when it is over the cap or its length cannot be represented.
   */
  checkPayload(payloadLength: number): void {
    if (payloadLength > this.maxFrameSize) {
      throw new RangeError(
        `Cannot write frame: payload of ${payloadLength} bytes exceeds maxFrameSize ${this.maxFrameSize}`,
      );
    }
    const value = payloadLength - this.adjustment;
    if (value < 0 || value > this.maxFieldValue) {
      throw new RangeError(
        `Cannot write frame: length field value ${value} does not fit a ${
          this.varint ? "varint" : `${this.fieldLength}-byte`
        } length field`,
      );
    }
  }

  /** Writes the header for `payloadLength` at `buf[at..)`; returns its length. */
  writeHeader(buf: Uint8Array, at: number, payloadLength: number): number {
    if (this.isDefault) {
      buf[at] = payloadLength >>> 24;
      buf[at + 1] = (payloadLength >>> 16) & 0xff;
      buf[at + 2] = (payloadLength >>> 8) & 0xff;
      buf[at + 3] = payloadLength & 0xff;
      return 4;
    }
    let v = payloadLength - this.adjustment;
    if (this.varint) {
      let i = at;
      while (v >= 128) {
        buf[i++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      buf[i++] = v;
      return i - at;
    }
    const n = this.fieldLength;
    if (n === 8) {
      const high = Math.floor(v / TWO_POW_32);
      const low = v >>> 0;
      writeUint(buf, at, this.littleEndian ? low : high, 4, this.littleEndian);
      writeUint(
        buf,
        at + 4,
        this.littleEndian ? high : low,
        4,
        this.littleEndian,
      );
    } else {
      writeUint(buf, at, v, n, this.littleEndian);
    }
    return n;
  }
}

function writeUint(
  buf: Uint8Array,
  at: number,
  value: number,
  bytes: number,
  littleEndian: boolean,
): void {
  for (let k = 0; k < bytes; k++) {
    const shift = 8 * (littleEndian ? k : bytes - 1 - k);
    buf[at + k] = (value >>> shift) & 0xff;
  }
}

function nonNegativeInteger(value: unknown, name: string): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot use ${name}: expected a number, got ${typeof value}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot use ${name} ${value}: expected a non-negative safe integer`,
    );
  }
  return value;
}

const DEFAULT_LAYOUT = new Layout({});

/** The validated layout for `options` (the shared default when absent). */
export function layoutOf(options: FrameOptions | undefined): Layout {
  if (
    options === undefined ||
    (options.lengthFieldLength === undefined &&
      options.littleEndian === undefined &&
      options.lengthFieldOffset === undefined &&
      options.lengthAdjustment === undefined &&
      options.bytesToStrip === undefined &&
      options.maxFrameSize === undefined)
  ) {
    return DEFAULT_LAYOUT;
  }
  return new Layout(options);
}
