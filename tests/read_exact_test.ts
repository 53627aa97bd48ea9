import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConnectionResetError,
  MAX_CONSECUTIVE_EMPTY_READS,
  NoProgressError,
  readExact,
  UnexpectedEofError,
} from "tcpframe";
import {
  ChunkedReader,
  concat,
  pseudoRandomBytes,
  scriptedReader,
  silentReader,
} from "./_fixtures.ts";

test("readExact() fills n bytes from 1-byte reads", async () => {
  const data = pseudoRandomBytes(50);
  const reader = new ChunkedReader(data, [1]);
  const got = await readExact(reader, 50);
  assert.deepEqual(got, data);
  assert.equal(reader.calls, 50);
});

test("readExact() leaves later bytes for the next call", async () => {
  const reader = scriptedReader([new Uint8Array([1, 2, 3])]);
  const data = pseudoRandomBytes(10);
  const chunked = new ChunkedReader(data, [7]);
  assert.deepEqual(await readExact(chunked, 3), data.subarray(0, 3));
  assert.deepEqual(await readExact(chunked, 7), data.subarray(3));
  assert.equal(chunked.remaining, 0);
  assert.deepEqual(await readExact(reader, 3), new Uint8Array([1, 2, 3]));
});

test("readExact() fills a given buffer and returns that buffer", async () => {
  const buffer = new Uint8Array(4);
  const got = await readExact(
    new ChunkedReader(new Uint8Array([9, 8, 7, 6, 5]), [2]),
    buffer,
  );
  assert.equal(got, buffer);
  assert.deepEqual(buffer, new Uint8Array([9, 8, 7, 6]));
});

test("readExact() of 0 bytes reads nothing", async () => {
  const reader = new ChunkedReader(new Uint8Array([1]));
  assert.deepEqual(await readExact(reader, 0), new Uint8Array(0));
  assert.equal(reader.calls, 0);
});

test("readExact() throws UnexpectedEofError on a truncated stream", async () => {
  const reader = scriptedReader([new Uint8Array([1, 2]), new Uint8Array([3])]);
  await assert.rejects(readExact(reader, 9), (error: unknown) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.code, "UNEXPECTED_EOF");
    assert.equal(error.bytesRead, 3);
    assert.equal(error.expected, 9);
    assert.deepEqual(error.partial, new Uint8Array([1, 2, 3]));
    assert.equal(error.message, "Cannot read 9 bytes: stream ended after 3");
    return true;
  });
});

test("readExact() reports bytesRead 0 when the peer closed before the read", async () => {
  await assert.rejects(readExact(scriptedReader([]), 4), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 0);
    assert.equal(error.partial.byteLength, 0);
    return true;
  });
});

test("readExact() names what it was reading in the message", async () => {
  const reader = scriptedReader([new Uint8Array([0])]);
  await assert.rejects(
    readExact(reader, 4, { what: "frame header" }),
    { message: "Cannot read frame header: stream ended after 1 of 4 bytes" },
  );
});

test("readExact() tolerates a few zero reads, then makes progress", async () => {
  const reader = scriptedReader([
    0,
    0,
    new Uint8Array([5]),
    0,
    new Uint8Array([6]),
  ]);
  assert.deepEqual(await readExact(reader, 2), new Uint8Array([5, 6]));
});

test("readExact() gives up on a reader that keeps returning 0", async () => {
  const reader = scriptedReader(Array(1000).fill(0));
  await assert.rejects(readExact(reader, 1), (error: unknown) => {
    assert.ok(error instanceof NoProgressError);
    assert.equal(error.code, "NO_PROGRESS");
    assert.equal(error.attempts, MAX_CONSECUTIVE_EMPTY_READS);
    return true;
  });
  assert.equal(reader.calls, MAX_CONSECUTIVE_EMPTY_READS);
});

test("readExact() maps an error thrown mid-way", async () => {
  const original = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
  });
  const reader = scriptedReader([new Uint8Array([1]), original]);
  await assert.rejects(readExact(reader, 4), (error) => {
    assert.ok(error instanceof ConnectionResetError);
    assert.equal(error.cause, original);
    return true;
  });
});

test("readExact() rejects a reader that returns more than asked", async () => {
  const liar = { read: (p: Uint8Array) => Promise.resolve(p.byteLength + 1) };
  await assert.rejects(readExact(liar, 2), RangeError);
});

test("readExact() rejects bad counts with RangeError and bad types with TypeError", async () => {
  const reader = scriptedReader([]);
  await assert.rejects(readExact(reader, -1), RangeError);
  await assert.rejects(readExact(reader, 1.5), RangeError);
  await assert.rejects(readExact(reader, Number.NaN), RangeError);
  await assert.rejects(readExact(reader, "4" as unknown as number), TypeError);
  assert.equal(reader.calls, 0);
});

test("readExact() rejects promptly when aborted while the peer is silent", async () => {
  const reader = silentReader();
  const controller = new AbortController();
  const pending = readExact(reader, 4, { signal: controller.signal });
  await Promise.resolve();
  assert.equal(reader.pending, 1);
  const reason = new Error("gave up");
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
});

test("readExact() with an already aborted signal does not read", async () => {
  const reader = silentReader();
  await assert.rejects(
    readExact(reader, 4, { signal: AbortSignal.abort() }),
    { name: "AbortError" },
  );
  assert.equal(reader.pending, 0);
});

test("readExact() property: any chunking with any read sizes gives the same bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 1024 }),
      fc.array(fc.integer({ min: 1, max: 200 }), {
        minLength: 1,
        maxLength: 16,
      }),
      fc.array(fc.integer({ min: 1, max: 300 }), {
        minLength: 1,
        maxLength: 16,
      }),
      async (data, chunkSizes, readSizes) => {
        const reader = new ChunkedReader(data, chunkSizes);
        const parts: Uint8Array[] = [];
        let left = data.byteLength;
        for (let i = 0; left > 0; i++) {
          const n = Math.min(left, readSizes[i % readSizes.length]!);
          parts.push(await readExact(reader, n));
          left -= n;
        }
        assert.deepEqual(concat(parts), data);
      },
    ),
    { numRuns: 1000 },
  );
});

test("readExact() property: truncation at any offset gives the right bytesRead", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 512 }),
      fc.nat(),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      async (data, cutSeed, chunkSizes) => {
        const cut = cutSeed % data.byteLength; // strictly short
        const reader = new ChunkedReader(data.subarray(0, cut), chunkSizes);
        await assert.rejects(readExact(reader, data.byteLength), (error) => {
          assert.ok(error instanceof UnexpectedEofError);
          assert.equal(error.bytesRead, cut);
          assert.equal(error.expected, data.byteLength);
          assert.deepEqual(error.partial, data.subarray(0, cut));
          return true;
        });
      },
    ),
    { numRuns: 1000 },
  );
});
