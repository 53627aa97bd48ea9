import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DelimiterDecoderStream,
  type DelimiterOptions,
  FrameTooLargeError,
  UnexpectedEofError,
  writeDelimited,
} from "tcpframe";
import { collect, ShortWriter, streamOf, tick } from "./_fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);

/** Feeds `chunks` through a decoder and collects the frames. */
function decode(
  chunks: Iterable<Uint8Array>,
  options?: DelimiterOptions,
): Promise<Uint8Array[]> {
  return collect(
    streamOf(chunks).pipeThrough(
      new DelimiterDecoderStream(options),
    ),
  );
}

const texts = (frames: Uint8Array[]) => frames.map((f) => decoder.decode(f));

/** Splits `data` into chunks of the given sizes, cycling. */
function chunk(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.byteLength; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.byteLength - offset);
    out.push(data.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

test("DelimiterDecoderStream splits lines that arrive split across chunks", async () => {
  const wire = bytes("alpha\nbeta\ngamma delta\n\nlast\n");
  for (const sizes of [[1], [2], [3, 1], [7], [1000]]) {
    assert.deepEqual(texts(await decode(chunk(wire, sizes))), [
      "alpha",
      "beta",
      "gamma delta",
      "",
      "last",
    ]);
  }
});

test("DelimiterDecoderStream finds a multi-byte delimiter split at every point", async () => {
  const wire = bytes("head\r\ner\r\n\r\nbody\r\n\r\n\r\n\r\nx\r\n\r\n");
  for (let i = 1; i < wire.length; i++) {
    for (let j = i; j < wire.length; j++) {
      const chunks = [
        wire.subarray(0, i),
        wire.subarray(i, j),
        wire.subarray(j),
      ];
      assert.deepEqual(
        texts(await decode(chunks, { delimiter: "\r\n\r\n" })),
        ["head\r\ner", "body", "", "x"],
        `split at ${i}, ${j}`,
      );
    }
  }
});

test("DelimiterDecoderStream with stripCR removes one CR before LF", async () => {
  const wire = bytes("crlf\r\nlf\n\r\n\r\r\nmid\rdle\r\n");
  for (const size of [1, 2, 100]) {
    assert.deepEqual(
      texts(await decode(chunk(wire, [size]), { stripCR: true })),
      ["crlf", "lf", "", "\r", "mid\rdle"],
    );
  }
});

test("DelimiterDecoderStream passes empty lines and ignores empty chunks", async () => {
  const chunks = [bytes("\n"), new Uint8Array(0), bytes("\n\n")];
  assert.deepEqual(texts(await decode(chunks)), ["", "", ""]);
  assert.deepEqual(await decode([]), []);
});

test("DelimiterDecoderStream errors with UnexpectedEofError on a missing final delimiter", async () => {
  await assert.rejects(
    decode([bytes("one\ntw"), bytes("o")]),
    (error: unknown) => {
      assert.ok(error instanceof UnexpectedEofError);
      assert.equal(error.bytesRead, 3);
      assert.deepEqual(error.partial, bytes("two"));
      assert.equal(
        error.message,
        "Cannot read delimited frame: stream ended after 3 of 4 bytes",
      );
      return true;
    },
  );
});

test("DelimiterDecoderStream errors with FrameTooLargeError one byte over the cap", async () => {
  const ok = "x".repeat(10);
  assert.deepEqual(
    texts(
      await decode(chunk(bytes(`${ok}\n${ok}\r\n`), [3]), {
        maxFrameSize: 10,
        stripCR: true,
      }),
    ),
    [ok, ok],
  );
  for (const size of [1, 5, 100]) {
    await assert.rejects(
      decode(chunk(bytes(`ok\n${ok}y\n`), [size]), { maxFrameSize: 10 }),
      (error: unknown) => {
        assert.ok(error instanceof FrameTooLargeError);
        assert.equal(error.size, 11);
        assert.equal(error.limit, 10);
        return true;
      },
    );
  }
});

test("DelimiterDecoderStream gives up on a 100 MB line after about maxFrameSize bytes", async () => {
  const chunkSize = 65_536;
  let handedOut = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (handedOut >= 100_000_000) return controller.close();
      controller.enqueue(new Uint8Array(chunkSize).fill(0x78));
      handedOut += chunkSize;
    },
  });
  const frames = source.pipeThrough(new DelimiterDecoderStream());
  await assert.rejects(collect(frames), (error: unknown) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.size, 1_048_577);
    return true;
  });
  // The pipe may have pulled a few chunks ahead; never the whole line.
  assert.ok(
    handedOut <= 1_048_576 + 4 * chunkSize,
    `consumed ${handedOut} bytes`,
  );
});

test("DelimiterDecoderStream bounds its memory for one huge chunk", async () => {
  await assert.rejects(
    decode([new Uint8Array(50_000_000).fill(0x78)], { maxFrameSize: 1000 }),
    FrameTooLargeError,
  );
});

test("DelimiterDecoderStream errors with TypeError on a chunk that is not bytes", async () => {
  const input = streamOf(["text" as unknown as Uint8Array]);
  await assert.rejects(
    collect(input.pipeThrough(new DelimiterDecoderStream())),
    TypeError,
  );
});

test("DelimiterDecoderStream rejects bad options at construction", () => {
  assert.throws(() => new DelimiterDecoderStream({ delimiter: "" }), TypeError);
  assert.throws(
    () => new DelimiterDecoderStream({ delimiter: "\0", stripCR: true }),
    TypeError,
  );
  assert.throws(
    () => new DelimiterDecoderStream({ maxFrameSize: -5 }),
    RangeError,
  );
});

test("DelimiterDecoderStream property: any lines, any chunking give the same lines", async () => {
  const delimiters = ["\n", "\r\n", "\r\n\r\n", "ab", "aab", "aba", "\0"];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...delimiters),
      fc.array(
        fc.uint8Array({ maxLength: 40 }).map((raw) =>
          raw.map((b) => [0x61, 0x62, 0x0a, 0x0d, 0x00, 0x78][b % 6]!)
        ),
        { maxLength: 20 },
      ),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
      async (delimiter, candidates, chunkSizes) => {
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
        const got = await decode(chunk(writer.bytes(), chunkSizes), {
          delimiter,
          maxFrameSize,
        });
        assert.deepEqual(got, lines);
      },
    ),
    { numRuns: 1000 },
  );
});

test("DelimiterDecoderStream hands out every frame before an oversize one in the same chunk, then errors", async () => {
  const seen: Uint8Array[] = [];
  await assert.rejects(async () => {
    const stream = streamOf([bytes("a\n\nb\nxxxxxxxx")]).pipeThrough(
      new DelimiterDecoderStream({ maxFrameSize: 4 }),
    );
    for await (const frame of stream) seen.push(frame);
  }, FrameTooLargeError);
  assert.deepEqual(texts(seen), ["a", "", "b"]);
});

test("DelimiterDecoderStream hands out every frame before a truncated end, even when the writer closes at once", async () => {
  const stream = new DelimiterDecoderStream();
  const writer = stream.writable.getWriter();
  const writing = writer.write(bytes("a\nb\nc"));
  const closing = writer.close();
  await tick(); // the frames are decoded before anything reads them
  const seen: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const frame of stream.readable) seen.push(frame);
  }, UnexpectedEofError);
  assert.deepEqual(texts(seen), ["a", "b"]);
  await Promise.allSettled([writing, closing]);
});
