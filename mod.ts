/**
 * tcpframe: move messages over TCP correctly and fast.
 *
 * TCP is a byte stream: one write is not one read, writes and reads come
 * back short, and message boundaries are the application's job. tcpframe
 * gives you exact-length I/O over any `Deno.Conn`-shaped reader or writer:
 *
 * - {@linkcode writeAll} loops over short writes;
 * - {@linkcode readExact} loops until exactly N bytes arrived, and says
 *   clearly when the stream ended early.
 *
 * The default wire format is a 4-byte big-endian length, then the payload:
 *
 * ```text
 * +-- len: u32 BE --+--- payload ---+
 * | 00 00 00 0b     | hello world   |
 * +-----------------+---------------+
 * ```
 *
 * Errors caused by the peer or the network are {@linkcode TcpFrameError}s
 * with a stable `code`; the same classes on Deno and on Node.
 *
 * @example Read one length-prefixed message by hand
 * ```ts
 * import { readExact, writeAll, type Reader, type Writer } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * // An in-memory pipe stands in for a TCP connection.
 * const chunks: Uint8Array[] = [];
 * const writer: Writer = {
 *   write(p) {
 *     chunks.push(p.slice());
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const reader: Reader = {
 *   read(p) {
 *     const chunk = chunks.shift();
 *     if (chunk === undefined) return Promise.resolve(null);
 *     p.set(chunk.subarray(0, p.byteLength));
 *     if (chunk.byteLength > p.byteLength) chunks.unshift(chunk.subarray(p.byteLength));
 *     return Promise.resolve(Math.min(p.byteLength, chunk.byteLength));
 *   },
 * };
 *
 * const payload = new TextEncoder().encode("hello world");
 * const frame = new Uint8Array(4 + payload.byteLength);
 * new DataView(frame.buffer).setUint32(0, payload.byteLength);
 * frame.set(payload, 4);
 * await writeAll(writer, frame);
 *
 * const header = await readExact(reader, 4);
 * const length = new DataView(header.buffer).getUint32(0);
 * const body = await readExact(reader, length);
 * assert.equal(new TextDecoder().decode(body), "hello world");
 * ```
 *
 * @module
 */

export * from "./src/types.ts";
export * from "./src/errors.ts";
export * from "./src/write_all.ts";
export * from "./src/read_exact.ts";
export * from "./src/delimited_reader.ts";
export * from "./src/write_delimited.ts";
export * from "./src/delimiter_decoder_stream.ts";
export * from "./src/frame_options.ts";
export * from "./src/write_frame.ts";
export * from "./src/read_frame.ts";
export * from "./src/frame_reader.ts";
export * from "./src/frame_decoder_stream.ts";
export * from "./src/frame_encoder_stream.ts";
export * from "./src/frame_writer.ts";
export * from "./src/proxy_protocol.ts";
export * from "./src/encode_proxy_header.ts";
export * from "./src/serve.ts";
