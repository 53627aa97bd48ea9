/**
 * Writing the PROXY protocol header: what a balancer or a proxy written with
 * tcpframe sends before relaying a client's bytes, and what tests of a
 * server behind one send.
 *
 * @module
 */

import { formatIPv6, parseIPv4, parseIPv6 } from "./_ip.ts";
import { V2_SIGNATURE } from "./_proxy_decoder.ts";
import type { ProxyTlv } from "./proxy_protocol.ts";
import type { NetAddr, UnixAddr } from "./types.ts";

/**
 * What {@linkcode encodeProxyHeaderV1} sends: both addresses (TCP over IPv4
 * or IPv6, numeric hostnames of one family), or neither (`UNKNOWN`).
 *
 * @example A TCP4 line
 * ```ts
 * import { encodeProxyHeaderV1, type ProxyHeaderV1Init } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const init: ProxyHeaderV1Init = {
 *   source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
 *   destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
 * };
 * assert.equal(
 *   new TextDecoder().decode(encodeProxyHeaderV1(init)),
 *   "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n",
 * );
 * ```
 */
export interface ProxyHeaderV1Init {
  /**
   * The original client.
   *
   * @default {undefined}
   */
  source?: NetAddr | undefined;
  /**
   * The address the client connected to.
   *
   * @default {undefined}
   */
  destination?: NetAddr | undefined;
}

/**
 * What {@linkcode encodeProxyHeaderV2} sends.
 *
 * @example A LOCAL header, as a balancer's health check sends it
 * ```ts
 * import { encodeProxyHeaderV2, type ProxyHeaderV2Init } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const init: ProxyHeaderV2Init = { command: "LOCAL" };
 * const header = encodeProxyHeaderV2(init);
 * assert.equal(header.byteLength, 16);
 * assert.equal(header[12], 0x20); // version 2, LOCAL
 * ```
 */
export interface ProxyHeaderV2Init {
  /**
   * `PROXY` for a relayed client, `LOCAL` for the sender's own connection
   * (then without addresses).
   *
   * @default {"PROXY"}
   */
  command?: "PROXY" | "LOCAL" | undefined;
  /**
   * The original client: a `NetAddr` with a numeric hostname (`"tcp"` is
   * sent as STREAM, `"udp"` as DGRAM) or a `UnixAddr` (a path of at most
   * 108 bytes). Without addresses the family is UNSPEC.
   *
   * @default {undefined}
   */
  source?: NetAddr | UnixAddr | undefined;
  /**
   * The address the client connected to: the same kind as `source`.
   *
   * @default {undefined}
   */
  destination?: NetAddr | UnixAddr | undefined;
  /**
   * TLVs to append, in order.
   *
   * @default {[]}
   */
  tlvs?: readonly ProxyTlv[] | undefined;
}

/**
 * Encodes a version 1 (text) PROXY header:
 * `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`, `TCP6` for IPv6 (written in
 * canonical form), or `PROXY UNKNOWN\r\n` without addresses.
 *
 * @param init Both addresses, or neither.
 * @returns The header line, at most 107 bytes.
 * @throws {TypeError} Only one address is given, a hostname is not a
 * numeric IP address, the two are of different families, or a transport
 * is not `"tcp"`.
 * @throws {RangeError} A port is not an integer from 0 to 65535.
 *
 * @example An IPv6 client, and an unknown one
 * ```ts
 * import { encodeProxyHeaderV1 } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.equal(
 *   text(encodeProxyHeaderV1({
 *     source: { transport: "tcp", hostname: "2001:db8:0:0:0:0:0:7", port: 1 },
 *     destination: { transport: "tcp", hostname: "::1", port: 2 },
 *   })),
 *   "PROXY TCP6 2001:db8::7 ::1 1 2\r\n",
 * );
 * assert.equal(text(encodeProxyHeaderV1({})), "PROXY UNKNOWN\r\n");
 * ```
 */
export function encodeProxyHeaderV1(init: ProxyHeaderV1Init): Uint8Array {
  const { source, destination } = init;
  if (source === undefined && destination === undefined) {
    return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  }
  const [src, dst] = _pair(source, destination, "v1");
  if (src.transport !== "tcp" || dst.transport !== "tcp") {
    throw new TypeError(
      'Cannot encode PROXY v1 header: both addresses must be TCP (NetAddr with transport "tcp")',
    );
  }
  const family = _ipFamily(src, dst, "v1");
  const host = (addr: NetAddr) =>
    family === 4 ? addr.hostname : formatIPv6(parseIPv6(addr.hostname)!);
  return new TextEncoder().encode(
    `PROXY TCP${family} ${host(src)} ${host(dst)} ${_port(src)} ${
      _port(dst)
    }\r\n`,
  );
}

/**
 * Encodes a version 2 (binary) PROXY header: the 16 fixed bytes, the
 * address block of the family, and the TLVs.
 *
 * @param init The command, both addresses or neither, and TLVs.
 * @returns The header.
 * @throws {TypeError} Only one address is given, addresses with `LOCAL`,
 * a hostname is not a numeric IP address, the two addresses are of
 * different kinds or transports.
 * @throws {RangeError} A port is not an integer from 0 to 65535, a Unix
 * path is over 108 bytes, a TLV type is not a byte, or the header would be
 * longer than 16 + 65535 bytes.
 *
 * @example TCP over IPv4 with a unique-ID TLV
 * ```ts
 * import { encodeProxyHeaderV2 } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const header = encodeProxyHeaderV2({
 *   source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
 *   destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
 *   tlvs: [{ type: 0x05, value: new Uint8Array([1, 2, 3]) }],
 * });
 * assert.equal(header.byteLength, 16 + 12 + 3 + 3);
 * assert.deepEqual([...header.subarray(12, 16)], [0x21, 0x11, 0, 18]);
 * assert.deepEqual([...header.subarray(16, 20)], [192, 0, 2, 7]);
 * ```
 */
export function encodeProxyHeaderV2(init: ProxyHeaderV2Init): Uint8Array {
  const { command = "PROXY", source, destination, tlvs = [] } = init;
  if (command !== "PROXY" && command !== "LOCAL") {
    throw new TypeError(
      `Cannot encode PROXY v2 header: command must be "PROXY" or "LOCAL", got ${
        String(command)
      }`,
    );
  }
  let familyProtocol = 0x00;
  let addresses: Uint8Array = new Uint8Array(0);
  if (source !== undefined || destination !== undefined) {
    if (command === "LOCAL") {
      throw new TypeError(
        "Cannot encode PROXY v2 header: a LOCAL header carries no addresses",
      );
    }
    [familyProtocol, addresses] = _v2Addresses(
      ..._pair(source, destination, "v2"),
    );
  }
  const tlvLength = tlvs.reduce((sum, tlv) => sum + 3 + _tlvSize(tlv), 0);
  const blockLength = addresses.byteLength + tlvLength;
  if (blockLength > 0xffff) {
    throw new RangeError(
      `Cannot encode PROXY v2 header: ${blockLength} bytes of addresses and TLVs exceed 65535`,
    );
  }
  const out = new Uint8Array(16 + blockLength);
  out.set(V2_SIGNATURE);
  out[12] = command === "PROXY" ? 0x21 : 0x20;
  out[13] = familyProtocol;
  out[14] = blockLength >> 8;
  out[15] = blockLength & 0xff;
  out.set(addresses, 16);
  let at = 16 + addresses.byteLength;
  for (const { type, value } of tlvs) {
    out[at] = type;
    out[at + 1] = value.byteLength >> 8;
    out[at + 2] = value.byteLength & 0xff;
    out.set(value, at + 3);
    at += 3 + value.byteLength;
  }
  return out;
}

function _pair<A>(
  source: A | undefined,
  destination: A | undefined,
  version: string,
): [A, A] {
  if (source === undefined || destination === undefined) {
    throw new TypeError(
      `Cannot encode PROXY ${version} header: give both source and destination, or neither`,
    );
  }
  return [source, destination];
}

/** 4 or 6: the family both numeric hostnames belong to. */
function _ipFamily(src: NetAddr, dst: NetAddr, version: string): 4 | 6 {
  const familyOf = (addr: NetAddr): 4 | 6 => {
    if (parseIPv4(addr.hostname) !== undefined) return 4;
    if (parseIPv6(addr.hostname) !== undefined) return 6;
    throw new TypeError(
      `Cannot encode PROXY ${version} header: ${
        JSON.stringify(addr.hostname)
      } is not a numeric IPv4 or IPv6 address`,
    );
  };
  const family = familyOf(src);
  if (familyOf(dst) !== family) {
    throw new TypeError(
      `Cannot encode PROXY ${version} header: source and destination are of different IP families`,
    );
  }
  return family;
}

function _port(addr: NetAddr): number {
  const { port } = addr;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot encode PROXY header: port ${port} is not an integer from 0 to 65535`,
    );
  }
  return port;
}

function _v2Addresses(
  src: NetAddr | UnixAddr,
  dst: NetAddr | UnixAddr,
): [number, Uint8Array] {
  if (src.transport === "unix" || dst.transport === "unix") {
    if (src.transport !== "unix" || dst.transport !== "unix") {
      throw new TypeError(
        "Cannot encode PROXY v2 header: source and destination must both be Unix addresses, or both IP",
      );
    }
    const block = new Uint8Array(216);
    block.set(_sunPath(src.path), 0);
    block.set(_sunPath(dst.path), 108);
    return [0x31, block];
  }
  if (src.transport !== dst.transport) {
    throw new TypeError(
      "Cannot encode PROXY v2 header: source and destination have different transports",
    );
  }
  const protocol = src.transport === "udp" ? 0x02 : 0x01;
  const family = _ipFamily(src, dst, "v2");
  const parse = family === 4 ? parseIPv4 : parseIPv6;
  const size = family === 4 ? 4 : 16;
  const block = new Uint8Array(2 * size + 4);
  block.set(parse(src.hostname)!, 0);
  block.set(parse(dst.hostname)!, size);
  const ports = new DataView(block.buffer, 2 * size);
  ports.setUint16(0, _port(src));
  ports.setUint16(2, _port(dst));
  return [(family === 4 ? 0x10 : 0x20) | protocol, block];
}

function _sunPath(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  if (bytes.byteLength > 108) {
    throw new RangeError(
      `Cannot encode PROXY v2 header: Unix path of ${bytes.byteLength} bytes exceeds 108`,
    );
  }
  return bytes;
}

function _tlvSize(tlv: ProxyTlv): number {
  if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 255) {
    throw new RangeError(
      `Cannot encode PROXY v2 header: TLV type ${tlv.type} is not an integer from 0 to 255`,
    );
  }
  if (tlv.value.byteLength > 0xffff) {
    throw new RangeError(
      `Cannot encode PROXY v2 header: TLV value of ${tlv.value.byteLength} bytes exceeds 65535`,
    );
  }
  return tlv.value.byteLength;
}
