import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConnectionResetError,
  DelimitedReader,
  FrameTooLargeError,
  MAX_CONSECUTIVE_EMPTY_READS,
  NoProgressError,
  type Reader,
  UnexpectedEofError,
  writeDelimited,
} from "tcpframe";
import {
  ChunkedReader,
  concat,
  scriptedReader,
  ShortWriter,
  silentReader,
} from "./_fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (frame: Uint8Array | null) =>
  frame === null ? null : decoder.decode(frame);

async function readAll(reader: DelimitedReader): Promise<string[]> {
  const out: string[] = [];
  for await (const frame of reader) out.push(decoder.decode(frame));
  return out;
}

/** A reader whose reads complete only when the test delivers bytes. */
function deferredReader(): Reader & {
  deliver(data: Uint8Array | null): void;
  calls: number;
} {
  let resolve: ((n: number | null) => void) | undefined;
  let target: Uint8Array | undefined;
  return {
    calls: 0,
    read(p) {
      this.calls++;
      target = p;
      return new Promise((r) => resolve = r);
    },
    deliver(data) {
      if (resolve === undefined || target === undefined) {
        throw new Error("no read pending");
      }
      if (data !== null) target.set(data);
      const r = resolve;
      resolve = undefined;
      target = undefined;
      r(data === null ? null : data.byteLength);
    },
  };
}

/** A reader that hands out `total` bytes of "x" (no delimiter), counting. */
function endlessReader(total: number): Reader & { handedOut: number } {
  return {
    handedOut: 0,
    read(p) {
      if (this.handedOut >= total) return Promise.resolve(null);
      const n = Math.min(p.byteLength, total - this.handedOut);
      p.fill(0x78, 0, n);
      this.handedOut += n;
      return Promise.resolve(n);
    },
  };
}

test("DelimitedReader splits lines that arrive split across reads", async () => {
  const wire = bytes("alpha\nbeta\ngamma delta\n\nlast\n");
  for (const sizes of [[1], [2], [3, 1], [7], [Infinity]]) {
    const lines = await readAll(
      new DelimitedReader(new ChunkedReader(wire, sizes)),
    );
    assert.deepEqual(lines, ["alpha", "beta", "gamma delta", "", "last"]);
  }
});

test("DelimitedReader serves many frames from one underlying read", async () => {
  const inner = new ChunkedReader(bytes("a\nb\nc\n"));
  const reader = new DelimitedReader(inner);
  assert.deepEqual(await readAll(reader), ["a", "b", "c"]);
  assert.equal(inner.calls, 2); // the data, then end of stream
});

test("DelimitedReader finds a multi-byte delimiter split at every point", async () => {
  const wire = bytes("head\r\ner\r\n\r\nbody\r\n\r\n\r\n\r\nx\r\n\r\n");
  const expected = ["head\r\ner", "body", "", "x"];
  for (let i = 1; i < wire.length; i++) {
    for (let j = i; j < wire.length; j++) {
      const reader = new DelimitedReader(
        scriptedReader([
          wire.subarray(0, i),
          wire.subarray(i, j),
          wire.subarray(j),
        ].filter((chunk) => chunk.byteLength > 0)),
        { delimiter: "\r\n\r\n" },
      );
      assert.deepEqual(await readAll(reader), expected, `split at ${i}, ${j}`);
    }
  }
});

test("DelimitedReader handles delimiters with self-overlap (KMP fallback)", async () => {
  // "aab" inside "aaab": a naive matcher that restarts after the failed
  // position would miss it.
  const wire = bytes("xaaabyaabaaaab");
  for (const size of [1, 2, 3, 100]) {
    const reader = new DelimitedReader(new ChunkedReader(wire, [size]), {
      delimiter: "aab",
    });
    assert.deepEqual(await readAll(reader), ["xa", "y", "aa"]);
  }
});

test("DelimitedReader with stripCR removes one CR before LF", async () => {
  const wire = bytes("crlf\r\nlf\n\r\n\r\r\nmid\rdle\r\n");
  for (const size of [1, 2, 100]) {
    const lines = await readAll(
      new DelimitedReader(new ChunkedReader(wire, [size]), { stripCR: true }),
    );
    assert.deepEqual(lines, ["crlf", "lf", "", "\r", "mid\rdle"]);
  }
  const plain = await readAll(
    new DelimitedReader(new ChunkedReader(bytes("crlf\r\n"))),
  );
  assert.deepEqual(plain, ["crlf\r"]);
});

test("DelimitedReader returns empty frames for empty lines", async () => {
  const reader = new DelimitedReader(new ChunkedReader(bytes("\n\n\n"), [1]));
  assert.deepEqual(await readAll(reader), ["", "", ""]);
});

test("DelimitedReader returns null for an empty stream, and again after", async () => {
  const inner = scriptedReader([]);
  const reader = new DelimitedReader(inner);
  assert.equal(await reader.read(), null);
  assert.equal(await reader.read(), null);
  assert.equal(inner.calls, 1);
});

test("DelimitedReader throws UnexpectedEofError on a missing final delimiter", async () => {
  const reader = new DelimitedReader(
    new ChunkedReader(bytes("one\ntwo\nthr"), [5]),
  );
  assert.equal(text(await reader.read()), "one");
  assert.equal(text(await reader.read()), "two");
  await assert.rejects(reader.read(), (error: unknown) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.code, "UNEXPECTED_EOF");
    assert.equal(error.bytesRead, 3);
    assert.equal(error.expected, 4);
    assert.deepEqual(error.partial, bytes("thr"));
    assert.equal(
      error.message,
      "Cannot read delimited frame: stream ended after 3 of 4 bytes",
    );
    return true;
  });
  // The stream is out of sync: the error sticks.
  await assert.rejects(reader.read(), UnexpectedEofError);
});

test("DelimitedReader counts a partly arrived delimiter in UnexpectedEofError", async () => {
  const reader = new DelimitedReader(
    new ChunkedReader(bytes("ab\r\n\r"), [1]),
    { delimiter: "\r\n\r\n" },
  );
  await assert.rejects(reader.read(), (error: unknown) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 5);
    assert.equal(error.expected, 6); // one delimiter byte was still missing
    return true;
  });
});

test("DelimitedReader accepts a frame of exactly maxFrameSize", async () => {
  const line = "x".repeat(10);
  for (const size of [1, 3, 100]) {
    const reader = new DelimitedReader(
      new ChunkedReader(bytes(`${line}\n${line}\r\n`), [size]),
      { maxFrameSize: 10, readBufferSize: 4, stripCR: true },
    );
    assert.deepEqual(await readAll(reader), [line, line]);
  }
  const multi = new DelimitedReader(
    new ChunkedReader(bytes(`${line}<END>`), [1]),
    { maxFrameSize: 10, delimiter: "<END>", readBufferSize: 1 },
  );
  assert.deepEqual(await readAll(multi), [line]);
});

test("DelimitedReader throws FrameTooLargeError one byte over the cap", async () => {
  const cases: Array<[string, { delimiter?: string; stripCR?: boolean }]> = [
    ["x".repeat(11) + "\n", {}],
    ["x".repeat(11) + "\r\n", { stripCR: true }],
    ["x".repeat(10) + "y\r\n", { stripCR: true }],
    ["x".repeat(11) + "<END>", { delimiter: "<END>" }],
    ["x".repeat(10) + "<EN<END>", { delimiter: "<END>" }],
  ];
  for (const [wire, options] of cases) {
    for (const size of [1, 4, 100]) {
      const reader = new DelimitedReader(
        new ChunkedReader(
          bytes("ok\n".replace("\n", options.delimiter ?? "\n") + wire),
          [size],
        ),
        { ...options, maxFrameSize: 10, readBufferSize: 3 },
      );
      assert.equal(text(await reader.read()), "ok");
      await assert.rejects(reader.read(), (error: unknown) => {
        assert.ok(error instanceof FrameTooLargeError, String(error));
        assert.equal(error.code, "FRAME_TOO_LARGE");
        assert.equal(error.size, 11);
        assert.equal(error.limit, 10);
        return true;
      });
      // Out of sync: the same error again, without reading on.
      await assert.rejects(reader.read(), FrameTooLargeError);
    }
  }
});

test("DelimitedReader gives up on a 100 MB line after about maxFrameSize bytes", async () => {
  const inner = endlessReader(100_000_000);
  const reader = new DelimitedReader(inner);
  await assert.rejects(reader.read(), (error: unknown) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.size, 1_048_577);
    assert.equal(error.limit, 1_048_576);
    return true;
  });
  assert.ok(
    inner.handedOut <= 1_048_576 + 1 + 65_536,
    `consumed ${inner.handedOut} bytes`,
  );

  const small = endlessReader(100_000_000);
  await assert.rejects(
    new DelimitedReader(small, { maxFrameSize: 100, readBufferSize: 16 })
      .read(),
    FrameTooLargeError,
  );
  assert.ok(small.handedOut <= 100 + 1 + 16, `consumed ${small.handedOut}`);
});

test("DelimitedReader frames stay valid after later reads", async () => {
  const reader = new DelimitedReader(
    new ChunkedReader(bytes("aaaa\nbbbb\ncccc\ndddd\n"), [3]),
    { readBufferSize: 5 },
  );
  const frames = [];
  for await (const frame of reader) frames.push(frame);
  assert.deepEqual(frames.map(text), ["aaaa", "bbbb", "cccc", "dddd"]);
});

test("DelimitedReader read({ signal }) aborted mid-frame loses no bytes", async () => {
  const inner = deferredReader();
  const reader = new DelimitedReader(inner);
  const controller = new AbortController();
  const pending = reader.read({ signal: controller.signal });
  inner.deliver(bytes("ab")); // half a frame arrives; the reader reads on
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(inner.calls, 2);
  const reason = new Error("deadline");
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);

  // The read left in flight completes later; its bytes are not lost, nor
  // are the ones buffered before the abort.
  inner.deliver(bytes("c\nd\n"));
  assert.equal(text(await reader.read()), "abc");
  assert.equal(text(await reader.read()), "d");
  assert.equal(inner.calls, 2);
  const end = reader.read();
  await new Promise((resolve) => setTimeout(resolve, 0));
  inner.deliver(null);
  assert.equal(await end, null);
});

test("DelimitedReader resumes the same underlying read after an abort", async () => {
  const inner = deferredReader();
  const reader = new DelimitedReader(inner);
  const controller = new AbortController();
  const aborted = reader.read({ signal: controller.signal });
  controller.abort(new Error("gave up"));
  await assert.rejects(aborted, { message: "gave up" });
  assert.equal(inner.calls, 1);

  const resumed = reader.read();
  await Promise.resolve();
  assert.equal(inner.calls, 1); // no second read while the first is in flight
  inner.deliver(bytes("hello\n"));
  assert.equal(text(await resumed), "hello");
});

test("DelimitedReader with an already aborted signal does not read", async () => {
  const inner = silentReader();
  const reader = new DelimitedReader(inner);
  await assert.rejects(
    reader.read({ signal: AbortSignal.abort() }),
    { name: "AbortError" },
  );
  assert.equal(inner.pending, 0);
});

test("DelimitedReader rejects a second read() while one is pending", async () => {
  const inner = deferredReader();
  const reader = new DelimitedReader(inner);
  const first = reader.read();
  await assert.rejects(reader.read(), TypeError);
  inner.deliver(bytes("ok\n"));
  assert.equal(text(await first), "ok");
});

test("DelimitedReader tolerates a few zero reads, then gives up", async () => {
  const some = new DelimitedReader(
    scriptedReader([0, bytes("a"), 0, 0, bytes("\n")]),
  );
  assert.equal(text(await some.read()), "a");

  const inner = scriptedReader(Array(1000).fill(0));
  await assert.rejects(
    new DelimitedReader(inner).read(),
    (error: unknown) => {
      assert.ok(error instanceof NoProgressError);
      assert.equal(error.attempts, MAX_CONSECUTIVE_EMPTY_READS);
      return true;
    },
  );
  assert.equal(inner.calls, MAX_CONSECUTIVE_EMPTY_READS);
});

test("DelimitedReader maps the reader's errors and keeps them", async () => {
  const original = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
  });
  const reader = new DelimitedReader(
    scriptedReader([bytes("ok\npart"), original]),
  );
  assert.equal(text(await reader.read()), "ok");
  await assert.rejects(reader.read(), (error) => {
    assert.ok(error instanceof ConnectionResetError);
    assert.equal(error.cause, original);
    return true;
  });
  await assert.rejects(reader.read(), ConnectionResetError);
});

test("DelimitedReader rejects a reader that returns more than asked", async () => {
  const liar = { read: (p: Uint8Array) => Promise.resolve(p.byteLength + 1) };
  await assert.rejects(new DelimitedReader(liar).read(), RangeError);
});

test("DelimitedReader rejects bad options at construction", () => {
  const inner = scriptedReader([]);
  assert.throws(() => new DelimitedReader(inner, { delimiter: "" }), TypeError);
  assert.throws(
    () => new DelimitedReader(inner, { delimiter: new Uint8Array(0) }),
    TypeError,
  );
  assert.throws(
    () => new DelimitedReader(inner, { delimiter: 10 as unknown as string }),
    TypeError,
  );
  assert.throws(
    () => new DelimitedReader(inner, { delimiter: "\r\n", stripCR: true }),
    TypeError,
  );
  assert.throws(
    () => new DelimitedReader(inner, { maxFrameSize: -1 }),
    RangeError,
  );
  assert.throws(
    () => new DelimitedReader(inner, { maxFrameSize: 1.5 }),
    RangeError,
  );
  assert.throws(
    () => new DelimitedReader(inner, { readBufferSize: 0 }),
    RangeError,
  );
  assert.throws(() => new DelimitedReader({} as Reader), TypeError);
  assert.equal(inner.calls, 0);
});

test("DelimitedReader copies the delimiter it is given", async () => {
  const delimiter = bytes("|");
  const reader = new DelimitedReader(new ChunkedReader(bytes("a|b|")), {
    delimiter,
  });
  delimiter[0] = 0x61;
  assert.deepEqual(await readAll(reader), ["a", "b"]);
});

test("DelimitedReader property: any lines, any chunking, any buffer size give the same lines", async () => {
  const delimiters = ["\n", "\r\n", "\r\n\r\n", "ab", "aab", "aba", "\0"];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...delimiters),
      // A small alphabet makes delimiters and near misses frequent.
      fc.array(
        fc.uint8Array({ maxLength: 40 }).map((raw) =>
          raw.map((b) => [0x61, 0x62, 0x0a, 0x0d, 0x00, 0x78][b % 6]!)
        ),
        { maxLength: 20 },
      ),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 64 }),
      async (delimiter, candidates, chunkSizes, readBufferSize) => {
        // writeDelimited refuses the lines that would not come back whole.
        const writer = new ShortWriter();
        const lines: Uint8Array[] = [];
        for (const line of candidates) {
          try {
            await writeDelimited(writer, line, { delimiter });
            lines.push(line);
          } catch (error) {
            assert.ok(error instanceof RangeError);
          }
        }
        const maxFrameSize = Math.max(0, ...lines.map((l) => l.byteLength));
        const reader = new DelimitedReader(
          new ChunkedReader(writer.bytes(), chunkSizes),
          { delimiter, maxFrameSize, readBufferSize },
        );
        const got: Uint8Array[] = [];
        for await (const frame of reader) got.push(frame);
        assert.deepEqual(got, lines);
        assert.deepEqual(concat(got).byteLength, concat(lines).byteLength);
      },
    ),
    { numRuns: 1000 },
  );
});

test("DelimitedReader reads into 4 KiB while idle, grows for a burst, and goes back to 4 KiB after a short read", async () => {
  const inner = deferredReader();
  const offered: number[] = [];
  const spy: Reader = {
    read(p) {
      offered.push(p.byteLength);
      return inner.read(p);
    },
  };
  const reader = new DelimitedReader(spy);
  const line = bytes("x".repeat(63) + "\n"); // 64 bytes
  const lines = (n: number) => concat(Array(n).fill(line));
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  let next = reader.read();
  await tick();
  assert.deepEqual(offered, [4096], "an idle reader's buffer is small");
  inner.deliver(lines(64)); // exactly 4 KiB: a burst
  assert.equal((await next)?.byteLength, 63);
  for (let i = 1; i < 64; i++) await reader.read();

  next = reader.read();
  await tick();
  assert.ok(offered[1]! > 4096, `grew to ${offered[1]}`);
  inner.deliver(lines(3)); // a short read: the source had no more
  for (let i = 0; i < 3; i++) {
    assert.equal((await next)?.byteLength, 63), next = reader.read();
  }
  await tick();
  assert.equal(offered[2], 4096, "quiet again: small");
  inner.deliver(null);
  assert.equal(await next, null);
});
