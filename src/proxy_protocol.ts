/**
 * Reading the PROXY protocol header (HAProxy's `proxy-protocol.txt`,
 * versions 1 and 2) that a load balancer sends before the client's bytes.
 *
 * A server behind HAProxy (`send-proxy`, `send-proxy-v2`), nginx `stream`
 * (`proxy_protocol on`), Envoy or a cloud L4 balancer sees the balancer's
 * address as its peer; the header carries the client's:
 *
 * ```text
 * v1, one line of text, at most 107 bytes with the CRLF:
 * PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n
 *
 * v2, binary: 16 fixed bytes, then `len` bytes of addresses and TLVs:
 * +-- signature (12) ---------------------+-ver/cmd-+-fam/proto-+- len --+
 * | 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a  |   21    |    11     | 00 0c  |
 * +--------------------------------------+---------+-----------+--------+
 * | c0 00 02 07 | c6 33 64 01 | db 04 | 01 bb |   (TCP over IPv4)
 * +- source ----+- dest ------+- sport+- dport+
 * ```
 *
 * {@linkcode readProxyHeader} reads exactly that header with a strict
 * parser, a size bound and your deadline, and hands back the bytes it read
 * past it. A server that expects the header must refuse a connection without
 * one (the parser never guesses), and should accept it only from its
 * balancers.
 *
 * @module
 */

import { prefixedReader } from "./_prefixed_reader.ts";
import { checkProxyOptions, decodeProxyHeader } from "./_proxy_decoder.ts";
import { readSome } from "./_read_some.ts";
import { UnexpectedEofError } from "./errors.ts";
import type { NetAddr, Reader, SignalOptions, UnixAddr } from "./types.ts";

/**
 * The largest PROXY header {@linkcode readProxyHeader} accepts unless told
 * otherwise: 4 KiB, room for every address family and a few TLVs (HAProxy's
 * own limit for a v2 header is about 512 bytes of TLVs by default).
 *
 * @example The default bound
 * ```ts
 * import { DEFAULT_MAX_PROXY_HEADER_BYTES } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_PROXY_HEADER_BYTES, 4096);
 * ```
 */
export const DEFAULT_MAX_PROXY_HEADER_BYTES = 4096;

/**
 * Which PROXY protocol versions a reader accepts: `1` (text), `2` (binary)
 * or `"any"`.
 *
 * @example Accept only the binary format
 * ```ts
 * import type { ProxyVersions } from "@tcpframe/tcpframe";
 *
 * const versions: ProxyVersions = 2;
 * void versions;
 * ```
 */
export type ProxyVersions = 1 | 2 | "any";

/**
 * The address family of the proxied connection, as in the v2 header:
 * `INET` (IPv4, v1 `TCP4`), `INET6` (IPv6, v1 `TCP6`), `UNIX`, or `UNSPEC`
 * (v1 `UNKNOWN`, v2 LOCAL health checks).
 *
 * @example Branch on the family
 * ```ts
 * import type { ProxyFamily } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const isIp = (family: ProxyFamily) => family === "INET" || family === "INET6";
 * assert.equal(isIp("UNIX"), false);
 * ```
 */
export type ProxyFamily = "INET" | "INET6" | "UNIX" | "UNSPEC";

/**
 * The transport of the proxied connection, as in the v2 header: `STREAM`
 * (TCP, a Unix stream socket), `DGRAM` (UDP, a Unix datagram socket) or
 * `UNSPEC`. Version 1 headers are `STREAM`, or `UNSPEC` for `UNKNOWN`.
 *
 * @example Streams only
 * ```ts
 * import type { ProxyProtocol } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const protocol: ProxyProtocol = "STREAM";
 * assert.notEqual(protocol, "DGRAM");
 * ```
 */
export type ProxyProtocol = "STREAM" | "DGRAM" | "UNSPEC";

/**
 * One type-length-value record of a v2 header, raw: the `type` byte
 * (`0x01` ALPN, `0x02` authority, `0x05` unique ID, `0x20` SSL, ...) and
 * its value bytes (a copy, yours to keep).
 *
 * @example Find the authority (the client's SNI) among the TLVs
 * ```ts
 * import type { ProxyTlv } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const PP2_TYPE_AUTHORITY = 0x02;
 * const tlvs: ProxyTlv[] = [
 *   { type: PP2_TYPE_AUTHORITY, value: new TextEncoder().encode("example.com") },
 * ];
 * const authority = tlvs.find((tlv) => tlv.type === PP2_TYPE_AUTHORITY);
 * assert.equal(new TextDecoder().decode(authority?.value), "example.com");
 * ```
 */
export interface ProxyTlv {
  /** The type, 0 to 255. */
  type: number;
  /** The value, 0 to 65535 bytes. */
  value: Uint8Array;
}

/**
 * A decoded PROXY header.
 *
 * `source` is the original client, `destination` the address it connected
 * to (the balancer's front end). Both are present only when the header
 * carries addresses: a `PROXY` command with a known family and protocol.
 * Without them (`LOCAL`, a health check from the balancer itself; v1
 * `UNKNOWN`; an `UNSPEC` family) use the connection's own addresses. IPv6
 * addresses are in the canonical form Deno and Node print (`::1`,
 * `2001:db8::7`).
 *
 * @example The client's address, or the connection's when there is none
 * ```ts
 * import type { NetAddr, ProxyHeader, UnixAddr } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * function clientOf(header: ProxyHeader, peer: NetAddr): NetAddr | UnixAddr {
 *   return header.source ?? peer;
 * }
 * const balancer: NetAddr = { transport: "tcp", hostname: "10.0.0.2", port: 40000 };
 * const header: ProxyHeader = {
 *   version: 1,
 *   command: "PROXY",
 *   family: "INET",
 *   protocol: "STREAM",
 *   source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
 *   destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
 *   tlvs: [],
 * };
 * assert.deepEqual(clientOf(header, balancer), header.source);
 * ```
 */
export interface ProxyHeader {
  /** The version of the header: 1 (text) or 2 (binary). */
  version: 1 | 2;
  /**
   * `PROXY`: relayed for a client, the addresses are the client's.
   * `LOCAL` (v2 only): the balancer's own connection, no addresses.
   */
  command: "PROXY" | "LOCAL";
  /** The address family the header announces. */
  family: ProxyFamily;
  /** The transport the header announces. */
  protocol: ProxyProtocol;
  /**
   * The original client: `NetAddr` (`transport` `"tcp"`, or `"udp"` for
   * `DGRAM`) or `UnixAddr`. Absent when the header carries no addresses.
   */
  source?: NetAddr | UnixAddr;
  /** The address the client connected to; absent with `source`. */
  destination?: NetAddr | UnixAddr;
  /** The v2 TLVs in order, raw; always empty for v1. */
  tlvs: ProxyTlv[];
}

/**
 * Options for {@linkcode readProxyHeader}.
 *
 * @example Binary headers only, a 1 KiB bound and a 3-second deadline
 * ```ts
 * import type { ReadProxyHeaderOptions } from "@tcpframe/tcpframe";
 *
 * const options: ReadProxyHeaderOptions = {
 *   versions: 2,
 *   maxHeaderBytes: 1024,
 *   signal: AbortSignal.timeout(3000),
 * };
 * void options;
 * ```
 */
export interface ReadProxyHeaderOptions extends SignalOptions {
  /**
   * The versions accepted; a header of another version is a
   * `ProxyHeaderError`. HAProxy's spec recommends that v2 receivers accept
   * v1 too.
   *
   * @default {"any"}
   */
  versions?: ProxyVersions | undefined;
  /**
   * The largest header accepted, in bytes, from 232 (a v2 header with two
   * Unix paths and no TLVs) to 65551 (the largest v2 header). A v2 header
   * that announces more is refused from its first 16 bytes. A v1 line is
   * always at most 107 bytes.
   *
   * @default {4096}
   */
  maxHeaderBytes?: number | undefined;
}

/**
 * What {@linkcode readProxyHeader} returns.
 *
 * @example Frames after the header, through `reader`
 * ```ts
 * import { FrameReader, readProxyHeader, type ReadProxyHeaderResult } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * // A header and a frame ("hi") arrive in one segment.
 * const wire = new Uint8Array([
 *   ...new TextEncoder().encode("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"),
 *   0, 0, 0, 2, 104, 105,
 * ]);
 * let sent = false;
 * const conn = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.byteLength);
 *   },
 * };
 * const result: ReadProxyHeaderResult = await readProxyHeader(conn);
 * assert.equal(result.rest.byteLength, 6); // read past the header
 * const frame = await new FrameReader(result.reader).read();
 * assert.equal(new TextDecoder().decode(frame!), "hi");
 * ```
 */
export interface ReadProxyHeaderResult {
  /** The header. */
  header: ProxyHeader;
  /**
   * The bytes read past the header, the start of the client's stream (often
   * empty). They belong before anything read from the connection next.
   */
  rest: Uint8Array;
  /**
   * A reader of the client's stream: `rest` first, then the connection.
   * Build a `FrameReader` (or anything else) on it, not on the connection.
   * It is the connection itself when `rest` is empty.
   */
  reader: Reader;
}

/**
 * Reads the PROXY protocol header at the start of a connection (version 1
 * or 2) and nothing of the stream it cannot hand back.
 *
 * The parser is strict: the v1 grammar exactly (single spaces, `TCP4` or
 * `TCP6` with addresses of that family and ports without leading zeros, or
 * `UNKNOWN`; CRLF within 107 bytes), the v2 signature, version 2, command
 * `LOCAL` or `PROXY`, known family and protocol, an address block as long
 * as the family needs, and TLVs that fill the rest exactly. Garbage is
 * refused at its first wrong byte, and a v2 length over `maxHeaderBytes` as
 * soon as its 16 fixed bytes arrived: the read buffer never exceeds
 * `maxHeaderBytes` (it starts at 536 bytes, the size the spec guarantees a
 * header fits in, and grows to a v2 header's announced length only).
 *
 * Reads may return bytes past the header; they are in `rest`, and `reader`
 * serves them first. A silent peer is stopped by `signal` only: pass
 * `AbortSignal.timeout(ms)` (HAProxy's spec suggests at least 3 seconds).
 *
 * @param reader The connection, before anything was read from it.
 * @param options The versions accepted, the size bound and a signal.
 * @returns The header, the bytes read past it, and a reader that serves
 * them before the connection's.
 * @throws {ProxyHeaderError} The bytes are not a valid header of an
 * accepted version, or a v2 header is larger than `maxHeaderBytes`.
 * @throws {UnexpectedEofError} The stream ended inside the header
 * (`bytesRead` 0: before it).
 * @throws {NoProgressError} The reader returned 0 bytes too many times.
 * @throws {ConnectionResetError | ConnectionClosedError} The connection
 * failed; the runtime's error is the `cause`.
 * @throws {RangeError} `maxHeaderBytes` is not an integer from 232 to 65551,
 * `versions` is not 1, 2 or "any", or the reader returned more bytes than
 * asked.
 * @throws {unknown} `signal.reason` as soon as the signal aborts; the read
 * in flight may still consume bytes, so close the connection.
 *
 * @example A server behind a balancer sees the client's address
 * ```ts
 * import { encodeProxyHeaderV2, readProxyHeader, writeAll } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * // The balancer's side: the header, then the client's bytes.
 * const balancer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await writeAll(balancer, encodeProxyHeaderV2({
 *   source: { transport: "tcp", hostname: "2001:db8::7", port: 56324 },
 *   destination: { transport: "tcp", hostname: "2001:db8::1", port: 443 },
 * }));
 * await writeAll(balancer, new TextEncoder().encode("hello"));
 * await balancer.closeWrite();
 *
 * const conn = await listener.accept();
 * const { header, reader } = await readProxyHeader(conn, {
 *   signal: AbortSignal.timeout(3000),
 * });
 * assert.deepEqual(header.source, { transport: "tcp", hostname: "2001:db8::7", port: 56324 });
 * const rest = new Uint8Array(5);
 * let filled = 0;
 * while (filled < 5) filled += (await reader.read(rest.subarray(filled)))!;
 * assert.equal(new TextDecoder().decode(rest), "hello");
 * conn.close();
 * balancer.close();
 * listener.close();
 * ```
 */
export async function readProxyHeader(
  reader: Reader,
  options: ReadProxyHeaderOptions = {},
): Promise<ReadProxyHeaderResult> {
  const {
    versions = "any",
    maxHeaderBytes = DEFAULT_MAX_PROXY_HEADER_BYTES,
    signal,
  } = options;
  checkProxyOptions(versions, maxHeaderBytes, "Cannot read PROXY header");
  signal?.throwIfAborted();
  const decoder = { versions, maxHeaderBytes };
  let buffer = new Uint8Array(Math.min(maxHeaderBytes, FIRST_READ_SIZE));
  let filled = 0;
  for (;;) {
    const result = decodeProxyHeader(buffer.subarray(0, filled), decoder);
    if (result.done) {
      const rest = buffer.slice(result.consumed, filled);
      return {
        header: result.header,
        rest,
        reader: prefixedReader(rest, reader),
      };
    }
    if (result.need > buffer.byteLength) {
      // A v2 header longer than the first read: grow to its exact length.
      const grown = new Uint8Array(result.need);
      grown.set(buffer.subarray(0, filled));
      buffer = grown;
    }
    const got = await readSome(reader, buffer.subarray(filled), signal);
    if (got === null) {
      throw new UnexpectedEofError({
        bytesRead: filled,
        expected: result.need,
        partial: buffer.slice(0, filled),
        what: "PROXY header",
      });
    }
    filled += got;
  }
}

/**
 * The first read's size: the spec's guarantee that a header fits in the
 * smallest TCP segment (576 - 40 bytes), so it usually arrives in one read.
 */
const FIRST_READ_SIZE = 536;
