/**
 * How a length-prefixed frame is laid out on the wire.
 *
 * The default is the source document's format, a 4-byte big-endian length,
 * then the payload, with a 1 MiB cap:
 *
 * ```text
 * +-- len: u32 BE --+--- payload ---+
 * | 00 00 00 0b     | hello world   |
 * +-----------------+---------------+
 * ```
 *
 * The options below describe other layouts, with the names of tokio-util's
 * `LengthDelimitedCodec` and Netty's `LengthFieldBasedFrameDecoder`. Every
 * reader, writer and stream of tcpframe takes them. Four worked examples:
 *
 * ## DNS over TCP (RFC 7766): a 2-byte big-endian length
 *
 * `{ lengthFieldLength: 2 }`
 *
 * ```text
 * INPUT                              DECODED
 * +-- len: u16 BE --+-- message --+    +-- message --+
 * | 00 0c           | 12 bytes    | -> | 12 bytes    |
 * +-----------------+-------------+    +-------------+
 * ```
 *
 * ## PostgreSQL backend messages: a type byte, then a length that counts itself
 *
 * `{ lengthFieldOffset: 1, lengthAdjustment: -4, bytesToStrip: 0 }`
 *
 * The length field starts after 1 byte; it counts its own 4 bytes, so 4 is
 * subtracted to get the bytes that follow it; nothing is stripped, so the
 * decoded frame is the whole message (decode-only: the offset bytes belong to
 * the application).
 *
 * ```text
 * INPUT                                        DECODED
 * +- type -+-- len: u32 BE --+-- body --+    +- type -+-- len --+-- body --+
 * | 5a     | 00 00 00 05     | 49       | -> | 5a     | 00..05  | 49       |
 * +--------+-----------------+----------+    +--------+---------+----------+
 * ```
 *
 * ## A length that counts the whole frame, header included
 *
 * `{ lengthAdjustment: -4 }`
 *
 * ```text
 * INPUT                            DECODED
 * +-- len: u32 BE --+-- data --+    +-- data --+
 * | 00 00 00 09     | 5 bytes  | -> | 5 bytes  |
 * +-----------------+----------+    +----------+
 * ```
 *
 * The encoder applies the adjustment in reverse: a 5-byte payload is written
 * with the length 9.
 *
 * ## Varint lengths (protobuf delimited streams, libp2p's it-length-prefixed)
 *
 * `{ lengthFieldLength: "varint" }`: unsigned LEB128, 7 bits per byte, low
 * bits first, high bit set on every byte but the last.
 *
 * ```text
 * INPUT                          DECODED
 * +- len: varint -+-- data ---+    +-- data ---+
 * | ac 02         | 300 bytes | -> | 300 bytes |
 * +---------------+-----------+    +-----------+
 * ```
 *
 * @example Decode a DNS-over-TCP style stream
 * ```ts
 * import { readFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([0x00, 0x02, 0xab, 0xcd]);
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
 * const frame = await readFrame(reader, { lengthFieldLength: 2 });
 * assert.deepEqual(frame, new Uint8Array([0xab, 0xcd]));
 * ```
 *
 * @example PostgreSQL backend messages: offset, adjustment, keep the header
 * ```ts
 * import { FrameReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * // ReadyForQuery ('Z'), length 5 (counting itself), status 'I'.
 * const wire = new Uint8Array([0x5a, 0, 0, 0, 5, 0x49]);
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * const messages = new FrameReader(reader, {
 *   lengthFieldOffset: 1, // the type byte comes first
 *   lengthAdjustment: -4, // the length counts its own 4 bytes
 *   bytesToStrip: 0, // hand out the whole message
 * });
 * assert.deepEqual(await messages.read(), wire);
 * ```
 *
 * @example A length that counts the whole frame, and a varint length
 * ```ts
 * import { encodeFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const five = new Uint8Array(5);
 * assert.deepEqual(
 *   encodeFrame(five, { lengthAdjustment: -4 }).subarray(0, 4),
 *   new Uint8Array([0, 0, 0, 9]),
 * );
 * assert.deepEqual(
 *   encodeFrame(new Uint8Array(300), { lengthFieldLength: "varint" }).subarray(0, 2),
 *   new Uint8Array([0xac, 0x02]),
 * );
 * ```
 *
 * @example The cap: a hostile length is refused before any allocation
 * ```ts
 * import { FrameTooLargeError, readFrame } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const hostile = new Uint8Array([0xff, 0xff, 0xff, 0xff]); // "4 GiB follows"
 * const reader = {
 *   read(p: Uint8Array) {
 *     p.set(hostile.subarray(0, p.length));
 *     return Promise.resolve(Math.min(p.length, 4));
 *   },
 * };
 * await assert.rejects(readFrame(reader, { maxFrameSize: 65_536 }), (error) => {
 *   assert.ok(error instanceof FrameTooLargeError);
 *   assert.equal(error.size, 0xffff_ffff);
 *   assert.equal(error.limit, 65_536);
 *   return true;
 * });
 * ```
 *
 * @module
 */

/**
 * The size of the length field in bytes, or `"varint"` for LEB128.
 *
 * @example Every field size
 * ```ts
 * import { encodeFrame, type LengthFieldLength } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const sizes: LengthFieldLength[] = [1, 2, 3, 4, 8, "varint"];
 * const headers = sizes.map((n) => encodeFrame(new Uint8Array(1), { lengthFieldLength: n }).length - 1);
 * assert.deepEqual(headers, [1, 2, 3, 4, 8, 1]);
 * ```
 */
export type LengthFieldLength = 1 | 2 | 3 | 4 | 8 | "varint";

/**
 * The layout of a length-prefixed frame, and its size cap.
 *
 * Invalid values are rejected when a reader, writer or stream is created
 * (`TypeError` for a wrong type or a meaningless combination, `RangeError`
 * for a number out of range); a header from the peer that cannot describe a
 * frame gives `InvalidFrameError` or `FrameTooLargeError`, never a wrong
 * frame.
 *
 * @example One options object for both ends
 * ```ts
 * import { encodeFrame, type FrameOptions, FrameReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const layout: FrameOptions = { lengthFieldLength: 2, littleEndian: true, maxFrameSize: 1024 };
 * const wire = encodeFrame(new Uint8Array([42]), layout);
 * assert.deepEqual(wire, new Uint8Array([1, 0, 42]));
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * assert.deepEqual(await new FrameReader(reader, layout).read(), new Uint8Array([42]));
 * ```
 */
export interface FrameOptions {
  /**
   * Bytes in the length field: 1, 2, 3, 4 or 8, or `"varint"` for unsigned
   * LEB128. 8-byte lengths are limited to 2^53 - 1 (JavaScript's safe
   * integers).
   *
   * @default {4}
   */
  lengthFieldLength?: LengthFieldLength;
  /**
   * Whether the length field is little-endian. Meaningless with `"varint"`
   * (a `TypeError`).
   *
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * Bytes before the length field (a type tag, say). Decode-only: encoders
   * refuse a layout with an offset, since those bytes are the application's.
   *
   * @default {0}
   */
  lengthFieldOffset?: number;
  /**
   * Added to the length field to get the number of bytes that follow the
   * field; e.g. `-4` when the field counts its own 4 bytes. Encoders subtract
   * it. A header whose adjusted length is negative is an `InvalidFrameError`.
   *
   * @default {0}
   */
  lengthAdjustment?: number;
  /**
   * Bytes removed from the front of each decoded frame, at most the header
   * (`lengthFieldOffset` + field length); `0` keeps the whole header. With
   * `"varint"` it may be at most `lengthFieldOffset`, or left out. When left
   * out, the whole header is stripped. Decode-only.
   *
   * @default {lengthFieldOffset + lengthFieldLength}
   */
  bytesToStrip?: number;
  /**
   * The largest payload (bytes after the length field, after
   * `lengthAdjustment`) that is accepted. A longer length from the peer is a
   * `FrameTooLargeError`, raised before anything of that size is allocated;
   * a longer payload given to an encoder is a `RangeError` and nothing is
   * written.
   *
   * @default {1048576}
   */
  maxFrameSize?: number;
}
