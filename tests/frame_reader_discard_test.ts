// discardTooLongFrames: frames over the cap are skipped, never buffered,
// reported, and reading goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeFrame,
  FrameDecoderStream,
  type FrameOptions,
  FrameReader,
  type FrameReaderOptions,
  FrameTooLargeError,
  InvalidFrameError,
  UnexpectedEofError,
} from "tcpframe";
import {
  ChunkedReader,
  collect,
  concat,
  offeredSizes,
  pseudoRandomBytes,
  streamOf,
} from "./_fixtures.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

test("FrameReader with discardTooLongFrames skips a frame over the cap, reports its size, and reads on", async () => {
  const wire = concat([
    encodeFrame(b(1)),
    encodeFrame(pseudoRandomBytes(200_000, 1)),
    encodeFrame(b(2)),
    encodeFrame(pseudoRandomBytes(1001, 2)),
    encodeFrame(b(3)),
  ]);
  const spy = offeredSizes(new ChunkedReader(wire, [3000]));
  const skipped: number[] = [];
  const reader = new FrameReader(spy, {
    maxFrameSize: 1000,
    discardTooLongFrames: true,
    onDiscard: (size) => skipped.push(size),
  });
  const frames: Uint8Array[] = [];
  for await (const frame of reader) frames.push(frame);
  assert.deepEqual(frames, [b(1), b(2), b(3)]);
  assert.deepEqual(skipped, [200_000, 1001]);
  assert.ok(
    spy.offered.every((n) => n <= 65536),
    "the skipped bytes went through the read buffer, never a buffer of their own",
  );
});

test("FrameReader without discardTooLongFrames still fails on a frame over the cap", async () => {
  const wire = concat([encodeFrame(b(1)), encodeFrame(new Uint8Array(11))]);
  const reader = new FrameReader(new ChunkedReader(wire), { maxFrameSize: 10 });
  assert.deepEqual(await reader.read(), b(1));
  await assert.rejects(reader.read(), FrameTooLargeError);
});

test("FrameReader with discardTooLongFrames reports a stream that ends inside a skipped frame", async () => {
  const wire = encodeFrame(new Uint8Array(5000)).subarray(0, 4 + 3000);
  const reader = new FrameReader(new ChunkedReader(wire, [700]), {
    maxFrameSize: 100,
    discardTooLongFrames: true,
  });
  await assert.rejects(reader.read(), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 3000);
    assert.equal(error.expected, 5000);
    assert.deepEqual(error.partial, new Uint8Array(0), "skipped, not kept");
    return true;
  });
});

test("FrameReader with discardTooLongFrames still fails on a header that cannot describe a frame", async () => {
  const options: FrameReaderOptions = {
    lengthFieldLength: 8,
    discardTooLongFrames: true,
  };
  const reader = new FrameReader(
    new ChunkedReader(new Uint8Array(16).fill(0xff)),
    options,
  );
  await assert.rejects(reader.read(), InvalidFrameError);
});

test("FrameReader fails with what onDiscard throws, and keeps failing", async () => {
  const wire = concat([encodeFrame(new Uint8Array(20)), encodeFrame(b(1))]);
  const reason = new Error("too large for this protocol: hang up");
  const reader = new FrameReader(new ChunkedReader(wire), {
    maxFrameSize: 10,
    discardTooLongFrames: true,
    onDiscard: () => {
      throw reason;
    },
  });
  await assert.rejects(reader.read(), (error) => error === reason);
  await assert.rejects(reader.read(), (error) => error === reason);
});

test("FrameReader refuses onDiscard without discardTooLongFrames, and options of the wrong type", () => {
  const reader = new ChunkedReader(b());
  assert.throws(() => new FrameReader(reader, { onDiscard: () => {} }), {
    name: "TypeError",
    message: /without discardTooLongFrames/,
  });
  assert.throws(
    () =>
      new FrameReader(reader, {
        discardTooLongFrames: "yes" as unknown as boolean,
      }),
    TypeError,
  );
  assert.throws(
    () =>
      new FrameReader(reader, {
        discardTooLongFrames: true,
        onDiscard: 5 as unknown as () => void,
      }),
    TypeError,
  );
});

/** A wire of frames, some over the cap, and what a discarding reader gives. */
const caseArb = fc.record({
  cap: fc.integer({ min: 0, max: 300 }),
  layout: fc.constantFrom<FrameOptions>(
    {},
    { lengthFieldLength: 2, littleEndian: true },
    { lengthFieldLength: "varint" },
    { lengthFieldLength: 2, lengthFieldOffset: 2, bytesToStrip: 0 },
  ),
  sizes: fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 12 }),
  chunk: fc.integer({ min: 1, max: 700 }),
  readBufferSize: fc.integer({ min: 1, max: 2000 }),
});

test("fuzz: FrameReader (reads and chunks) and FrameDecoderStream with discardTooLongFrames give exactly the frames within the cap", async () => {
  await fc.assert(
    fc.asyncProperty(
      caseArb,
      async ({ cap, layout, sizes, chunk, readBufferSize }) => {
        const offset = layout.lengthFieldOffset ?? 0;
        const keepsHeader = layout.bytesToStrip === 0;
        const encoding: FrameOptions = {};
        if (layout.lengthFieldLength !== undefined) {
          encoding.lengthFieldLength = layout.lengthFieldLength;
        }
        if (layout.littleEndian !== undefined) {
          encoding.littleEndian = layout.littleEndian;
        }
        const encode = (payload: Uint8Array) =>
          concat([
            new Uint8Array(offset).fill(9),
            encodeFrame(payload, encoding),
          ]);
        const payloads = sizes.map((n, i) => pseudoRandomBytes(n, i + 1));
        const wires = payloads.map(encode);
        const wire = concat(wires);
        const expected = wires
          .filter((_, i) => payloads[i]!.byteLength <= cap)
          .map((w, i) =>
            keepsHeader ? w : payloads.filter((p) => p.byteLength <= cap)[i]!
          );
        const expectedSkips = sizes.filter((n) => n > cap);
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < wire.byteLength; at += chunk) {
          chunks.push(wire.slice(at, at + chunk));
        }

        const runs: Array<[string, (skips: number[]) => Promise<unknown[]>]> = [
          ["reads", (skips) =>
            collect(
              new FrameReader(new ChunkedReader(wire, [chunk]), {
                ...layout,
                maxFrameSize: cap,
                readBufferSize,
                discardTooLongFrames: true,
                onDiscard: (n) => skips.push(n),
              }),
            )],
          ["chunks", (skips) =>
            collect(
              new FrameReader(streamOf(chunks), {
                ...layout,
                maxFrameSize: cap,
                discardTooLongFrames: true,
                onDiscard: (n) => skips.push(n),
              }),
            )],
          ["stream", (skips) =>
            collect(
              streamOf(chunks.map((c) => c.slice())).pipeThrough(
                new FrameDecoderStream({
                  ...layout,
                  maxFrameSize: cap,
                  discardTooLongFrames: true,
                  onDiscard: (n) => skips.push(n),
                }),
              ),
            )],
        ];
        for (const [name, run] of runs) {
          const skips: number[] = [];
          const frames = await run(skips);
          assert.deepEqual(frames, expected, name);
          assert.deepEqual(skips, expectedSkips, name);
        }
      },
    ),
    { numRuns: 300 },
  );
});
