import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BrokenPipeError,
  ConnectionResetError,
  writeAll,
  WriteZeroError,
} from "tcpframe";
import { pseudoRandomBytes, ShortWriter } from "./_fixtures.ts";

test("writeAll() loops over 1-byte writes", async () => {
  const writer = new ShortWriter([1]);
  const data = pseudoRandomBytes(100);
  await writeAll(writer, data);
  assert.deepEqual(writer.bytes(), data);
  assert.equal(writer.calls, 100);
  assert.deepEqual(writer.offered.slice(0, 3), [100, 99, 98]);
});

test("writeAll() makes one call when the writer takes everything", async () => {
  const writer = new ShortWriter();
  await writeAll(writer, pseudoRandomBytes(4096));
  assert.equal(writer.calls, 1);
});

test("writeAll() writes nothing for empty data", async () => {
  const writer = new ShortWriter();
  await writeAll(writer, new Uint8Array(0));
  assert.equal(writer.calls, 0);
});

test("writeAll() rejects a zero-progress writer", async () => {
  const writer = new ShortWriter([3, 0]);
  await assert.rejects(
    writeAll(writer, new Uint8Array(10)),
    (error: unknown) => {
      assert.ok(error instanceof WriteZeroError);
      assert.equal(error.code, "WRITE_ZERO");
      assert.equal(error.bytesWritten, 3);
      assert.equal(error.expected, 10);
      assert.match(error.message, /accepted 0 bytes after 3/);
      return true;
    },
  );
  assert.equal(writer.calls, 2, "must not spin on a zero write");
});

test("writeAll() rejects a writer that claims more than it was given", async () => {
  const liar = { write: (p: Uint8Array) => Promise.resolve(p.byteLength + 1) };
  await assert.rejects(writeAll(liar, new Uint8Array(4)), RangeError);
});

test("writeAll() maps an error thrown mid-way and keeps it as cause", async () => {
  let calls = 0;
  const original = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
  const writer = {
    write(p: Uint8Array) {
      calls++;
      return calls === 1
        ? Promise.resolve(Math.min(2, p.byteLength))
        : Promise.reject(original);
    },
  };
  await assert.rejects(writeAll(writer, new Uint8Array(8)), (error) => {
    assert.ok(error instanceof BrokenPipeError);
    assert.equal(error.cause, original);
    return true;
  });
});

test("writeAll() maps Deno's ConnectionReset by name", async () => {
  class ConnectionReset extends Error {
    override name = "ConnectionReset";
  }
  const writer = { write: () => Promise.reject(new ConnectionReset("reset")) };
  await assert.rejects(
    writeAll(writer, new Uint8Array(1)),
    ConnectionResetError,
  );
});

test("writeAll() rejects with the reason of an already aborted signal, writing nothing", async () => {
  const writer = new ShortWriter();
  const reason = new Error("stop");
  await assert.rejects(
    writeAll(writer, new Uint8Array(4), { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(writer.calls, 0);
});

test("writeAll() rejects with the signal's reason while a write is pending", async () => {
  const controller = new AbortController();
  const stalled = { write: () => new Promise<number>(() => {}) };
  const pending = writeAll(stalled, new Uint8Array(4), {
    signal: controller.signal,
  });
  const reason = new Error("deadline");
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
});

test("writeAll() property: any data through any short-write pattern arrives intact", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(fc.integer({ min: 1, max: 300 }), {
        minLength: 1,
        maxLength: 20,
      }),
      async (data, pattern) => {
        const writer = new ShortWriter(pattern);
        await writeAll(writer, data);
        assert.deepEqual(writer.bytes(), data);
      },
    ),
    { numRuns: 1000 },
  );
});
