// Hostile PROXY headers: random bytes, and valid v1/v2 headers with bytes
// changed, inserted, deleted or cut off, read through random chunkings with
// random size bounds. Each run must end in a header or a TcpFrameError
// (ProxyHeaderError, UnexpectedEofError), must never offer the reader a
// buffer larger than the bound, and must never hang: reads are counted. A
// header that is found keeps the bytes after it, in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  type NetAddr,
  ProxyHeaderError,
  type ProxyHeaderV2Init,
  type Reader,
  readProxyHeader,
  TcpFrameError,
  UnexpectedEofError,
  type UnixAddr,
} from "tcpframe";
import { ChunkedReader, concat } from "./_fixtures.ts";

const RUNS = 1000;
const DEFAULT_MAX_HEADER_BYTES = 4096;

const portArb = fc.integer({ min: 0, max: 65535 });
const ipv4Arb = fc.ipV4();
const ipv6Arb = fc.ipV6();

/** A NetAddr of one family and transport. */
function netAddrArb(
  host: fc.Arbitrary<string>,
  transport: "tcp" | "udp",
): fc.Arbitrary<NetAddr> {
  return fc.record({
    transport: fc.constant(transport),
    hostname: host,
    port: portArb,
  });
}

const unixArb: fc.Arbitrary<UnixAddr> = fc.record({
  transport: fc.constant("unix" as const),
  path: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 108 })
    .filter((path) => !path.includes("\0")),
});

const tlvsArb = fc.array(
  fc.record({
    type: fc.integer({ min: 0, max: 255 }),
    value: fc.uint8Array({ maxLength: 300 }),
  }),
  { maxLength: 4 },
);

/** Both addresses of one kind, or neither. */
const pairArb: fc.Arbitrary<[NetAddr, NetAddr] | [UnixAddr, UnixAddr] | []> = fc
  .oneof(
    fc.constant<[]>([]),
    fc.tuple(netAddrArb(ipv4Arb, "tcp"), netAddrArb(ipv4Arb, "tcp")),
    fc.tuple(netAddrArb(ipv6Arb, "tcp"), netAddrArb(ipv6Arb, "tcp")),
    fc.tuple(netAddrArb(ipv4Arb, "udp"), netAddrArb(ipv4Arb, "udp")),
    fc.tuple(netAddrArb(ipv6Arb, "udp"), netAddrArb(ipv6Arb, "udp")),
    fc.tuple(unixArb, unixArb),
  );

/** A valid header to encode: v1 (TCP pairs or none) or v2. */
type Sample =
  | { version: 1; source?: NetAddr; destination?: NetAddr }
  | ({ version: 2 } & ProxyHeaderV2Init);

const sampleArb: fc.Arbitrary<Sample> = fc.oneof(
  fc.oneof(
    fc.constant<[]>([]),
    fc.tuple(netAddrArb(ipv4Arb, "tcp"), netAddrArb(ipv4Arb, "tcp")),
    fc.tuple(netAddrArb(ipv6Arb, "tcp"), netAddrArb(ipv6Arb, "tcp")),
  ).map((pair): Sample =>
    pair.length === 0
      ? { version: 1 }
      : { version: 1, source: pair[0], destination: pair[1] }
  ),
  fc.record({ pair: pairArb, tlvs: tlvsArb, local: fc.boolean() }).map(
    ({ pair, tlvs, local }): Sample => {
      if (local || pair.length === 0) {
        return { version: 2, command: local ? "LOCAL" : "PROXY", tlvs };
      }
      return { version: 2, source: pair[0], destination: pair[1], tlvs };
    },
  ),
);

function encode(sample: Sample): Uint8Array {
  return sample.version === 1
    ? encodeProxyHeaderV1(sample)
    : encodeProxyHeaderV2(sample);
}

/** One change to a byte string. */
type Mutation =
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; value: number }
  | { kind: "delete"; at: number }
  | { kind: "cut"; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    value: fc.constantFrom(0x20, 0x0d, 0x0a, 0x00, 0x3a, 0x2e, 0x30, 0xff),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = [...bytes];
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === "set" && at < out.length) out[at] = m.value;
    else if (m.kind === "insert") out.splice(at, 0, m.value);
    else if (m.kind === "delete") out.splice(at, 1);
    else if (m.kind === "cut") out = out.slice(0, at);
  }
  return new Uint8Array(out);
}

/** Hostile input: noise, noise behind a real prefix, or a mutated header. */
const hostileArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.tuple(
    fc.constantFrom(
      new TextEncoder().encode("PROXY "),
      new TextEncoder().encode("PROXY TCP4 "),
      new TextEncoder().encode("PROXY TCP6 "),
      encodeProxyHeaderV2({ command: "LOCAL" }).subarray(0, 12),
      encodeProxyHeaderV2({ command: "LOCAL" }).subarray(0, 14),
    ),
    fc.uint8Array({ maxLength: 600 }),
  ).map(([prefix, rest]) => concat([prefix, rest])),
  fc.tuple(sampleArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([sample, mutations]) => mutate(encode(sample), mutations)),
);

/** Read sizes, cycling: mostly small, sometimes 0, never all 0. */
const sizesArb = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: 41, max: 5000 }) },
    { weight: 1, arbitrary: fc.constant(0) },
  ),
  { minLength: 1, maxLength: 8 },
).filter((sizes) => sizes.some((size) => size > 0));

const maxArb = fc.option(fc.integer({ min: 232, max: 8192 }), {
  nil: undefined,
});

/** Every byte `reader` serves until its end. */
async function drain(reader: Reader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(997);
  for (let i = 0; i < 100_000; i++) {
    const n = await reader.read(buffer);
    if (n === null) return concat(parts);
    parts.push(buffer.slice(0, n));
  }
  throw new Error("reader did not end");
}

test("readProxyHeader() on hostile bytes: a header or a TcpFrameError, within the bound, no byte lost", async () => {
  await fc.assert(
    fc.asyncProperty(
      hostileArb,
      fc.uint8Array({ maxLength: 50 }),
      sizesArb,
      maxArb,
      async (input, trailing, sizes, maxHeaderBytes) => {
        const wire = concat([input, trailing]);
        const reader = new ChunkedReader(wire, sizes);
        const bound = maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
        let result;
        try {
          result = await readProxyHeader(
            reader,
            maxHeaderBytes === undefined ? {} : { maxHeaderBytes },
          );
        } catch (error) {
          assert.ok(error instanceof TcpFrameError, String(error));
          assert.ok(
            error instanceof ProxyHeaderError ||
              error instanceof UnexpectedEofError,
            `${error.name}: ${error.message}`,
          );
          if (error instanceof UnexpectedEofError) {
            assert.equal(error.bytesRead, wire.byteLength);
            assert.deepEqual(error.partial, wire);
          }
        }
        assert.ok(
          reader.largestOffered <= bound,
          `offered ${reader.largestOffered} > ${bound}`,
        );
        assert.ok(
          reader.calls <= (wire.byteLength + 1) * sizes.length,
          `${reader.calls} reads for ${wire.byteLength} bytes`,
        );
        if (result === undefined) return;
        // The header is a prefix of the wire, and everything after it is
        // served by result.reader, in order.
        const taken = wire.byteLength - reader.remaining;
        const headerLength = taken - result.rest.byteLength;
        assert.ok(headerLength >= 15 && headerLength <= bound);
        assert.deepEqual(
          await drain(result.reader),
          wire.subarray(headerLength),
        );
      },
    ),
    { numRuns: RUNS },
  );
});

/** The same IPv6 address, whatever its spelling. */
function sameHost(a: string, b: string): boolean {
  if (!a.includes(":")) return a === b;
  return new URL(`http://[${a}]/`).hostname ===
    new URL(`http://[${b}]/`).hostname;
}

test("readProxyHeader() decodes every valid header as encoded, through any chunking", async () => {
  await fc.assert(
    fc.asyncProperty(
      sampleArb,
      fc.uint8Array({ maxLength: 50 }),
      sizesArb,
      async (sample, trailing, sizes) => {
        const wire = concat([encode(sample), trailing]);
        const { header, reader } = await readProxyHeader(
          new ChunkedReader(wire, sizes),
        );
        assert.equal(header.version, sample.version);
        const command = sample.version === 2
          ? sample.command ?? "PROXY"
          : "PROXY";
        assert.equal(header.command, command);
        if (command === "LOCAL" || sample.source === undefined) {
          assert.equal(header.source, undefined);
          assert.equal(header.destination, undefined);
        } else {
          for (const which of ["source", "destination"] as const) {
            const want = sample[which]!;
            const got = header[which]!;
            assert.equal(got.transport, want.transport);
            if (want.transport === "unix") {
              assert.deepEqual(got, { ...want });
            } else {
              assert.ok(got.transport !== "unix");
              assert.equal(got.port, want.port);
              assert.ok(
                sameHost(got.hostname, want.hostname),
                `${got.hostname} vs ${want.hostname}`,
              );
            }
          }
        }
        assert.deepEqual(
          header.tlvs,
          sample.version === 2
            ? (sample.tlvs ?? []).map(({ type, value }) => ({ type, value }))
            : [],
        );
        assert.deepEqual(await drain(reader), trailing);
      },
    ),
    { numRuns: RUNS },
  );
});
