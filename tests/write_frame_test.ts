import { test } from "node:test";
import assert from "node:assert/strict";
import {
  COALESCE_LIMIT,
  encodeFrame,
  writeFrame,
  writeFrames,
  WriteZeroError,
} from "tcpframe";
import { pseudoRandomBytes, ShortWriter } from "./_fixtures.ts";

const text = new TextEncoder();

test("writeFrame() writes a small frame in exactly one write call", async () => {
  const writer = new ShortWriter();
  await writeFrame(writer, text.encode("hello world"));
  assert.equal(writer.calls, 1);
  assert.deepEqual(
    writer.bytes(),
    new Uint8Array([0, 0, 0, 11, ...text.encode("hello world")]),
  );
});

test("writeFrame() writes a frame at the coalesce limit in one call", async () => {
  const writer = new ShortWriter();
  await writeFrame(writer, new Uint8Array(COALESCE_LIMIT - 4));
  assert.equal(writer.calls, 1);
  assert.equal(writer.offered[0], COALESCE_LIMIT);
});

test("writeFrame() writes a 64 KiB payload with its header in one call", async () => {
  for (const lengthFieldLength of [4, 8] as const) {
    const writer = new ShortWriter();
    await writeFrame(writer, new Uint8Array(64 * 1024), { lengthFieldLength });
    assert.equal(writer.calls, 1);
    assert.equal(writer.offered[0], 64 * 1024 + lengthFieldLength);
  }
});

test("writeFrame() writes a large payload after its header without copying it", async () => {
  const payload = pseudoRandomBytes(200_000);
  const seen: Uint8Array[] = [];
  const writer = {
    write(p: Uint8Array) {
      seen.push(p);
      return Promise.resolve(p.byteLength);
    },
  };
  await writeFrame(writer, payload);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0], new Uint8Array([0, 3, 0x0d, 0x40]));
  assert.equal(seen[1], payload, "the payload itself, not a copy");
});

test("writeFrame() completes over short writes", async () => {
  const writer = new ShortWriter([3, 1, 5]);
  const payload = pseudoRandomBytes(100);
  await writeFrame(writer, payload);
  assert.deepEqual(writer.bytes(), encodeFrame(payload));
});

test("writeFrame() refuses a payload over maxFrameSize with RangeError, writing nothing", async () => {
  const writer = new ShortWriter();
  await assert.rejects(
    writeFrame(writer, new Uint8Array(11), { maxFrameSize: 10 }),
    (error) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /11 bytes exceeds maxFrameSize 10/);
      return true;
    },
  );
  await assert.rejects(
    writeFrame(writer, new Uint8Array(1_048_577)),
    RangeError,
  );
  assert.equal(writer.calls, 0);
});

test("writeFrame() refuses a length that does not fit the field", async () => {
  const writer = new ShortWriter();
  await assert.rejects(
    writeFrame(writer, new Uint8Array(256), { lengthFieldLength: 1 }),
    /does not fit a 1-byte length field/,
  );
  await assert.rejects(
    writeFrame(writer, new Uint8Array(2), { lengthAdjustment: 5 }),
    /length field value -3/,
  );
  assert.equal(writer.calls, 0);
});

test("writeFrame() refuses decode-only layouts with TypeError", async () => {
  const writer = new ShortWriter();
  await assert.rejects(
    writeFrame(writer, new Uint8Array(1), { lengthFieldOffset: 1 }),
    TypeError,
  );
  await assert.rejects(
    writeFrame(writer, new Uint8Array(1), { bytesToStrip: 0 }),
    TypeError,
  );
});

test("writeFrame() passes WriteZeroError through", async () => {
  await assert.rejects(
    writeFrame(new ShortWriter([2, 0]), new Uint8Array(10)),
    WriteZeroError,
  );
});

test("writeFrame() rejects with the signal's reason", async () => {
  const writer = new ShortWriter();
  const reason = new Error("no");
  await assert.rejects(
    writeFrame(writer, new Uint8Array(1), {
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
  assert.equal(writer.calls, 0);
});

test("encodeFrame() writes each field size and byte order", () => {
  const p = new Uint8Array([9]);
  assert.deepEqual(
    encodeFrame(p, { lengthFieldLength: 1 }),
    new Uint8Array([1, 9]),
  );
  assert.deepEqual(
    encodeFrame(p, { lengthFieldLength: 2 }),
    new Uint8Array([0, 1, 9]),
  );
  assert.deepEqual(
    encodeFrame(p, { lengthFieldLength: 3, littleEndian: true }),
    new Uint8Array([1, 0, 0, 9]),
  );
  assert.deepEqual(
    encodeFrame(p, { littleEndian: true }),
    new Uint8Array([1, 0, 0, 0, 9]),
  );
  assert.deepEqual(
    encodeFrame(p, { lengthFieldLength: 8 }),
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 9]),
  );
  assert.deepEqual(
    encodeFrame(p, { lengthFieldLength: 8, littleEndian: true }),
    new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 9]),
  );
  assert.deepEqual(
    encodeFrame(new Uint8Array(300), { lengthFieldLength: "varint" }).subarray(
      0,
      2,
    ),
    new Uint8Array([0xac, 0x02]),
  );
});

test("encodeFrame() applies lengthAdjustment in reverse", () => {
  // A length that counts its own 4 bytes.
  assert.deepEqual(
    encodeFrame(new Uint8Array(5), { lengthAdjustment: -4 }).subarray(0, 4),
    new Uint8Array([0, 0, 0, 9]),
  );
});

test("writeFrames() packs many small frames into one write", async () => {
  const writer = new ShortWriter();
  const payloads = Array.from(
    { length: 1000 },
    (_, i) => pseudoRandomBytes(i % 50, i + 1),
  );
  await writeFrames(writer, payloads, { maxBatchBytes: 1 << 20 });
  assert.equal(writer.calls, 1);
  const expected = payloads.map((p) => encodeFrame(p));
  assert.deepEqual(
    writer.bytes(),
    new Uint8Array(expected.flatMap((f) => [...f])),
  );
});

test("writeFrames() keeps batches within maxBatchBytes", async () => {
  const writer = new ShortWriter();
  const payloads = Array.from({ length: 100 }, () => new Uint8Array(96));
  await writeFrames(writer, payloads, { maxBatchBytes: 1000 });
  assert.ok(writer.offered.every((n) => n <= 1000), `${writer.offered}`);
  assert.equal(writer.calls, 10); // 100 frames of 100 bytes, 10 per batch
  assert.equal(writer.bytes().byteLength, 100 * 100);
});

test("writeFrames() writes a large frame on its own, in order", async () => {
  const writer = new ShortWriter();
  const big = pseudoRandomBytes(100_000);
  const payloads = [new Uint8Array([1]), big, new Uint8Array([2])];
  await writeFrames(writer, payloads);
  assert.deepEqual(
    writer.bytes(),
    new Uint8Array([
      ...encodeFrame(payloads[0]!),
      ...encodeFrame(big),
      ...encodeFrame(payloads[2]!),
    ]),
  );
});

test("writeFrames() checks every payload before writing anything", async () => {
  const writer = new ShortWriter();
  await assert.rejects(
    writeFrames(writer, [new Uint8Array(1), new Uint8Array(20)], {
      maxFrameSize: 10,
    }),
    RangeError,
  );
  assert.equal(writer.calls, 0);
});

test("writeFrames() rejects a non-positive maxBatchBytes", async () => {
  await assert.rejects(
    writeFrames(new ShortWriter(), [], { maxBatchBytes: 0 }),
    RangeError,
  );
});
