// FrameReader over a ReadableStream: frames cut out of the chunks as they
// are, without a read buffer.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionResetError,
  encodeFrame,
  FrameReader,
  FrameTooLargeError,
  NoProgressError,
  UnexpectedEofError,
} from "tcpframe";
import { concat, pseudoRandomBytes, streamOf, tick } from "./_fixtures.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

/** A stream whose chunks are pushed by hand; `end()` closes it. */
function manualStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>(
    { start: (c) => void (controller = c) },
    { highWaterMark: 0 },
  );
  return {
    stream,
    push: (chunk: Uint8Array) => controller.enqueue(chunk),
    end: () => controller.close(),
    fail: (error: unknown) => controller.error(error),
  };
}

test("FrameReader over a ReadableStream hands out views of the chunks for frames inside one", async () => {
  const wire = concat([encodeFrame(b(1, 2)), encodeFrame(b(3))]);
  const reader = new FrameReader(streamOf([wire]));
  const first = (await reader.read())!;
  const second = (await reader.read())!;
  assert.deepEqual([first, second], [b(1, 2), b(3)]);
  assert.equal(first.buffer, wire.buffer, "a view, not a copy");
  assert.equal(second.buffer, wire.buffer);
  assert.equal(await reader.read(), null);
});

test("FrameReader over a ReadableStream assembles a frame split across chunks once, into a buffer of its own", async () => {
  const big = pseudoRandomBytes(10_000, 3);
  const wire = concat([encodeFrame(big), encodeFrame(b(9))]);
  // The header is split too: 2 bytes, then the rest in 1000-byte pieces.
  const chunks = [wire.slice(0, 2)];
  for (let at = 2; at < wire.byteLength; at += 1000) {
    chunks.push(wire.slice(at, at + 1000));
  }
  const reader = new FrameReader(streamOf(chunks));
  const frame = (await reader.read())!;
  assert.deepEqual(frame, big);
  assert.equal(frame.buffer.byteLength, big.byteLength, "exactly the frame");
  assert.deepEqual(await reader.read(), b(9));
  assert.equal(await reader.read(), null);
});

test("FrameReader over a ReadableStream keeps frames valid after later reads", async () => {
  const frames = Array.from(
    { length: 40 },
    (_, i) => pseudoRandomBytes(i * 37, i + 1),
  );
  const wire = concat(frames.map((f) => encodeFrame(f)));
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < wire.byteLength; at += 1 + (i++ * 13) % 200) {
    chunks.push(wire.slice(at, at + 1 + (i * 13) % 200));
  }
  const got: Uint8Array[] = [];
  for await (const frame of new FrameReader(streamOf(chunks))) got.push(frame);
  assert.deepEqual(got, frames);
});

test("FrameReader.readBatch() with borrowFrames over a ReadableStream keeps every frame of a batch valid", async () => {
  // Frames of 40 bytes in 100-byte chunks: most frames span two chunks, so
  // a batch holds several frames that were put together piece by piece.
  const frames = Array.from(
    { length: 30 },
    (_, i) => pseudoRandomBytes(40, i + 1),
  );
  const wire = concat(frames.map((f) => encodeFrame(f)));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < wire.byteLength; at += 100) {
    chunks.push(wire.slice(at, at + 100));
  }
  const { stream, push, end } = manualStream();
  const reader = new FrameReader(stream, { borrowFrames: true });
  const got: Uint8Array[] = [];
  const reading = (async () => {
    for (let batch; (batch = await reader.readBatch()) !== null;) {
      for (const frame of batch) got.push(frame.slice());
    }
  })();
  // Several chunks at once, so a batch spans chunks.
  for (let i = 0; i < chunks.length; i += 4) {
    for (const chunk of chunks.slice(i, i + 4)) push(chunk);
    await tick();
  }
  end();
  await reading;
  assert.deepEqual(got, frames);
});

test("FrameReader over a ReadableStream: an aborted read loses nothing", async () => {
  const { stream, push, end } = manualStream();
  const reader = new FrameReader(stream);
  const wire = concat([encodeFrame(b(1, 2, 3)), encodeFrame(b(4))]);
  const controller = new AbortController();
  const pending = reader.read({ signal: controller.signal });
  push(wire.slice(0, 2));
  await tick();
  controller.abort(new Error("deadline"));
  await assert.rejects(pending, { message: "deadline" });
  push(wire.slice(2, 6)); // answers the chunk read left in flight
  push(wire.slice(6));
  end();
  assert.deepEqual(await reader.read(), b(1, 2, 3));
  assert.deepEqual(await reader.read(), b(4));
  assert.equal(await reader.read(), null);
});

test("FrameReader over a ReadableStream reports a frame cut short, with the counts", async () => {
  const wire = encodeFrame(pseudoRandomBytes(100, 2));
  const reader = new FrameReader(
    streamOf([wire.slice(0, 30), wire.slice(30, 60)]),
  );
  await assert.rejects(reader.read(), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 56);
    assert.equal(error.expected, 100);
    assert.deepEqual(error.partial, wire.slice(4, 60));
    return true;
  });
  const header = new FrameReader(streamOf([b(0, 0), b(1)]));
  await assert.rejects(header.read(), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 3);
    assert.equal(error.expected, 4);
    assert.deepEqual(error.partial, b(0, 0, 1));
    return true;
  });
});

test("FrameReader over a ReadableStream maps the stream's error and keeps it", async () => {
  const reset = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
  });
  const { stream, push, fail } = manualStream();
  const reader = new FrameReader(stream);
  push(encodeFrame(b(5)));
  assert.deepEqual(await reader.read(), b(5));
  const pending = reader.read();
  fail(reset);
  const error = await pending.catch((e) => e);
  assert.ok(error instanceof ConnectionResetError);
  assert.equal(error.cause, reset);
  assert.equal(await reader.read().catch((e) => e), error, "sticky");
});

test("FrameReader over a ReadableStream refuses an oversize length before any allocation", async () => {
  const reader = new FrameReader(
    streamOf([b(0xff, 0xff), b(0xff, 0xff, 1, 2, 3)]),
    { maxFrameSize: 1024 },
  );
  await assert.rejects(reader.read(), (error) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.size, 0xffff_ffff);
    return true;
  });
});

test("FrameReader over a ReadableStream rejects chunks that are not bytes, and endless empty chunks", async () => {
  const strings = new FrameReader(
    streamOf(["text"]) as unknown as ReadableStream<Uint8Array>,
  );
  await assert.rejects(strings.read(), TypeError);
  const empty = new FrameReader(
    streamOf(Array.from({ length: 1000 }, () => new Uint8Array(0))),
  );
  await assert.rejects(empty.read(), NoProgressError);
});

test("FrameReader locks the stream it reads, and refuses a locked one or something else", () => {
  const stream = streamOf([b(0, 0, 0, 0)]);
  new FrameReader(stream);
  assert.equal(stream.locked, true);
  assert.throws(() => new FrameReader(stream), TypeError);
  assert.throws(
    () => new FrameReader({} as unknown as ReadableStream<Uint8Array>),
    TypeError,
  );
});
