import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeFrame,
  FrameDecoderStream,
  FrameEncoderStream,
  FrameTooLargeError,
  UnexpectedEofError,
} from "tcpframe";
import {
  collect,
  concat,
  pseudoRandomBytes,
  streamOf,
  tick,
} from "./_fixtures.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

test("FrameEncoderStream emits one chunk per small frame", async () => {
  const chunks = await collect(
    streamOf([b(1), b(2, 3)]).pipeThrough(new FrameEncoderStream()),
  );
  assert.deepEqual(chunks, [encodeFrame(b(1)), encodeFrame(b(2, 3))]);
});

test("FrameEncoderStream passes a large payload through uncopied after its header", async () => {
  const big = pseudoRandomBytes(70_000);
  const chunks = await collect(
    streamOf([big]).pipeThrough(new FrameEncoderStream()),
  );
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0], b(0, 1, 0x11, 0x70));
  assert.equal(chunks[1], big);
});

test("FrameEncoderStream errors with RangeError on a payload over the cap", async () => {
  await assert.rejects(
    collect(
      streamOf([b(1, 2, 3)]).pipeThrough(
        new FrameEncoderStream({ maxFrameSize: 2 }),
      ),
    ),
    RangeError,
  );
});

test("FrameEncoderStream refuses a decode-only layout", () => {
  assert.throws(
    () => new FrameEncoderStream({ lengthFieldOffset: 1 }),
    TypeError,
  );
});

test("FrameDecoderStream errors on a truncated end", async () => {
  await assert.rejects(
    collect(
      streamOf([encodeFrame(b(1, 2)).subarray(0, 5)]).pipeThrough(
        new FrameDecoderStream(),
      ),
    ),
    UnexpectedEofError,
  );
});

test("FrameDecoderStream errors on an oversize length", async () => {
  await assert.rejects(
    collect(
      streamOf([b(0, 0, 1, 0)]).pipeThrough(
        new FrameDecoderStream({ maxFrameSize: 255 }),
      ),
    ),
    FrameTooLargeError,
  );
});

test("FrameDecoderStream respects backpressure: it pulls input only as frames are read", async () => {
  const frames = Array.from(
    { length: 100 },
    (_, i) => encodeFrame(pseudoRandomBytes(10, i + 1)),
  );
  let pulled = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === frames.length) controller.close();
      else controller.enqueue(frames[pulled++]!);
    },
  }, { highWaterMark: 0 });
  const reader = source.pipeThrough(new FrameDecoderStream()).getReader();
  await reader.read();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(pulled < 10, `pulled ${pulled} chunks for one frame`);
  await reader.cancel();
});

test("FrameEncoderStream and FrameDecoderStream round-trip many frames", async () => {
  const payloads = Array.from(
    { length: 200 },
    (_, i) => pseudoRandomBytes(i * 37 % 5000, i + 1),
  );
  const decoded = await collect(
    streamOf(payloads)
      .pipeThrough(new FrameEncoderStream({ lengthFieldLength: "varint" }))
      .pipeThrough(new FrameDecoderStream({ lengthFieldLength: "varint" })),
  );
  assert.deepEqual(decoded, payloads);
  assert.equal(concat(decoded).byteLength, concat(payloads).byteLength);
});

test("FrameDecoderStream hands out every frame before a bad header in the same chunk, then errors", async () => {
  const wire = concat([
    encodeFrame(b(1)),
    encodeFrame(b()),
    encodeFrame(b(2, 3)),
    b(0xff, 0xff, 0xff, 0xff),
  ]);
  for (const chunks of [[wire], [wire.subarray(0, 3), wire.subarray(3)]]) {
    const seen: Uint8Array[] = [];
    await assert.rejects(async () => {
      const stream = streamOf(chunks).pipeThrough(new FrameDecoderStream());
      for await (const frame of stream) seen.push(frame);
    }, FrameTooLargeError);
    assert.deepEqual(seen, [b(1), b(), b(2, 3)]);
  }
});

test("FrameDecoderStream hands out every frame before a truncated end, even when the writer closes at once", async () => {
  const stream = new FrameDecoderStream();
  const writer = stream.writable.getWriter();
  const writing = writer.write(
    concat([encodeFrame(b(1)), encodeFrame(b(2)), b(0, 0)]),
  );
  const closing = writer.close();
  await tick(); // the frames are decoded before anything reads them
  const seen: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const frame of stream.readable) seen.push(frame);
  }, UnexpectedEofError);
  assert.deepEqual(seen, [b(1), b(2)]);
  await Promise.allSettled([writing, closing]);
});

test("FrameDecoderStream stops its input after a bad header", async () => {
  let cancelled: unknown;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(b(0xff, 0xff, 0xff, 0xff));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  await assert.rejects(
    collect(source.pipeThrough(new FrameDecoderStream())),
    FrameTooLargeError,
  );
  assert.ok(cancelled instanceof FrameTooLargeError);
});
