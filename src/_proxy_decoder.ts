// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and
// 2) as a pure decoder: given the bytes that arrived so far, it answers
// "need more", "done" or throws ProxyHeaderError, and never looks further
// than the header. It checks each byte as early as it can, so garbage is
// refused at its first wrong byte, and a v2 length over the limit is refused
// from the 16-byte fixed part, before anything of that size is read.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./_ip.ts";
import { ProxyHeaderError } from "./errors.ts";
import type {
  ProxyFamily,
  ProxyHeader,
  ProxyProtocol,
  ProxyTlv,
  ProxyVersions,
} from "./proxy_protocol.ts";
import type { NetAddr, UnixAddr } from "./types.ts";

/** The longest v1 line, CRLF included (the spec's worst case). */
export const V1_MAX_LENGTH = 107;
/** The shortest v1 line: `PROXY UNKNOWN\r\n`. */
const V1_MIN_LENGTH = 15;
/** The fixed part of a v2 header: signature, version/command, family, length. */
export const V2_FIXED_LENGTH = 16;
/** The longest v2 address block without TLVs: two 108-byte Unix paths. */
const V2_UNIX_ADDRESS_LENGTH = 216;
/** The smallest limit that admits every header without TLVs. */
export const MIN_PROXY_HEADER_LIMIT = V2_FIXED_LENGTH + V2_UNIX_ADDRESS_LENGTH;
/** The largest v2 header: the length field is 16 bits. */
export const MAX_PROXY_HEADER_LIMIT = V2_FIXED_LENGTH + 0xffff;

/**
 * Throws `RangeError` unless `versions` is 1, 2 or "any" and
 * `maxHeaderBytes` an integer from the smallest to the largest v2 header;
 * `what` starts the message ("Cannot read PROXY header").
 */
export function checkProxyOptions(
  versions: unknown,
  maxHeaderBytes: number,
  what: string,
): asserts versions is ProxyVersions {
  if (versions !== 1 && versions !== 2 && versions !== "any") {
    throw new RangeError(
      `${what}: versions must be 1, 2 or "any", got ${String(versions)}`,
    );
  }
  if (
    !Number.isInteger(maxHeaderBytes) ||
    maxHeaderBytes < MIN_PROXY_HEADER_LIMIT ||
    maxHeaderBytes > MAX_PROXY_HEADER_LIMIT
  ) {
    throw new RangeError(
      `${what}: maxHeaderBytes ${maxHeaderBytes} is not an integer from ${MIN_PROXY_HEADER_LIMIT} to ${MAX_PROXY_HEADER_LIMIT}`,
    );
  }
}

const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE: readonly number[] = [
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
];
const CR = 0x0d;
const LF = 0x0a;

const FAMILIES: readonly ProxyFamily[] = ["UNSPEC", "INET", "INET6", "UNIX"];
const PROTOCOLS: readonly ProxyProtocol[] = ["UNSPEC", "STREAM", "DGRAM"];
/** Bytes of the v2 address block for each family (with the two ports). */
const ADDRESS_LENGTH: Record<ProxyFamily, number> = {
  UNSPEC: 0,
  INET: 12,
  INET6: 36,
  UNIX: V2_UNIX_ADDRESS_LENGTH,
};

/** What {@linkcode decodeProxyHeader} needs to know. */
export interface ProxyDecoderOptions {
  /** Which versions are accepted. */
  versions: ProxyVersions;
  /** The largest header accepted, in bytes. */
  maxHeaderBytes: number;
}

/** The decoder's answer for the bytes so far. */
export type ProxyDecodeResult =
  | {
    /** More bytes are needed. */
    done: false;
    /** The least total length the header can have, given these bytes. */
    need: number;
  }
  | {
    /** The header is complete. */
    done: true;
    /** The header. */
    header: ProxyHeader;
    /** Its length: the bytes after it belong to the stream. */
    consumed: number;
  };

/**
 * Decodes the PROXY header at the start of `bytes` (everything received so
 * far). A result of `need` never exceeds `options.maxHeaderBytes`.
 *
 * @throws {ProxyHeaderError} The bytes cannot begin a valid header.
 */
export function decodeProxyHeader(
  bytes: Uint8Array,
  options: ProxyDecoderOptions,
): ProxyDecodeResult {
  const { versions } = options;
  if (bytes.byteLength === 0) {
    return {
      done: false,
      need: versions === 2 ? V2_FIXED_LENGTH : V1_MIN_LENGTH,
    };
  }
  const first = bytes[0]!;
  if (first === V1_PREFIX[0] && versions !== 2) return _v1(bytes);
  if (first === V2_SIGNATURE[0] && versions !== 1) return _v2(bytes, options);
  const expected = versions === 1
    ? `"PROXY "`
    : versions === 2
    ? "the v2 signature"
    : `"PROXY " or the v2 signature`;
  throw new ProxyHeaderError(
    `Cannot read PROXY header: expected ${expected}, got byte ${
      _hex(first)
    } at offset 0`,
  );
}

function _v1(bytes: Uint8Array): ProxyDecodeResult {
  const length = bytes.byteLength;
  const prefix = Math.min(length, V1_PREFIX.length);
  for (let i = 1; i < prefix; i++) {
    if (bytes[i] !== V1_PREFIX[i]) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v1 header: expected "PROXY ", got byte ${
          _hex(bytes[i]!)
        } at offset ${i}`,
      );
    }
  }
  // The CR of a 107-byte line is at offset 105.
  const lastCr = V1_MAX_LENGTH - 2;
  const scan = Math.min(length, lastCr + 1);
  for (let i = prefix; i < scan; i++) {
    const byte = bytes[i]!;
    if (byte === CR) {
      if (i + 1 === length) {
        return { done: false, need: Math.max(V1_MIN_LENGTH, i + 2) }; // LF next
      }
      if (bytes[i + 1] !== LF) {
        throw new ProxyHeaderError(
          `Cannot read PROXY v1 header: a CR without LF at offset ${i}`,
        );
      }
      return {
        done: true,
        header: _v1Line(_latin1(bytes.subarray(0, i))),
        consumed: i + 2,
      };
    }
    if (byte < 0x20 || byte > 0x7e) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v1 header: byte ${
          _hex(byte)
        } at offset ${i} is not printable US-ASCII`,
      );
    }
  }
  if (length > lastCr) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v1 header: no CRLF in the first ${V1_MAX_LENGTH} bytes`,
    );
  }
  return { done: false, need: Math.max(V1_MIN_LENGTH, length + 2) };
}

/** The grammar of a complete line (CRLF removed, printable ASCII only). */
function _v1Line(line: string): ProxyHeader {
  if (line === "PROXY UNKNOWN" || line.startsWith("PROXY UNKNOWN ")) {
    // The receiver must ignore the rest of an UNKNOWN line.
    return {
      version: 1,
      command: "PROXY",
      family: "UNSPEC",
      protocol: "UNSPEC",
      tlvs: [],
    };
  }
  const fields = line.split(" ");
  const [, protocol, source, destination, sourcePort, destinationPort] = fields;
  const family = protocol === "TCP4"
    ? "INET"
    : protocol === "TCP6"
    ? "INET6"
    : undefined;
  if (family === undefined) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v1 header: unknown protocol ${
        JSON.stringify(protocol ?? "")
      }, expected TCP4, TCP6 or UNKNOWN`,
    );
  }
  if (fields.length !== 6) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v1 header: expected 6 fields separated by single spaces, got ${fields.length}`,
    );
  }
  return {
    version: 1,
    command: "PROXY",
    family,
    protocol: "STREAM",
    source: {
      transport: "tcp",
      hostname: _v1Address(family, source!, "source"),
      port: _v1Port(sourcePort!, "source"),
    },
    destination: {
      transport: "tcp",
      hostname: _v1Address(family, destination!, "destination"),
      port: _v1Port(destinationPort!, "destination"),
    },
    tlvs: [],
  };
}

function _v1Address(
  family: "INET" | "INET6",
  text: string,
  which: string,
): string {
  if (family === "INET") {
    if (parseIPv4(text) !== undefined) return text;
  } else {
    const bytes = parseIPv6(text);
    if (bytes !== undefined) return formatIPv6(bytes);
  }
  throw new ProxyHeaderError(
    `Cannot read PROXY v1 header: invalid ${which} address ${
      JSON.stringify(text)
    } for ${family === "INET" ? "TCP4" : "TCP6"}`,
  );
}

function _v1Port(text: string, which: string): number {
  const port = /^(?:0|[1-9]\d{0,4})$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v1 header: invalid ${which} port ${
        JSON.stringify(text)
      }, expected 0 to 65535 without leading zeros`,
    );
  }
  return port;
}

function _v2(
  bytes: Uint8Array,
  options: ProxyDecoderOptions,
): ProxyDecodeResult {
  const length = bytes.byteLength;
  const signature = Math.min(length, V2_SIGNATURE.length);
  for (let i = 1; i < signature; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: wrong signature byte ${
          _hex(bytes[i]!)
        } at offset ${i}`,
      );
    }
  }
  let command: ProxyHeader["command"] | undefined;
  if (length > 12) {
    const versionCommand = bytes[12]!;
    if (versionCommand >> 4 !== 2) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: version ${
          versionCommand >> 4
        }, expected 2`,
      );
    }
    command = (["LOCAL", "PROXY"] as const)[versionCommand & 0x0f];
    if (command === undefined) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: unknown command ${
          versionCommand & 0x0f
        }, expected 0 (LOCAL) or 1 (PROXY)`,
      );
    }
  }
  let family: ProxyFamily | undefined;
  let protocol: ProxyProtocol | undefined;
  if (length > 13) {
    const byte = bytes[13]!;
    family = FAMILIES[byte >> 4];
    protocol = PROTOCOLS[byte & 0x0f];
    // The spec's combinations: 0x00, or a family with STREAM or DGRAM.
    if (
      family === undefined || protocol === undefined ||
      (family === "UNSPEC") !== (protocol === "UNSPEC")
    ) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: unknown family/protocol byte ${
          _hex(byte)
        }`,
      );
    }
  }
  if (length < V2_FIXED_LENGTH) return { done: false, need: V2_FIXED_LENGTH };
  const blockLength = (bytes[14]! << 8) | bytes[15]!;
  const total = V2_FIXED_LENGTH + blockLength;
  if (total > options.maxHeaderBytes) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v2 header: ${V2_FIXED_LENGTH} + ${blockLength} bytes exceed the limit of ${options.maxHeaderBytes}`,
    );
  }
  const addressLength = ADDRESS_LENGTH[family!];
  if (blockLength < addressLength) {
    throw new ProxyHeaderError(
      `Cannot read PROXY v2 header: ${blockLength} bytes cannot hold ${family} addresses (${addressLength} bytes)`,
    );
  }
  if (length < total) return { done: false, need: total };
  const block = bytes.subarray(V2_FIXED_LENGTH, total);
  const tlvs = _tlvs(block.subarray(addressLength));
  const header: ProxyHeader = {
    version: 2,
    command: command!,
    family: family!,
    protocol: protocol!,
    tlvs,
  };
  // LOCAL: the proxy's own connection (a health check); the real endpoints
  // stand, whatever the block says.
  if (command === "PROXY" && addressLength > 0) {
    const [source, destination] = _addresses(family!, protocol!, block);
    header.source = source;
    header.destination = destination;
  }
  return { done: true, header, consumed: total };
}

function _addresses(
  family: ProxyFamily,
  protocol: ProxyProtocol,
  block: Uint8Array,
): [NetAddr | UnixAddr, NetAddr | UnixAddr] {
  if (family === "UNIX") {
    return [
      { transport: "unix", path: _unixPath(block.subarray(0, 108)) },
      { transport: "unix", path: _unixPath(block.subarray(108, 216)) },
    ];
  }
  const size = family === "INET" ? 4 : 16;
  const format = family === "INET" ? formatIPv4 : formatIPv6;
  const ports = new DataView(
    block.buffer,
    block.byteOffset + 2 * size,
    4,
  );
  const transport = protocol === "DGRAM" ? "udp" : "tcp";
  return [
    {
      transport,
      hostname: format(block.subarray(0, size)),
      port: ports.getUint16(0),
    },
    {
      transport,
      hostname: format(block.subarray(size, 2 * size)),
      port: ports.getUint16(2),
    },
  ];
}

/**
 * A 108-byte `sun_path`: the bytes before the trailing NULs, as UTF-8. An
 * abstract socket's name keeps its leading NUL.
 */
function _unixPath(bytes: Uint8Array): string {
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end > 0 && bytes[0] !== 0) {
    // A path is NUL-terminated: what follows the first NUL is padding.
    const nul = bytes.indexOf(0);
    if (nul >= 0) end = nul;
  }
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** Type-length-value records, copied; they must fill `bytes` exactly. */
function _tlvs(bytes: Uint8Array): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < 3) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: ${
          bytes.byteLength - at
        } bytes left after the TLVs, too few for a TLV header (3)`,
      );
    }
    const type = bytes[at]!;
    const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    const end = at + 3 + length;
    if (end > bytes.byteLength) {
      throw new ProxyHeaderError(
        `Cannot read PROXY v2 header: TLV of type ${
          _hex(type)
        } at offset ${at} announces ${length} bytes, only ${
          bytes.byteLength - at - 3
        } remain`,
      );
    }
    tlvs.push({ type, value: bytes.slice(at + 3, end) });
    at = end;
  }
  return tlvs;
}

function _latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function _hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}
