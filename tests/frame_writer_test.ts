import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionResetError,
  FRAME_COST,
  FrameReader,
  FrameWriter,
  TcpFrameError,
  writeFrame,
  WriteZeroError,
} from "tcpframe";
import {
  ChunkedReader,
  decodeFrames,
  keepingAlive,
  ManualWriter,
  pseudoRandomBytes,
  ShortWriter,
  tick,
} from "./_fixtures.ts";

const text = new TextEncoder();

function frameOf(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength);
  frame.set(payload, 4);
  return frame;
}

test("FrameWriter.write() sends a frame at once when nothing is in flight", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink);
  await writer.write(text.encode("hello"));
  await tick();
  assert.equal(sink.pending, 1);
  assert.deepEqual(sink.offered, [9]);
  const flushed = writer.flush();
  sink.release();
  await flushed;
  assert.deepEqual(sink.bytes(), frameOf(text.encode("hello")));
});

test("FrameWriter batches every frame queued while a write is in flight into the next write", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink);
  await writer.write(new Uint8Array([1]));
  await tick();
  assert.equal(sink.pending, 1); // in flight
  for (let i = 2; i <= 50; i++) await writer.write(new Uint8Array([i]));
  assert.equal(sink.offered.length, 1); // nothing else handed over yet
  sink.release();
  await tick();
  assert.deepEqual(sink.offered, [5, 49 * 5]); // group commit: one write
  sink.release();
  await writer.flush();
  const frames = decodeFrames(sink.bytes());
  assert.deepEqual(
    frames.map((f) => f[0]),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
});

test("FrameWriter keeps batches within maxBatchBytes", async () => {
  const sink = new ShortWriter();
  const writer = new FrameWriter(sink, { maxBatchBytes: 100 });
  for (let i = 0; i < 40; i++) await writer.write(new Uint8Array(16));
  await writer.flush();
  assert.ok(sink.offered.every((n) => n <= 100), String(sink.offered));
  assert.equal(decodeFrames(sink.bytes()).length, 40);
});

test("FrameWriter sends a frame larger than a batch without copying its payload", async () => {
  const sink = new ShortWriter();
  const writer = new FrameWriter(sink, { maxBatchBytes: 1024 });
  const big = pseudoRandomBytes(100_000);
  // Written in one tick: one batch, the large frame's header at its end.
  const accepted = [writer.write(new Uint8Array([7])), writer.write(big)];
  await Promise.all(accepted);
  await writer.flush();
  const frames = decodeFrames(sink.bytes());
  assert.equal(frames.length, 2);
  assert.deepEqual(frames[1], big);
  // The header ends a batch; the payload is handed over as it is.
  assert.deepEqual(sink.offered, [5 + 4, 100_000]);
});

test("FrameWriter.write() waits above the high-water mark and resolves once the queue drained", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink, { highWaterMark: 1000 });
  await writer.write(new Uint8Array(600)); // in flight at once
  await tick();
  await writer.write(new Uint8Array(600)); // 1,272 charged: over the mark
  assert.ok(writer.desiredSize! < 0);
  let accepted = false;
  const third = writer.write(new Uint8Array(10)).then(() => (accepted = true));
  await tick();
  assert.equal(accepted, false);
  sink.release(); // the first frame is written: 636 charged, under 1000
  await third;
  assert.equal(accepted, true);
  await sink.drain();
  await writer.flush();
  assert.equal(decodeFrames(sink.bytes()).length, 3);
});

test("FrameWriter counts FRAME_COST per frame, so a flood of empty frames is bounded", () =>
  keepingAlive(async () => {
    const stalled = new ManualWriter();
    const mark = 64 * 1024;
    const writer = new FrameWriter(stalled, { highWaterMark: mark });
    let accepted = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const signal = AbortSignal.timeout(50);
      try {
        await writer.write(new Uint8Array(0), { signal });
      } catch (error) {
        assert.equal((error as Error).name, "TimeoutError");
        break;
      }
      accepted++;
    }
    assert.equal(accepted, Math.ceil(mark / (4 + FRAME_COST)));
    assert.ok(writer.bufferedAmount < mark + 4 + FRAME_COST);
    writer.abort();
  }));

test("FrameWriter.ready and desiredSize follow the queue as on a WHATWG writer", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink, { highWaterMark: 100 });
  assert.equal(writer.desiredSize, 100);
  await writer.ready;
  await writer.write(new Uint8Array(96)); // 100 + 32 charged
  assert.equal(writer.desiredSize, 100 - 132);
  let ready = false;
  const waiting = writer.ready.then(() => (ready = true));
  await tick();
  assert.equal(ready, false);
  sink.release();
  await waiting;
  assert.equal(writer.desiredSize, 100);
  await writer.close();
  assert.equal(writer.desiredSize, 0);
});

test("FrameWriter.write() aborted while waiting for room is never sent", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink, { highWaterMark: 10 });
  await writer.write(new Uint8Array([1]));
  await tick();
  const controller = new AbortController();
  const dropped = writer.write(new Uint8Array([2]), {
    signal: controller.signal,
  });
  const kept = writer.write(new Uint8Array([3]));
  const reason = new Error("changed my mind");
  controller.abort(reason);
  await assert.rejects(dropped, (error) => error === reason);
  await sink.drain();
  await kept;
  await writer.flush();
  assert.deepEqual(decodeFrames(sink.bytes()).map((f) => f[0]), [1, 3]);
});

test("FrameWriter.flush() resolves only once the frames are written", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink);
  await writer.write(new Uint8Array(3));
  let flushed = false;
  const flushing = writer.flush().then(() => (flushed = true));
  await tick();
  assert.equal(flushed, false);
  sink.release(2); // a short write: not yet
  await tick();
  assert.equal(flushed, false);
  sink.release();
  await flushing;
  assert.equal(sink.bytes().byteLength, 7);
});

test("FrameWriter.close() flushes, half-closes once, and refuses later writes with CONNECTION_CLOSED", async () => {
  const events: string[] = [];
  const conn = {
    write(p: Uint8Array) {
      events.push(`write ${p.byteLength}`);
      return Promise.resolve(p.byteLength);
    },
    closeWrite() {
      events.push("closeWrite");
      return Promise.resolve();
    },
  };
  const writer = new FrameWriter(conn);
  const accepted = [
    writer.write(new Uint8Array(1)),
    writer.write(new Uint8Array(2)),
  ];
  const closing = writer.close();
  assert.equal(writer.close(), closing);
  await Promise.all(accepted);
  await closing;
  assert.deepEqual(events, ["write 11", "closeWrite"]); // one tick, one batch
  await assert.rejects(writer.write(new Uint8Array(1)), (error) => {
    assert.ok(error instanceof TcpFrameError);
    assert.equal(error.code, "CONNECTION_CLOSED");
    return true;
  });
});

test("FrameWriter.close() without closeWrite() on the writer only flushes", async () => {
  const sink = new ShortWriter([3]);
  const writer = new FrameWriter(sink);
  await writer.write(text.encode("abc"));
  await writer.close();
  assert.deepEqual(sink.bytes(), frameOf(text.encode("abc")));
});

test("FrameWriter.abort() drops queued frames, finishes the batch in flight, and is sticky", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink);
  await writer.write(new Uint8Array([1]));
  await tick();
  await writer.write(new Uint8Array([2])); // queued behind the write in flight
  const reason = new Error("stop");
  const quiet = writer.abort(reason);
  await assert.rejects(writer.write(new Uint8Array([3])), (e) => e === reason);
  await assert.rejects(writer.flush(), (e) => e === reason);
  assert.equal(writer.desiredSize, null);
  sink.release(2); // the batch in flight is finished, not cut
  await tick();
  sink.release();
  await quiet;
  assert.deepEqual(decodeFrames(sink.bytes()).map((f) => f[0]), [1]);
  assert.equal(sink.pending, 0);
});

test("FrameWriter makes a failure sticky and typed for every waiting and later call", async () => {
  const sink = new ManualWriter();
  const writer = new FrameWriter(sink, { highWaterMark: 8 });
  await writer.write(new Uint8Array(8));
  await tick();
  const waiting = writer.write(new Uint8Array(8));
  const flushing = writer.flush();
  sink.fail(
    Object.assign(new Error("write ECONNRESET"), { code: "ECONNRESET" }),
  );
  const first = await waiting.then(() => undefined, (e) => e);
  assert.ok(first instanceof ConnectionResetError);
  await assert.rejects(flushing, (e) => e === first);
  await assert.rejects(writer.write(new Uint8Array(1)), (e) => e === first);
  await assert.rejects(writer.close(), (e) => e === first);
  await assert.rejects(writer.ready, (e) => e === first);
});

test("FrameWriter reports a writer that accepts 0 bytes as WriteZeroError", async () => {
  const writer = new FrameWriter({ write: () => Promise.resolve(0) });
  await writer.write(new Uint8Array(4));
  await assert.rejects(writer.flush(), WriteZeroError);
});

test("FrameWriter refuses a payload over the cap or not bytes, and queues nothing", async () => {
  const sink = new ShortWriter();
  const writer = new FrameWriter(sink, { maxFrameSize: 10 });
  await assert.rejects(writer.write(new Uint8Array(11)), RangeError);
  await assert.rejects(
    writer.write("text" as unknown as Uint8Array),
    TypeError,
  );
  await writer.write(new Uint8Array(10)); // still usable
  await writer.flush();
  assert.equal(sink.bytes().byteLength, 14);
  assert.throws(() => new FrameWriter(sink, { highWaterMark: 0 }), RangeError);
  assert.throws(
    () => new FrameWriter(sink, { maxBatchBytes: 1.5 }),
    RangeError,
  );
  assert.throws(
    () => new FrameWriter(sink, { lengthFieldOffset: 2 }),
    TypeError,
  );
});

test("FrameWriter survives one-byte writes with every frame intact", async () => {
  const sink = new ShortWriter([1]);
  const writer = new FrameWriter(sink);
  const payloads = Array.from(
    { length: 30 },
    (_, i) => pseudoRandomBytes(i * 7, i + 1),
  );
  for (const payload of payloads) await writer.write(payload);
  await writer.flush();
  const reader = new FrameReader(new ChunkedReader(sink.bytes(), [3]));
  for (const payload of payloads) {
    assert.deepEqual(await reader.read(), payload);
  }
  assert.equal(await reader.read(), null);
});

test("FrameWriter and writeFrame() on the same writer never interleave", async () => {
  const sink = new ShortWriter([5, 1, 1000]);
  const writer = new FrameWriter(sink);
  const plain = pseudoRandomBytes(5000, 9);
  const queued = Array.from(
    { length: 20 },
    (_, i) => pseudoRandomBytes(300, i + 20),
  );
  await Promise.all([
    ...queued.map((p) => writer.write(p)),
    writeFrame(sink, plain),
    writer.flush(),
  ]);
  const frames = decodeFrames(sink.bytes());
  assert.equal(frames.length, 21);
  assert.ok(frames.some((f) => f.byteLength === 5000));
  for (const frame of frames) {
    if (frame.byteLength === 5000) assert.deepEqual(frame, plain);
    else assert.ok(queued.some((q) => q.every((b, i) => b === frame[i])));
  }
});
