// readProxyHeader() and the encoders: HAProxy's PROXY protocol v1 and v2.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  FrameReader,
  NoProgressError,
  ProxyHeaderError,
  readProxyHeader,
  type ReadProxyHeaderOptions,
  type ReadProxyHeaderResult,
  UnexpectedEofError,
} from "tcpframe";
import {
  ChunkedReader,
  concat,
  keepingAlive,
  scriptedReader,
  silentReader,
} from "./_fixtures.ts";

const text = (s: string) => new TextEncoder().encode(s);
/** The 12 bytes every v2 header starts with. */
const SIGNATURE = [
  ...encodeProxyHeaderV2({ command: "LOCAL" }).subarray(0, 12),
];

/** A raw v2 header: signature, the two bytes, the length, the block. */
function v2(verCmd: number, famProto: number, block: number[]): Uint8Array {
  return new Uint8Array([
    ...SIGNATURE,
    verCmd,
    famProto,
    block.length >> 8,
    block.length & 0xff,
    ...block,
  ]);
}

function read(
  wire: Uint8Array,
  sizes: readonly number[] = [Infinity],
  options: ReadProxyHeaderOptions = {},
): Promise<ReadProxyHeaderResult> {
  return readProxyHeader(new ChunkedReader(wire, sizes), options);
}

async function assertInvalid(
  wire: Uint8Array,
  message: RegExp,
  options: ReadProxyHeaderOptions = {},
): Promise<void> {
  await assert.rejects(read(wire, [Infinity], options), (error) => {
    assert.ok(error instanceof ProxyHeaderError, String(error));
    assert.equal(error.code, "INVALID_PROXY_HEADER");
    assert.match(error.message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Version 1

test("readProxyHeader() reads a v1 TCP4 line", async () => {
  const { header, rest } = await read(
    text("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
  );
  assert.deepEqual(header, {
    version: 1,
    command: "PROXY",
    family: "INET",
    protocol: "STREAM",
    source: { transport: "tcp", hostname: "192.168.0.1", port: 56324 },
    destination: { transport: "tcp", hostname: "192.168.0.11", port: 443 },
    tlvs: [],
  });
  assert.equal(rest.byteLength, 0);
});

test("readProxyHeader() reads a v1 TCP6 line and prints the addresses canonically", async () => {
  const { header } = await read(
    text("PROXY TCP6 2001:DB8:0:0:0:0:0:7 ::ffff:192.0.2.1 0 65535\r\n"),
  );
  assert.equal(header.family, "INET6");
  assert.deepEqual(header.source, {
    transport: "tcp",
    hostname: "2001:db8::7",
    port: 0,
  });
  assert.deepEqual(header.destination, {
    transport: "tcp",
    hostname: "::ffff:192.0.2.1",
    port: 65535,
  });
});

test("readProxyHeader() reads v1 UNKNOWN, short and with ignored fields up to 107 bytes", async () => {
  const ff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const longest = `PROXY UNKNOWN ${ff} ${ff} 65535 65535\r\n`;
  assert.equal(longest.length, 107);
  for (const line of ["PROXY UNKNOWN\r\n", longest]) {
    const { header, rest } = await read(text(line + "after"));
    assert.deepEqual(header, {
      version: 1,
      command: "PROXY",
      family: "UNSPEC",
      protocol: "UNSPEC",
      tlvs: [],
    });
    assert.equal(new TextDecoder().decode(rest), "after");
  }
});

test("readProxyHeader() refuses a v1 line without CRLF in its first 107 bytes", async () => {
  const ff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  await assertInvalid(
    text(`PROXY UNKNOWN ${ff} ${ff} 65535 655350\r\n`), // 108 bytes
    /no CRLF in the first 107 bytes/,
  );
  await assertInvalid(
    text("PROXY UNKNOWN " + "x".repeat(200)),
    /no CRLF in the first 107 bytes/,
  );
});

const badV1: Array<[string, RegExp]> = [
  ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", /6 fields/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", /6 fields/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /6 fields/],
  ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol ""/],
  ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol "TCP5"/],
  ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol "tcp4"/],
  ["PROXY UNKNOWNX\r\n", /unknown protocol "UNKNOWNX"/],
  ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", /invalid source address "01.2.3.4"/],
  ["PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", /invalid destination address/],
  ["PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", /invalid source address/],
  ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /invalid source address "::1" for TCP4/],
  ["PROXY TCP6 ::1 5.6.7.8 1 2\r\n", /invalid destination address.*TCP6/],
  ["PROXY TCP6 1::2::3 ::1 1 2\r\n", /invalid source address/],
  ["PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", /invalid source address/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", /invalid source port "080"/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", /invalid destination port/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", /invalid source port "-1"/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /0x0a at offset 30 is not printable/],
  ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", /CR without LF at offset 30/],
  ["PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", /0x09 at offset 18/],
  ["PROXY UNKNOWN \u00e9\r\n", /0xe9 at offset 14/],
  ["proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /got byte 0x70 at offset 0/],
  ["PROXZ TCP4", /expected "PROXY ", got byte 0x5a at offset 4/],
  ["PROXYTCP4", /got byte 0x54 at offset 5/],
];

for (const [line, message] of badV1) {
  test(`readProxyHeader() refuses the v1 line ${JSON.stringify(line)}`, async () => {
    const bytes = new Uint8Array([...line].map((c) => c.charCodeAt(0)));
    await assertInvalid(bytes, message);
  });
}

// ---------------------------------------------------------------------------
// Version 2

test("readProxyHeader() reads a v2 PROXY header, TCP over IPv4", async () => {
  const wire = v2(0x21, 0x11, [
    192,
    0,
    2,
    7,
    198,
    51,
    100,
    1,
    0xdc,
    0x04,
    1,
    187,
  ]);
  const { header } = await read(wire);
  assert.deepEqual(header, {
    version: 2,
    command: "PROXY",
    family: "INET",
    protocol: "STREAM",
    source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
    destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
    tlvs: [],
  });
});

test("readProxyHeader() reads a v2 PROXY header, UDP over IPv6", async () => {
  const source = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 7];
  const destination = [...new Array(15).fill(0), 1];
  const { header } = await read(
    v2(0x21, 0x22, [...source, ...destination, 0, 53, 0x12, 0x34]),
  );
  assert.equal(header.family, "INET6");
  assert.equal(header.protocol, "DGRAM");
  assert.deepEqual(header.source, {
    transport: "udp",
    hostname: "2001:db8::7",
    port: 53,
  });
  assert.deepEqual(header.destination, {
    transport: "udp",
    hostname: "::1",
    port: 0x1234,
  });
});

test("readProxyHeader() reads a v2 PROXY header of the UNIX family", async () => {
  const path = (s: string) => {
    const out = new Array<number>(108).fill(0);
    out.splice(0, s.length, ...text(s));
    return out;
  };
  const abstract = [0, ...text("abstract"), ...new Array(99).fill(0)];
  const { header } = await read(
    v2(0x21, 0x31, [...path("/run/client.sock"), ...abstract]),
  );
  assert.equal(header.family, "UNIX");
  assert.deepEqual(header.source, {
    transport: "unix",
    path: "/run/client.sock",
  });
  assert.deepEqual(header.destination, {
    transport: "unix",
    path: "\0abstract",
  });
});

test("readProxyHeader() reads v2 LOCAL without addresses, keeping its TLVs", async () => {
  const plain = await read(v2(0x20, 0x00, []));
  assert.deepEqual(plain.header, {
    version: 2,
    command: "LOCAL",
    family: "UNSPEC",
    protocol: "UNSPEC",
    tlvs: [],
  });
  // A LOCAL header that still names addresses: they are not the peer's.
  const addressed = await read(
    v2(0x20, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2, 0x04, 0, 1, 0xaa]),
  );
  assert.equal(addressed.header.command, "LOCAL");
  assert.equal(addressed.header.source, undefined);
  assert.equal(addressed.header.destination, undefined);
  assert.deepEqual(addressed.header.tlvs, [
    { type: 0x04, value: new Uint8Array([0xaa]) },
  ]);
});

test("readProxyHeader() gives no addresses for a v2 PROXY header of family UNSPEC", async () => {
  const { header } = await read(v2(0x21, 0x00, [0x04, 0, 0]));
  assert.equal(header.command, "PROXY");
  assert.equal(header.source, undefined);
  assert.deepEqual(header.tlvs, [{ type: 0x04, value: new Uint8Array(0) }]);
});

test("readProxyHeader() returns v2 TLVs raw and in order, as copies", async () => {
  const wire = v2(0x21, 0x11, [
    ...[127, 0, 0, 1, 127, 0, 0, 2, 0, 1, 0, 2],
    ...[0x01, 0, 2, 0x68, 0x32], // ALPN "h2"
    ...[0x05, 0, 0], // an empty unique ID
    ...[0xee, 0, 3, 1, 2, 3], // an unregistered type
  ]);
  const { header } = await read(concat([wire, text("tail")]));
  assert.deepEqual(header.tlvs, [
    { type: 0x01, value: text("h2") },
    { type: 0x05, value: new Uint8Array(0) },
    { type: 0xee, value: new Uint8Array([1, 2, 3]) },
  ]);
  assert.equal(header.tlvs[0]!.value.buffer.byteLength, 2);
});

const badV2: Array<[string, Uint8Array, RegExp]> = [
  [
    "version 1 in the version nibble",
    v2(0x11, 0x11, new Array(12).fill(0)),
    /version 1, expected 2/,
  ],
  [
    "version 3",
    v2(0x31, 0x11, new Array(12).fill(0)),
    /version 3, expected 2/,
  ],
  ["command 2", v2(0x22, 0x11, new Array(12).fill(0)), /unknown command 2/],
  ["family 4", v2(0x21, 0x41, []), /unknown family\/protocol byte 0x41/],
  ["protocol 3", v2(0x21, 0x13, []), /unknown family\/protocol byte 0x13/],
  [
    "family INET with protocol UNSPEC",
    v2(0x21, 0x10, new Array(12).fill(0)),
    /unknown family\/protocol byte 0x10/,
  ],
  [
    "family UNSPEC with protocol STREAM",
    v2(0x21, 0x01, []),
    /unknown family\/protocol byte 0x01/,
  ],
  [
    "an IPv4 block of 11 bytes",
    v2(0x21, 0x11, new Array(11).fill(0)),
    /11 bytes cannot hold INET addresses \(12 bytes\)/,
  ],
  [
    "an IPv6 block of 12 bytes",
    v2(0x21, 0x21, new Array(12).fill(0)),
    /12 bytes cannot hold INET6 addresses \(36 bytes\)/,
  ],
  [
    "a UNIX block of 215 bytes",
    v2(0x21, 0x31, new Array(215).fill(0)),
    /215 bytes cannot hold UNIX addresses/,
  ],
  [
    "a TLV longer than the block",
    v2(0x21, 0x00, [0x01, 0, 5, 1, 2]),
    /announces 5 bytes, only 2 remain/,
  ],
  [
    "2 bytes after the last TLV",
    v2(0x21, 0x00, [0x04, 0, 0, 0x01, 0]),
    /2 bytes left after the TLVs/,
  ],
];

for (const [what, wire, message] of badV2) {
  test(`readProxyHeader() refuses a v2 header with ${what}`, async () => {
    await assertInvalid(wire, message);
  });
}

test("readProxyHeader() refuses each wrong byte of the v2 signature at that byte", async () => {
  const valid = v2(0x20, 0x00, []);
  for (let i = 1; i < 12; i++) {
    const wire = valid.slice();
    wire[i] = wire[i]! ^ 0x40;
    const reader = new ChunkedReader(wire, [1]);
    await assert.rejects(readProxyHeader(reader), (error) => {
      assert.ok(error instanceof ProxyHeaderError);
      assert.match(error.message, new RegExp(`at offset ${i}$`));
      return true;
    });
    assert.equal(
      reader.remaining,
      wire.byteLength - i - 1,
      `byte ${i}: read no further`,
    );
  }
});

test("readProxyHeader() refuses a v2 length over maxHeaderBytes from the first 16 bytes", async () => {
  // Announces 65535 bytes; only 16 were read when the error came.
  const fixed = v2(0x21, 0x11, []);
  fixed[14] = 0xff;
  fixed[15] = 0xff;
  const reader = new ChunkedReader(concat([fixed, new Uint8Array(70_000)]), [
    16,
  ]);
  await assert.rejects(readProxyHeader(reader), {
    name: "ProxyHeaderError",
    message:
      "Cannot read PROXY v2 header: 16 + 65535 bytes exceed the limit of 4096",
  });
  assert.equal(reader.calls, 1);
  assert.ok(reader.largestOffered <= 4096);
});

test("readProxyHeader() takes a header of exactly maxHeaderBytes, not one byte more", async () => {
  const tlv = (n: number) => [0x04, n >> 8, n & 0xff, ...new Array(n).fill(0)];
  const wire = v2(0x21, 0x00, tlv(300 - 16 - 3)); // 300 bytes in all
  assert.equal(wire.byteLength, 300);
  const reader = new ChunkedReader(concat([wire, new Uint8Array(1000)]));
  const { header, rest } = await readProxyHeader(reader, {
    maxHeaderBytes: 300,
  });
  assert.equal(header.tlvs[0]!.value.byteLength, 281);
  assert.equal(rest.byteLength, 0); // the buffer was exactly the header
  assert.equal(reader.largestOffered, 300);
  await assertInvalid(wire, /16 \+ 284 bytes exceed the limit of 299/, {
    maxHeaderBytes: 299,
  });
});

test("readProxyHeader() grows its buffer to a v2 header longer than the first read", async () => {
  const value = new Uint8Array(3000).map((_, i) => i);
  const wire = encodeProxyHeaderV2({ tlvs: [{ type: 0x30, value }] });
  const { header, rest } = await read(concat([wire, text("xy")]), [700]);
  assert.deepEqual(header.tlvs, [{ type: 0x30, value }]);
  assert.equal(rest.byteLength, 0); // grown to the header's exact length
});

// ---------------------------------------------------------------------------
// Both versions: the stream around the header

const SAMPLES: Array<[string, Uint8Array]> = [
  ["v1 TCP4", text("PROXY TCP4 10.1.2.3 10.0.0.1 40000 9000\r\n")],
  ["v1 TCP6", text("PROXY TCP6 fe80::1 2001:db8::1 40000 9000\r\n")],
  ["v1 UNKNOWN", text("PROXY UNKNOWN\r\n")],
  [
    "v2 IPv4",
    encodeProxyHeaderV2({
      source: { transport: "tcp", hostname: "10.1.2.3", port: 40000 },
      destination: { transport: "tcp", hostname: "10.0.0.1", port: 9000 },
      tlvs: [{ type: 0x02, value: text("example.com") }],
    }),
  ],
  [
    "v2 UNIX",
    encodeProxyHeaderV2({
      source: { transport: "unix", path: "/tmp/a" },
      destination: { transport: "unix", path: "/tmp/b" },
    }),
  ],
  ["v2 LOCAL", encodeProxyHeaderV2({ command: "LOCAL" })],
];

for (const [name, wire] of SAMPLES) {
  test(`readProxyHeader() reads the ${name} sample split at every point, keeping the bytes after it`, async () => {
    const after = text("\0\0\0\u0002hi and more");
    const whole = concat([wire, after]);
    const expected = await read(whole);
    assert.deepEqual(expected.rest, after);
    for (let split = 0; split <= whole.byteLength; split++) {
      const got = await read(whole, [split, Infinity]);
      assert.deepEqual(got.header, expected.header, `split at ${split}`);
      // What was read past the header, then the rest of the stream.
      const stream = new Uint8Array(after.byteLength);
      let filled = 0;
      while (filled < stream.byteLength) {
        const n = await got.reader.read(stream.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      assert.deepEqual(stream, after, `split at ${split}`);
    }
    const bytewise = await read(whole, [1]);
    assert.deepEqual(bytewise.header, expected.header);
    assert.deepEqual(bytewise.rest, new Uint8Array(0)); // never read ahead
  });

  test(`readProxyHeader() throws UnexpectedEofError for the ${name} sample cut at every offset`, async () => {
    for (let cut = 0; cut < wire.byteLength; cut++) {
      await assert.rejects(read(wire.subarray(0, cut), [7]), (error) => {
        assert.ok(error instanceof UnexpectedEofError, `cut ${cut}: ${error}`);
        assert.equal(error.bytesRead, cut);
        assert.ok(error.expected > cut);
        assert.deepEqual(error.partial, wire.subarray(0, cut));
        return true;
      });
    }
  });
}

test("readProxyHeader() reports an empty stream as UnexpectedEofError with bytesRead 0", async () => {
  await assert.rejects(read(new Uint8Array(0)), {
    name: "UnexpectedEofError",
    bytesRead: 0,
    message: "Cannot read PROXY header: stream ended after 0 of 15 bytes",
  });
});

test("readProxyHeader() result.reader feeds a FrameReader with the frames after the header", async () => {
  const frames = new Uint8Array([0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9]);
  const wire = concat([encodeProxyHeaderV2({ command: "LOCAL" }), frames]);
  for (const sizes of [[Infinity], [20], [1]]) {
    const { reader } = await read(wire, sizes);
    const got: number[][] = [];
    for await (const frame of new FrameReader(reader)) got.push([...frame]);
    assert.deepEqual(got, [[7], [8, 9]], `reads of ${sizes[0]}`);
  }
});

test("readProxyHeader() with versions 1 or 2 refuses the other version", async () => {
  const one = text("PROXY UNKNOWN\r\n");
  const two = encodeProxyHeaderV2({ command: "LOCAL" });
  assert.equal(
    (await read(one, [Infinity], { versions: 1 })).header.version,
    1,
  );
  assert.equal(
    (await read(two, [Infinity], { versions: 2 })).header.version,
    2,
  );
  await assertInvalid(two, /expected "PROXY ", got byte 0x0d/, { versions: 1 });
  await assertInvalid(one, /expected the v2 signature, got byte 0x50/, {
    versions: 2,
  });
  await assertInvalid(text("SSH-2.0"), /expected "PROXY " or the v2 signature/);
});

test("readProxyHeader() rejects with signal.reason when a silent peer outlasts the deadline", async () => {
  const reader = silentReader();
  await keepingAlive(() =>
    assert.rejects(
      readProxyHeader(reader, { signal: AbortSignal.timeout(20) }),
      { name: "TimeoutError" },
    )
  );
  assert.equal(reader.pending, 1);
  const aborted = silentReader();
  await assert.rejects(
    readProxyHeader(aborted, { signal: AbortSignal.abort(new Error("stop")) }),
    { message: "stop" },
  );
  assert.equal(aborted.pending, 0);
});

test("readProxyHeader() maps a reset and stops a reader that keeps returning 0", async () => {
  const reset = scriptedReader([
    text("PROX"),
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
  ]);
  await assert.rejects(readProxyHeader(reset), { code: "CONNECTION_RESET" });
  const stuck = { read: () => Promise.resolve(0) };
  await assert.rejects(readProxyHeader(stuck), NoProgressError);
});

test("readProxyHeader() checks its options", async () => {
  const reader = new ChunkedReader(text("PROXY UNKNOWN\r\n"));
  for (const maxHeaderBytes of [231, 65552, 1000.5, Number.NaN]) {
    await assert.rejects(
      readProxyHeader(reader, { maxHeaderBytes }),
      RangeError,
    );
  }
  await assert.rejects(
    readProxyHeader(reader, { versions: 3 as unknown as 1 }),
    RangeError,
  );
  assert.equal(reader.calls, 0);
  await readProxyHeader(reader, { maxHeaderBytes: 232 });
  await assert.rejects(
    readProxyHeader({ read: () => Promise.resolve(600) }),
    RangeError,
  );
});

// ---------------------------------------------------------------------------
// Encoders

test("encodeProxyHeaderV1() and readProxyHeader() agree", async () => {
  const inits = [
    {
      source: { transport: "tcp", hostname: "0.0.0.0", port: 0 },
      destination: {
        transport: "tcp",
        hostname: "255.255.255.255",
        port: 65535,
      },
    },
    {
      source: { transport: "tcp", hostname: "::", port: 1 },
      destination: { transport: "tcp", hostname: "fe80::1:2", port: 2 },
    },
  ] as const;
  for (const init of inits) {
    const { header } = await read(encodeProxyHeaderV1(init));
    assert.deepEqual(header.source, init.source);
    assert.deepEqual(header.destination, init.destination);
  }
});

test("encodeProxyHeaderV2() writes the spec's bytes for TCP over IPv4", () => {
  assert.deepEqual(
    encodeProxyHeaderV2({
      source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
      destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
    }),
    v2(0x21, 0x11, [192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 1, 187]),
  );
});

test("encodeProxyHeaderV1() and encodeProxyHeaderV2() refuse what they cannot encode", () => {
  const v4 = { transport: "tcp", hostname: "10.0.0.1", port: 1 } as const;
  const v6 = { transport: "tcp", hostname: "::1", port: 1 } as const;
  const unix = { transport: "unix", path: "/tmp/x" } as const;
  assert.throws(() => encodeProxyHeaderV1({ source: v4 }), TypeError);
  assert.throws(
    () => encodeProxyHeaderV1({ source: v4, destination: v6 }),
    /different IP families/,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV1({
        source: { ...v4, hostname: "localhost" },
        destination: v4,
      }),
    /"localhost" is not a numeric IPv4 or IPv6 address/,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV1({
        source: { ...v4, transport: "udp" },
        destination: v4,
      }),
    TypeError,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV1({ source: { ...v4, port: 65536 }, destination: v4 }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV2({ command: "LOCAL", source: v4, destination: v4 }),
    /LOCAL header carries no addresses/,
  );
  assert.throws(
    () => encodeProxyHeaderV2({ source: unix, destination: v4 }),
    TypeError,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV2({
        source: { transport: "unix", path: "x".repeat(109) },
        destination: unix,
      }),
    /109 bytes exceeds 108/,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV2({ tlvs: [{ type: 256, value: new Uint8Array(0) }] }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeProxyHeaderV2({
        tlvs: [
          { type: 1, value: new Uint8Array(40_000) },
          { type: 1, value: new Uint8Array(40_000) },
        ],
      }),
    /80006 bytes of addresses and TLVs exceed 65535/,
  );
});
