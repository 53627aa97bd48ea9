// The one rule for cancellation: every API that takes a `signal` rejects
// with `signal.reason` itself (as fetch does), and normalizeError() maps a
// timeout's reason to TIMEOUT and a plain abort's to ABORTED. Checked here
// for every such API, on each runtime that runs this suite.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DelimitedReader,
  FrameReader,
  FrameWriter,
  normalizeError,
  readExact,
  readFrame,
  readProxyHeader,
  type SignalOptions,
  TcpFrameError,
  writeAll,
  writeDelimited,
  writeFrame,
  writeFrames,
} from "tcpframe";
import { keepingAlive, silentReader } from "./_fixtures.ts";

const stalledWriter = () => ({ write: () => new Promise<number>(() => {}) });

/** Each API, called so that it blocks until its signal aborts. */
const apis: Record<string, (options: SignalOptions) => Promise<unknown>> = {
  "writeAll()": (o) => writeAll(stalledWriter(), new Uint8Array(8), o),
  "writeFrame()": (o) => writeFrame(stalledWriter(), new Uint8Array(8), o),
  "writeFrames()": (o) =>
    writeFrames(stalledWriter(), [new Uint8Array(8), new Uint8Array(2)], o),
  "writeDelimited()": (o) => writeDelimited(stalledWriter(), "line", o),
  "readExact()": (o) => readExact(silentReader(), 4, o),
  "readFrame()": (o) => readFrame(silentReader(), o),
  "FrameReader.read()": (o) => new FrameReader(silentReader()).read(o),
  "DelimitedReader.read()": (o) => new DelimitedReader(silentReader()).read(o),
  "readProxyHeader()": (o) => readProxyHeader(silentReader(), o),
  "FrameWriter.write()": async (o) => {
    const writer = new FrameWriter(stalledWriter(), { highWaterMark: 8 });
    await writer.write(new Uint8Array(8)); // fills the queue
    return writer.write(new Uint8Array(1), o);
  },
  "FrameWriter.flush()": async (o) => {
    const writer = new FrameWriter(stalledWriter());
    await writer.write(new Uint8Array(8));
    return writer.flush(o);
  },
  "FrameWriter.close()": async (o) => {
    const writer = new FrameWriter(stalledWriter());
    await writer.write(new Uint8Array(8));
    return writer.close(o);
  },
};

for (const [name, call] of Object.entries(apis)) {
  test(`${name} rejects with the timeout's reason; normalizeError() maps it to TIMEOUT`, async () => {
    const signal = AbortSignal.timeout(5);
    const error = await keepingAlive(() =>
      call({ signal }).then(() => assert.fail("resolved"), (e: unknown) => e)
    );
    assert.equal(error, signal.reason);
    assert.equal((error as Error).name, "TimeoutError");
    const mapped = normalizeError(error);
    assert.ok(mapped instanceof TcpFrameError);
    assert.equal(mapped.code, "TIMEOUT");
    assert.equal(mapped.cause, error);
  });

  test(`${name} rejects with a plain abort's reason; normalizeError() maps it to ABORTED`, async () => {
    const controller = new AbortController();
    const pending = call({ signal: controller.signal });
    setTimeout(() => controller.abort(), 1);
    const error = await pending.then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.equal(error, controller.signal.reason);
    assert.equal((normalizeError(error) as TcpFrameError).code, "ABORTED");
  });

  test(`${name} rejects with a custom reason as it is`, async () => {
    const reason = new Error("my own reason");
    const error = await call({ signal: AbortSignal.abort(reason) }).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.equal(error, reason);
    assert.equal(normalizeError(error), reason);
  });
}
