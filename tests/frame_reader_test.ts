import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionResetError,
  encodeFrame,
  FrameReader,
  FrameTooLargeError,
  NoProgressError,
  type Reader,
  UnexpectedEofError,
} from "tcpframe";
import {
  ChunkedReader,
  concat,
  ManualReader,
  offeredSizes,
  pseudoRandomBytes,
  scriptedReader,
  tick,
} from "./_fixtures.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

test("FrameReader serves many small frames from one underlying read", async () => {
  const frames = Array.from(
    { length: 500 },
    (_, i) => pseudoRandomBytes(64, i + 1),
  );
  const reader = new ChunkedReader(concat(frames.map((f) => encodeFrame(f))));
  const framed = new FrameReader(reader);
  for (const expected of frames) {
    assert.deepEqual(await framed.read(), expected);
  }
  assert.equal(
    reader.calls,
    2,
    "a 4 KiB first read, which fills the small buffer, then the full 64 KiB buffer takes the other 30 KB in one read",
  );
  assert.equal(await framed.read(), null);
});

test("FrameReader reads a large frame straight into its own exact-size buffer", async () => {
  const big = pseudoRandomBytes(1_000_000, 9);
  const offered: number[] = [];
  const inner = new ChunkedReader(encodeFrame(big), [50_000]);
  const spy: Reader = {
    read(p) {
      offered.push(p.byteLength);
      return inner.read(p);
    },
  };
  const frame = await new FrameReader(spy).read();
  assert.deepEqual(frame, big);
  // After the first buffered read, each read targets the rest of the frame:
  // the frame's own buffer, never more than what is left of it.
  let left = big.byteLength - (Math.min(offered[0]!, 50_000) - 4);
  for (const size of offered.slice(1)) {
    assert.equal(size, left);
    left -= Math.min(size, 50_000);
  }
});

test("FrameReader reads the header after a large frame on its own, so the next large payload is not copied", async () => {
  const frames = [
    pseudoRandomBytes(100_000, 1),
    pseudoRandomBytes(100_000, 2),
    pseudoRandomBytes(10, 3), // a small frame after a large one
    pseudoRandomBytes(3, 4),
    pseudoRandomBytes(100_000, 5),
  ];
  const offered: number[] = [];
  const inner = new ChunkedReader(concat(frames.map((f) => encodeFrame(f))));
  const spy: Reader = {
    read(p) {
      offered.push(p.byteLength);
      return inner.read(p);
    },
  };
  const framed = new FrameReader(spy);
  const got: Uint8Array[] = [];
  for await (const frame of framed) got.push(frame);
  assert.deepEqual(got, frames);
  // Frame 1 fills the 4 KiB first read buffer; after it, each header is
  // read alone and each large payload straight into its frame.
  assert.deepEqual(offered, [
    4096, // frame 1 header + start of its payload
    100_000 - (4096 - 4), // the rest of frame 1, into the frame
    4, // frame 2 header alone
    100_000, // frame 2 payload, into the frame
    4, // frame 3 header alone: a small frame
    4096 - 4, // normal reads again: frames 3, 4, and frame 5's start
    100_000 - (4096 - 4 - 10 - 7 - 4), // the rest of frame 5
    4, // the end
  ]);
});

test("FrameReader never offers the reader more than one read buffer outside a frame", async () => {
  const offered: number[] = [];
  const inner = new ChunkedReader(
    concat([encodeFrame(b(1)), encodeFrame(b(2))]),
    [3],
  );
  const spy: Reader = {
    read(p) {
      offered.push(p.byteLength);
      return inner.read(p);
    },
  };
  const framed = new FrameReader(spy, { readBufferSize: 1024 });
  assert.deepEqual([
    await framed.read(),
    await framed.read(),
    await framed.read(),
  ], [
    b(1),
    b(2),
    null,
  ]);
  assert.ok(offered.every((n) => n <= 1024), `${offered}`);
});

test("FrameReader frames stay valid after later reads", async () => {
  const frames = Array.from(
    { length: 50 },
    (_, i) => pseudoRandomBytes(100, i + 1),
  );
  const framed = new FrameReader(
    new ChunkedReader(concat(frames.map((f) => encodeFrame(f))), [333]),
    { readBufferSize: 256 },
  );
  const got: Uint8Array[] = [];
  for await (const frame of framed) got.push(frame);
  assert.deepEqual(got, frames);
});

test("FrameReader.read() aborted mid-header, then resumed, loses nothing", async () => {
  const manual = new ManualReader();
  const framed = new FrameReader(manual);
  const wire = concat([encodeFrame(b(1, 2, 3)), encodeFrame(b(4))]);
  const controller = new AbortController();
  const pending = framed.read({ signal: controller.signal });
  await tick();
  manual.deliver(wire.subarray(0, 2)); // half a header
  await tick();
  assert.equal(manual.reads, 2, "waiting for the rest of the header");
  const reason = new Error("deadline");
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
  manual.deliver(wire.subarray(2)); // answers the read left in flight
  assert.deepEqual(await framed.read(), b(1, 2, 3));
  assert.deepEqual(await framed.read(), b(4));
  assert.equal(manual.reads, 2, "no read was lost or repeated");
});

test("FrameReader.read({ signal }) aborted while the peer is silent keeps the read in flight", async () => {
  const manual = new ManualReader();
  const framed = new FrameReader(manual);
  const wire = concat([encodeFrame(b(7, 7)), encodeFrame(b(8))]);
  const controller = new AbortController();
  const pending = framed.read({ signal: controller.signal });
  await tick();
  assert.equal(manual.reads, 1);
  const reason = new Error("deadline");
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
  // The bytes arrive into the read that was in flight.
  manual.deliver(wire.subarray(0, 3));
  const next = framed.read();
  await tick();
  assert.equal(manual.reads, 2, "the in-flight read was reused, then one more");
  manual.deliver(wire.subarray(3));
  assert.deepEqual(await next, b(7, 7));
  assert.deepEqual(await framed.read(), b(8));
});

test("FrameReader.read() aborted mid-payload of a large frame, then resumed, loses nothing", async () => {
  const big = pseudoRandomBytes(100_000, 4);
  const wire = encodeFrame(big);
  const manual = new ManualReader();
  const framed = new FrameReader(manual, { readBufferSize: 1024 });
  let sent = 0;
  const pump = async (until: number) => {
    while (sent < until && manual.waiting) {
      sent += manual.deliver(wire.subarray(sent, until));
      await tick();
    }
  };
  const controller = new AbortController();
  const pending = framed.read({ signal: controller.signal });
  await tick();
  await pump(60_000);
  assert.ok(manual.waiting);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, { message: "stop" });
  sent += manual.deliver(wire.subarray(sent, sent + 10)); // lands in the in-flight read
  const resumed = framed.read();
  await tick();
  await pump(wire.byteLength);
  assert.deepEqual(await resumed, big);
});

test("FrameReader.read() with an aborted signal rejects even if a frame is buffered", async () => {
  const framed = new FrameReader(
    new ChunkedReader(concat([encodeFrame(b(1)), encodeFrame(b(2))])),
  );
  assert.deepEqual(await framed.read(), b(1));
  await assert.rejects(framed.read({ signal: AbortSignal.abort() }), {
    name: "AbortError",
  });
  assert.deepEqual(
    await framed.read(),
    b(2),
    "the buffered frame is still there",
  );
});

test("FrameReader errors are sticky: the stream is out of sync", async () => {
  const framed = new FrameReader(
    new ChunkedReader(b(0, 0x20, 0, 0, 0, 0, 0, 0)),
  );
  const first = await framed.read().catch((e) => e);
  assert.ok(first instanceof FrameTooLargeError);
  assert.equal(await framed.read().catch((e) => e), first);
});

test("FrameReader returns null again after a clean end", async () => {
  const framed = new FrameReader(new ChunkedReader(encodeFrame(b(5))));
  assert.deepEqual(await framed.read(), b(5));
  assert.equal(await framed.read(), null);
  assert.equal(await framed.read(), null);
});

test("FrameReader maps a reset in the middle of a frame", async () => {
  const reset = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
  });
  const framed = new FrameReader(scriptedReader([b(0, 0, 0, 5, 1), reset]));
  await assert.rejects(framed.read(), (error) => {
    assert.ok(error instanceof ConnectionResetError);
    assert.equal(error.cause, reset);
    return true;
  });
});

test("FrameReader gives up on a reader that keeps returning 0", async () => {
  const framed = new FrameReader(scriptedReader(Array(200).fill(0)));
  await assert.rejects(framed.read(), NoProgressError);
});

test("FrameReader reports a payload cut short with the counts", async () => {
  const big = pseudoRandomBytes(100_000);
  const framed = new FrameReader(
    new ChunkedReader(encodeFrame(big).subarray(0, 70_004), [8192]),
  );
  await assert.rejects(framed.read(), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 70_000);
    assert.equal(error.expected, 100_000);
    assert.deepEqual(error.partial, big.subarray(0, 70_000));
    return true;
  });
});

test("FrameReader iteration stops at a clean end and rethrows errors", async () => {
  const framed = new FrameReader(
    new ChunkedReader(concat([encodeFrame(b(1)), b(0, 0)])),
  );
  const got: Uint8Array[] = [];
  await assert.rejects(
    (async () => {
      for await (const frame of framed) got.push(frame);
    })(),
    UnexpectedEofError,
  );
  assert.deepEqual(got, [b(1)]);
});

test("FrameReader rejects a second read() while one is pending", async () => {
  const manual = new ManualReader();
  const framed = new FrameReader(manual);
  const first = framed.read();
  await assert.rejects(framed.read(), TypeError);
  await assert.rejects(framed[Symbol.asyncIterator]().next(), TypeError);
  manual.deliver(encodeFrame(b(3)));
  assert.deepEqual(await first, b(3), "the first read is unharmed");
});

test("FrameReader with borrowFrames hands out views into reused storage", async () => {
  const small = [b(1, 2), b(3)];
  const big = [pseudoRandomBytes(6000, 1), pseudoRandomBytes(5000, 2)]; // the store fits both
  const framed = new FrameReader(
    new ChunkedReader(concat([...small, ...big].map((f) => encodeFrame(f)))),
    { borrowFrames: true, readBufferSize: 1024 },
  );
  const first = (await framed.read())!;
  assert.deepEqual(first, small[0]);
  const second = (await framed.read())!;
  assert.deepEqual(second, small[1]);
  assert.equal(
    first.buffer,
    second.buffer,
    "both are views of the read buffer",
  );
  const third = (await framed.read())!;
  assert.deepEqual(third, big[0]);
  const fourth = (await framed.read())!;
  assert.deepEqual(fourth, big[1]);
  assert.equal(third.buffer, fourth.buffer, "large frames reuse one store");
  assert.equal(await framed.read(), null);
});

test("FrameReader small frames never share storage with another reader", async () => {
  const wire = concat([encodeFrame(b(1)), encodeFrame(b(2))]);
  const one = new FrameReader(new ChunkedReader(wire));
  const two = new FrameReader(new ChunkedReader(wire));
  const [a1, a2, b1] = [await one.read(), await one.read(), await two.read()];
  assert.equal(
    a1!.buffer,
    a2!.buffer,
    "one reader's small frames share a slab",
  );
  assert.notEqual(a1!.buffer, b1!.buffer);
  assert.deepEqual([a1, a2, b1], [b(1), b(2), b(1)]);
});

test("FrameReader.readBatch() returns every frame one underlying read delivered", async () => {
  const frames = Array.from(
    { length: 300 },
    (_, i) => pseudoRandomBytes(64, i + 1),
  );
  const reader = new ChunkedReader(concat(frames.map((f) => encodeFrame(f))));
  const framed = new FrameReader(reader);
  // The first read fills the 4 KiB first buffer: 60 frames and 16 bytes.
  const first = await framed.readBatch();
  assert.equal(first?.length, 60);
  // The full-size buffer then takes the other 240 frames in one read.
  const second = await framed.readBatch();
  assert.equal(second?.length, 240);
  assert.deepEqual([...first!, ...second!], frames);
  assert.equal(await framed.readBatch(), null);
  assert.equal(reader.calls, 3, "one read per batch, one for the end");
});

test("FrameReader.readBatch() hands out the frames before a bad header, then throws", async () => {
  const wire = concat([
    encodeFrame(b(1)),
    encodeFrame(b(2)),
    b(0xff, 0xff, 0xff, 0xff),
  ]);
  const framed = new FrameReader(new ChunkedReader(wire));
  assert.deepEqual(await framed.readBatch(), [b(1), b(2)]);
  await assert.rejects(framed.readBatch(), FrameTooLargeError);
  await assert.rejects(
    framed.read(),
    FrameTooLargeError,
    "the error is sticky",
  );
});

test("FrameReader.readBatch() with borrowFrames keeps a whole batch valid until the next read", async () => {
  const frames = Array.from(
    { length: 20 },
    (_, i) => pseudoRandomBytes(30, i + 1),
  );
  const framed = new FrameReader(
    new ChunkedReader(concat(frames.map((f) => encodeFrame(f))), [340]),
    { borrowFrames: true, readBufferSize: 1024 },
  );
  const got: Uint8Array[] = [];
  for (let batch; (batch = await framed.readBatch()) !== null;) {
    // Check the whole batch before reading on, then keep copies.
    for (const frame of batch) got.push(frame.slice());
  }
  assert.deepEqual(got, frames);
});

test("FrameReader.readBatch() waits losslessly when aborted, like read()", async () => {
  const manual = new ManualReader();
  const framed = new FrameReader(manual);
  const controller = new AbortController();
  const pending = framed.readBatch({ signal: controller.signal });
  await tick();
  controller.abort(new Error("deadline"));
  await assert.rejects(pending, { message: "deadline" });
  manual.deliver(concat([encodeFrame(b(4)), encodeFrame(b(5))]));
  assert.deepEqual(await framed.readBatch(), [b(4), b(5)]);
  await assert.rejects(
    Promise.all([framed.readBatch(), framed.readBatch()]),
    TypeError,
  );
  manual.end();
});

test("FrameReader starts with a 4 KiB read buffer, grows it when a read fills it, and goes back to 4 KiB once a read comes back short", async () => {
  const manual = new ManualReader();
  const spy = offeredSizes(manual);
  const framed = new FrameReader(spy);
  const frame = pseudoRandomBytes(60, 1);
  const frames = (n: number) => concat(Array(n).fill(encodeFrame(frame)));

  let batch = framed.readBatch();
  await tick();
  assert.deepEqual(spy.offered, [4096], "an idle reader's buffer is small");
  manual.deliver(frames(64)); // exactly 4 KiB: the small buffer is full
  assert.equal((await batch)?.length, 64);

  batch = framed.readBatch();
  await tick();
  assert.deepEqual(spy.offered, [4096, 65536], "a burst: full size");
  manual.deliver(frames(10)); // a short read: the source had no more
  assert.equal((await batch)?.length, 10);

  batch = framed.readBatch();
  await tick();
  assert.deepEqual(spy.offered, [4096, 65536, 4096], "quiet again: small");
  manual.end();
  assert.equal(await batch, null);
});

test("FrameReader grows its small read buffer for a frame over half of it", async () => {
  const big = pseudoRandomBytes(3000, 2);
  const wire = encodeFrame(big);
  const spy = offeredSizes(new ChunkedReader(wire, [100]));
  const framed = new FrameReader(spy);
  assert.deepEqual(await framed.read(), big);
  // 100 bytes into the small buffer, then the rest into the full-size one
  // (a 3 KiB frame is not large enough for a buffer of its own).
  assert.deepEqual(spy.offered.slice(0, 2), [4096, 65536 - 100]);
});
