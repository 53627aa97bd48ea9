// Delimiter framing does linear work: proved by counting the bytes the
// scanner examines and the bytes the buffer moves, not by the clock. These
// tests read private counters, so they run on Deno only (the npm build skips
// test files that import private modules).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DelimitedReader, DelimiterDecoderStream } from "tcpframe";
import { scanStats } from "../src/_delimiter.ts";
import { ChunkedReader, collect } from "./_fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (frame: Uint8Array | null) =>
  frame === null ? null : decoder.decode(frame);

test("DelimitedReader examines each byte of a 1 MiB line fed 1 byte at a time once", async () => {
  const size = 1_048_576;
  const wire = new Uint8Array(size + 1).fill(0x61);
  wire[size] = 0x0a;
  const before = { ...scanStats };
  const reader = new DelimitedReader(new ChunkedReader(wire, [1]));
  const frame = await reader.read();
  assert.equal(frame?.byteLength, size);
  assert.equal(await reader.read(), null);
  assert.equal(scanStats.bytesExamined - before.bytesExamined, size + 1);
  // Buffer growth copies at most about the line length again (doubling).
  const moved = scanStats.bytesMoved - before.bytesMoved;
  assert.ok(moved <= 2 * size, `moved ${moved} bytes`);
});

test("DelimitedReader scans a multi-byte delimiter's near misses in linear time", async () => {
  // Every position nearly completes "\r\n\r\n": a rescanning matcher would
  // look at each byte many times.
  const line = "\r\n\rx".repeat(65_536);
  const wire = bytes(line + "\r\n\r\n");
  const before = scanStats.bytesExamined;
  const reader = new DelimitedReader(new ChunkedReader(wire, [1]), {
    delimiter: "\r\n\r\n",
  });
  assert.equal(text(await reader.read()), line);
  assert.equal(scanStats.bytesExamined - before, wire.byteLength);
});

test("DelimiterDecoderStream examines each byte of a 1 MiB line fed 1 byte at a time once", async () => {
  const size = 1_048_576;
  const stream = new DelimiterDecoderStream();
  const before = { ...scanStats };
  const writing = (async () => {
    const writer = stream.writable.getWriter();
    const one = new Uint8Array([0x61]);
    for (let i = 0; i < size; i++) await writer.write(one);
    await writer.write(bytes("\n"));
    await writer.close();
  })();
  const frames = await collect(stream.readable);
  await writing;
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.byteLength, size);
  assert.equal(scanStats.bytesExamined - before.bytesExamined, size + 1);
  const moved = scanStats.bytesMoved - before.bytesMoved;
  assert.ok(moved <= 2 * size, `moved ${moved} bytes`);
});
