// Hostile input: every decoder fed random bytes (giant lengths, endless
// varints, random layouts, stray delimiters) through random chunkings. Each
// run must end in frames, `null`, or a TcpFrameError; must never ask for or
// hand out more memory than the cap plus one read buffer; and must never
// hang: the readers here always end, and one that is read again and again
// after its end fails the run instead of spinning.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConnectionResetError,
  DelimitedReader,
  DelimiterDecoderStream,
  FrameDecoderStream,
  type FrameOptions,
  FrameReader,
  FrameTooLargeError,
  InvalidFrameError,
  type LengthFieldLength,
  type Reader,
  readFrame,
  TcpFrameError,
  UnexpectedEofError,
} from "tcpframe";
import { collect, concat, streamOf } from "./_fixtures.ts";

const RUNS = 1000;
const DEFAULT_READ_BUFFER_SIZE = 65_536;
const DEFAULT_MAX_FRAME_SIZE = 1_048_576;
/** FrameReader and FrameDecoderStream copy small frames into 8 KiB slabs. */
const SLAB_SIZE = 8192;
/**
 * A FrameReader that has received nothing yet reads into a buffer of at most
 * 4 KiB; it grows to `readBufferSize` only once reads fill it.
 */
const SMALL_READ_BUFFER = 4096;
/** Reads after the end that a decoder may make before it counts as spinning. */
const READS_AFTER_END = 3;

/** How a {@linkcode HostileReader} ends once its bytes are out. */
type Ending = "eof" | "reset";

/**
 * A reader over `data` that hands out `sizes[i]` bytes on its i-th read
 * (cycling; 0 is a zero-byte read), then ends with `null` or a reset. It
 * records the largest buffer it was offered, and the largest `ArrayBuffer`
 * behind one: the memory a decoder set aside to read into.
 */
class HostileReader implements Reader {
  readonly #data: Uint8Array;
  readonly #sizes: readonly number[];
  readonly #ending: Ending;
  #offset = 0;
  #calls = 0;
  #afterEnd = 0;
  /** The largest `p.byteLength` offered to `read`. */
  largestOffered = 0;
  /** The largest `p.buffer.byteLength` offered to `read`. */
  largestBacking = 0;

  constructor(data: Uint8Array, sizes: readonly number[], ending: Ending) {
    this.#data = data;
    this.#sizes = sizes;
    this.#ending = ending;
  }

  read(p: Uint8Array): Promise<number | null> {
    this.largestOffered = Math.max(this.largestOffered, p.byteLength);
    this.largestBacking = Math.max(this.largestBacking, p.buffer.byteLength);
    const size = this.#sizes[this.#calls++ % this.#sizes.length]!;
    if (this.#offset === this.#data.byteLength) {
      if (++this.#afterEnd > READS_AFTER_END) {
        // A plain Error: the property fails, as it should for a spin.
        return Promise.reject(new Error("read() called again and again"));
      }
      return this.#ending === "eof" ? Promise.resolve(null) : Promise.reject(
        Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      );
    }
    const n = Math.min(
      p.byteLength,
      size,
      this.#data.byteLength - this.#offset,
    );
    p.set(this.#data.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }
}

/** `data` cut into chunks of `sizes[i]` bytes (cycling; 0 gives an empty chunk). */
function chunked(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.byteLength; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(data.slice(at, at + n));
    at += n;
  }
  return chunks;
}

/** What a decoder produced: its frames, then a clean end or an error. */
interface Outcome {
  frames: Uint8Array[];
  error: unknown;
}

async function outcomeOf(
  frames: Uint8Array[],
  run: () => Promise<void>,
): Promise<Outcome> {
  try {
    await run();
    return { frames, error: undefined };
  } catch (error) {
    return { frames, error };
  }
}

/** Every frame `readFrame` reads from `reader`, then its end or error. */
function readFrameOutcome(
  reader: Reader,
  options: FrameOptions,
): Promise<Outcome> {
  const frames: Uint8Array[] = [];
  return outcomeOf(frames, async () => {
    for (;;) {
      const frame = await readFrame(reader, options);
      if (frame === null) return;
      frames.push(frame);
    }
  });
}

/** Fails unless `error` is one of tcpframe's errors for what the peer did. */
function assertTyped(error: unknown, ending: Ending, label: string): void {
  if (error === undefined) return;
  assert.ok(
    error instanceof TcpFrameError,
    `${label}: expected a TcpFrameError, got ${String(error)}`,
  );
  const allowed: Array<new (...args: never[]) => TcpFrameError> = [
    UnexpectedEofError,
    FrameTooLargeError,
    InvalidFrameError,
  ];
  if (ending === "reset") allowed.push(ConnectionResetError);
  assert.ok(
    allowed.some((kind) => error.constructor === kind),
    `${label}: unexpected ${error.name}: ${error.message}`,
  );
}

/** A comparable summary of an error: class, code and counts. */
function describeError(error: unknown): unknown {
  if (error === undefined) return undefined;
  if (error instanceof UnexpectedEofError) {
    return {
      name: error.name,
      bytesRead: error.bytesRead,
      expected: error.expected,
      partial: [...error.partial],
    };
  }
  if (error instanceof FrameTooLargeError) {
    return { name: error.name, size: error.size, limit: error.limit };
  }
  return (error as Error).name;
}

// ---------------------------------------------------------------------------
// Length-prefixed framing

/** A layout in the shape the decoders take, plus what the test needs of it. */
interface FuzzLayout {
  options: FrameOptions;
  field: LengthFieldLength;
  littleEndian: boolean;
  offset: number;
  cap: number;
}

/** The longest header the layout can have. */
function maxHeaderOf(layout: FuzzLayout): number {
  return layout.offset + (layout.field === "varint" ? 8 : layout.field);
}

const capArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 1, arbitrary: fc.constant(DEFAULT_MAX_FRAME_SIZE) },
);

const layoutArb: fc.Arbitrary<FuzzLayout> = fc.oneof(
  fc.constant<FuzzLayout>({
    options: {},
    field: 4,
    littleEndian: false,
    offset: 0,
    cap: DEFAULT_MAX_FRAME_SIZE,
  }),
  capArb.map((cap): FuzzLayout => ({
    options: { maxFrameSize: cap },
    field: 4,
    littleEndian: false,
    offset: 0,
    cap,
  })),
  fc.record({
    field: fc.constantFrom<LengthFieldLength>(1, 2, 3, 4, 8, "varint"),
    littleEndian: fc.boolean(),
    offset: fc.integer({ min: 0, max: 3 }),
    adjustment: fc.integer({ min: -8, max: 8 }),
    strip: fc.option(fc.integer({ min: 0, max: 11 })),
    cap: capArb,
  }).map(
    ({ field, littleEndian, offset, adjustment, strip, cap }): FuzzLayout => {
      const le = field !== "varint" && littleEndian;
      const options: FrameOptions = {
        lengthFieldLength: field,
        littleEndian: le,
        lengthFieldOffset: offset,
        lengthAdjustment: adjustment,
        maxFrameSize: cap,
      };
      const mostStrip = offset + (field === "varint" ? 0 : field);
      if (strip !== null) options.bytesToStrip = strip % (mostStrip + 1);
      return { options, field, littleEndian: le, offset, cap };
    },
  ),
);

/** The length field for `value` in the layout's encoding. */
function lengthField(layout: FuzzLayout, value: number): number[] {
  const out: number[] = [];
  if (layout.field === "varint") {
    let v = value;
    while (v >= 128) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  }
  let v = value;
  for (let k = 0; k < layout.field; k++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return layout.littleEndian ? out : out.reverse();
}

/** A wire of headers (sane, near the cap, giant), payloads and noise. */
function wireArb(layout: FuzzLayout): fc.Arbitrary<Uint8Array> {
  const fieldMax = layout.field === "varint"
    ? Number.MAX_SAFE_INTEGER
    : layout.field === 8
    ? 2 ** 64 - 1 // beyond 2^53: InvalidFrameError
    : 2 ** (8 * layout.field) - 1;
  const value = fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: -10, max: 10 }).map((d) =>
      Math.max(0, Math.min(fieldMax, layout.cap + d))
    ),
    fc.constantFrom(
      fieldMax,
      Math.min(fieldMax, 2 ** 32 - 1),
      Math.min(fieldMax, 2 ** 31),
      Math.min(fieldMax, Number.MAX_SAFE_INTEGER),
    ),
  );
  const prefix = fc.uint8Array({
    minLength: layout.offset,
    maxLength: layout.offset,
  });
  // Any length, followed by any number of bytes.
  const frame = fc.record({
    prefix,
    value,
    payload: fc.uint8Array({ maxLength: 400 }),
  }).map(({ prefix, value, payload }) =>
    concat([prefix, new Uint8Array(lengthField(layout, value)), payload])
  );
  // A length followed by as many bytes, give or take the adjustment.
  const whole = fc.record({
    prefix,
    payload: fc.uint8Array({ maxLength: 300 }),
  }).map(({ prefix, payload }) =>
    concat([
      prefix,
      new Uint8Array(lengthField(layout, payload.byteLength)),
      payload,
    ])
  );
  const segment = fc.oneof(
    { weight: 3, arbitrary: frame },
    { weight: 3, arbitrary: whole },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 12 }).map((n) =>
        new Uint8Array(n).fill(0xff)
      ),
    },
  );
  return fc.array(segment, { maxLength: 8 }).map(concat);
}

/** Read sizes: mostly small, some zero-byte reads, some large. */
const sizesArb = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) },
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 65, max: 5000 }) },
  ),
  { minLength: 1, maxLength: 8 },
).map((sizes) => sizes.some((n) => n > 0) ? sizes : [...sizes, 1]);

const readBufferSizeArb = fc.option(fc.integer({ min: 1, max: 300 }));

test("fuzz: FrameReader, readFrame and FrameDecoderStream end in frames, null or a typed error, agree, and stay within the cap", async () => {
  await fc.assert(
    fc.asyncProperty(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          wireArb(layout),
          sizesArb,
          readBufferSizeArb,
          fc.boolean(),
          fc.constantFrom<Ending>("eof", "reset"),
        )
      ),
      async ([layout, wire, sizes, readBufferSize, borrow, ending]) => {
        const options = layout.options;
        const maxFrame = layout.cap + maxHeaderOf(layout);

        // readFrame: asks for exactly the header, then exactly the frame.
        const direct = new HostileReader(wire, sizes, ending);
        const one = await readFrameOutcome(direct, options);
        const byReadFrame = one.frames;
        assertTyped(one.error, ending, "readFrame");
        assert.ok(
          direct.largestBacking <= Math.max(layout.offset + 9, maxFrame),
          `readFrame asked into ${direct.largestBacking} bytes`,
        );

        // FrameReader: one read buffer, or one frame's own buffer.
        const buffered = new HostileReader(wire, sizes, ending);
        const reader = new FrameReader(buffered, {
          ...options,
          ...(readBufferSize === null ? {} : { readBufferSize }),
          borrowFrames: borrow,
        });
        const bufferSize = Math.max(
          readBufferSize ?? DEFAULT_READ_BUFFER_SIZE,
          layout.offset + 16,
        );
        const byFrameReader: Uint8Array[] = [];
        const many = await outcomeOf(byFrameReader, async () => {
          for await (const frame of reader) {
            assert.ok(frame.byteLength <= maxFrame);
            assert.ok(
              frame.buffer.byteLength <=
                Math.max(bufferSize, maxFrame, SLAB_SIZE),
            );
            byFrameReader.push(borrow ? frame.slice() : frame);
          }
        });
        assertTyped(many.error, ending, "FrameReader");
        assert.ok(
          buffered.largestBacking <= Math.max(bufferSize, maxFrame),
          `FrameReader asked into ${buffered.largestBacking} bytes`,
        );
        // A failed reader stays failed.
        if (many.error !== undefined) {
          await assert.rejects(reader.read(), (e) => e === many.error);
        }

        assert.deepEqual(byFrameReader, byReadFrame);
        assert.deepEqual(describeError(many.error), describeError(one.error));

        if (ending === "reset") return; // a stream's source errors on its own
        const byStream: Uint8Array[] = [];
        const streamed = await outcomeOf(byStream, async () => {
          const frames = streamOf(chunked(wire, sizes)).pipeThrough(
            new FrameDecoderStream(options),
          );
          for await (const frame of frames) {
            assert.ok(frame.byteLength <= maxFrame);
            assert.ok(frame.buffer.byteLength <= Math.max(maxFrame, SLAB_SIZE));
            byStream.push(frame);
          }
        });
        assertTyped(streamed.error, ending, "FrameDecoderStream");
        assert.deepEqual(byStream, byReadFrame);
        assert.deepEqual(
          describeError(streamed.error),
          describeError(one.error),
        );
      },
    ),
    { numRuns: RUNS },
  );
});

test("fuzz: FrameReader over a stream of chunks agrees with readFrame and holds no buffer beyond a frame or a chunk", async () => {
  await fc.assert(
    fc.asyncProperty(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          wireArb(layout),
          sizesArb,
          fc.boolean(),
          fc.boolean(),
        )
      ),
      async ([layout, wire, sizes, borrow, batches]) => {
        const options = layout.options;
        const maxFrame = layout.cap + maxHeaderOf(layout);
        const one = await readFrameOutcome(
          new HostileReader(wire, sizes, "eof"),
          options,
        );
        const byReadFrame = one.frames;

        const chunks = chunked(wire, sizes);
        const largestChunk = Math.max(0, ...chunks.map((c) => c.byteLength));
        const reader = new FrameReader(streamOf(chunks), {
          ...options,
          borrowFrames: borrow,
        });
        const byChunks: Uint8Array[] = [];
        const keep = (frame: Uint8Array) => {
          assert.ok(frame.byteLength <= maxFrame);
          // A view of one chunk, or a frame put together in its own buffer.
          assert.ok(
            frame.buffer.byteLength <= Math.max(largestChunk, maxFrame),
          );
          byChunks.push(borrow ? frame.slice() : frame);
        };
        const many = await outcomeOf(byChunks, async () => {
          if (batches) {
            for (let batch; (batch = await reader.readBatch()) !== null;) {
              batch.forEach(keep);
            }
          } else {
            for await (const frame of reader) keep(frame);
          }
        });
        assertTyped(many.error, "eof", "FrameReader (chunks)");
        assert.deepEqual(byChunks, byReadFrame);
        assert.deepEqual(describeError(many.error), describeError(one.error));
      },
    ),
    { numRuns: RUNS },
  );
});

test("FrameReader, readFrame and FrameDecoderStream refuse a 2^32-1 length without asking for it", async () => {
  const wire = concat([
    new Uint8Array([0xff, 0xff, 0xff, 0xff]),
    new Uint8Array(1000).fill(7),
  ]);
  for (const maxFrameSize of [16, undefined]) {
    const options = maxFrameSize === undefined ? {} : { maxFrameSize };
    const limit = maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    const isGiant = (error: unknown) => {
      assert.ok(error instanceof FrameTooLargeError);
      assert.equal(error.size, 2 ** 32 - 1);
      assert.equal(error.limit, limit);
      return true;
    };

    const direct = new HostileReader(wire, [1], "eof");
    await assert.rejects(readFrame(direct, options), isGiant);
    assert.equal(direct.largestBacking, 4, "readFrame read only the header");

    for (const readBufferSize of [1, 8, undefined]) {
      const buffered = new HostileReader(wire, [3, 5000], "eof");
      const reader = new FrameReader(buffered, {
        ...options,
        ...(readBufferSize === undefined ? {} : { readBufferSize }),
      });
      await assert.rejects(reader.read(), isGiant);
      assert.equal(
        buffered.largestBacking,
        Math.min(
          Math.max(readBufferSize ?? DEFAULT_READ_BUFFER_SIZE, 16),
          SMALL_READ_BUFFER,
        ),
      );
    }

    const frames: Uint8Array[] = [];
    await assert.rejects(async () => {
      const stream = streamOf([wire.slice(0, 2), wire.slice(2)])
        .pipeThrough(new FrameDecoderStream(options));
      for await (const frame of stream) frames.push(frame);
    }, isGiant);
    assert.deepEqual(frames, []);
  }
});

test("FrameReader and readFrame refuse 8-byte and varint lengths beyond 2^53 with InvalidFrameError", async () => {
  const cases: Array<[FrameOptions, number[]]> = [
    [{ lengthFieldLength: 8 }, [
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
    ]],
    [{ lengthFieldLength: 8, littleEndian: true }, [0, 0, 0, 0, 0, 0, 0x20, 0]],
    [{ lengthFieldLength: "varint" }, new Array<number>(12).fill(0xff)],
  ];
  for (const [options, header] of cases) {
    const wire = concat([new Uint8Array(header), new Uint8Array(64)]);
    const direct = new HostileReader(wire, [1], "eof");
    await assert.rejects(readFrame(direct, options), InvalidFrameError);
    assert.ok(direct.largestBacking <= 9);
    const buffered = new HostileReader(wire, [1], "eof");
    await assert.rejects(
      new FrameReader(buffered, options).read(),
      InvalidFrameError,
    );
    assert.equal(buffered.largestBacking, SMALL_READ_BUFFER);
    await assert.rejects(
      collect(streamOf([wire]).pipeThrough(new FrameDecoderStream(options))),
      InvalidFrameError,
    );
  }
});

// ---------------------------------------------------------------------------
// Delimiter framing

const CR = 0x0d;

interface DelimiterCase {
  delimiter: Uint8Array;
  stripCR: boolean;
  cap: number;
}

const delimiterArb: fc.Arbitrary<DelimiterCase> = fc.record({
  delimiter: fc.oneof(
    fc.constantFrom(
      [0x0a],
      [0x0d, 0x0a],
      [0, 0],
      [0x61, 0x62, 0x61, 0x62], // self-overlapping: "abab"
      [0x61, 0x61, 0x62], // "aab"
    ).map((d) => new Uint8Array(d)),
    fc.uint8Array({ minLength: 1, maxLength: 4 }),
  ),
  stripCR: fc.boolean(),
  cap: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 200 }) },
    { weight: 1, arbitrary: fc.constant(DEFAULT_MAX_FRAME_SIZE) },
  ),
}).map(({ delimiter, stripCR, cap }) => ({
  delimiter,
  stripCR: stripCR && delimiter.byteLength === 1 && delimiter[0] === 0x0a,
  cap,
}));

/** Bytes that are mostly delimiter pieces and CRs, so frames do occur. */
function delimitedWireArb(c: DelimiterCase): fc.Arbitrary<Uint8Array> {
  const alphabet = [...new Set([...c.delimiter, CR, 0x78])];
  const noise = fc.array(
    fc.oneof(fc.constantFrom(...alphabet), fc.integer({ min: 0, max: 255 })),
    { maxLength: 60 },
  ).map((bytes) => new Uint8Array(bytes));
  const long = fc.integer({ min: 0, max: 400 }).map((n) =>
    new Uint8Array(n).fill(0x78)
  );
  return fc.array(
    fc.oneof(
      { weight: 3, arbitrary: noise },
      { weight: 3, arbitrary: fc.constant(c.delimiter) },
      { weight: 1, arbitrary: long },
    ),
    { maxLength: 10 },
  ).map(concat);
}

/** The delimited frames of `data`, found the slow and obvious way. */
function referenceSplit(data: Uint8Array, c: DelimiterCase): Outcome {
  const d = c.delimiter;
  const window = c.cap + d.byteLength + (c.stripCR ? 1 : 0);
  const frames: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    let found = -1;
    for (let k = start; k + d.byteLength <= data.byteLength; k++) {
      if (d.every((byte, j) => data[k + j] === byte)) {
        found = k;
        break;
      }
    }
    const rest = data.byteLength - start;
    if (found === -1) {
      if (rest >= window) {
        return { frames, error: new FrameTooLargeError(c.cap + 1, c.cap) };
      }
      if (rest === 0) return { frames, error: undefined };
      let matched = 0; // how much of the delimiter the data ends with
      for (let m = Math.min(d.byteLength - 1, rest); m > 0; m--) {
        const tail = data.subarray(data.byteLength - m);
        if (tail.every((byte, j) => byte === d[j])) {
          matched = m;
          break;
        }
      }
      return {
        frames,
        error: new UnexpectedEofError({
          bytesRead: rest,
          expected: rest + d.byteLength - matched,
          partial: data.slice(start),
        }),
      };
    }
    let end = found;
    if (c.stripCR && end > start && data[end - 1] === CR) end--;
    if (end - start > c.cap) {
      const size = found + d.byteLength - start > window
        ? c.cap + 1
        : end - start;
      return { frames, error: new FrameTooLargeError(size, c.cap) };
    }
    frames.push(data.slice(start, end));
    start = found + d.byteLength;
  }
}

test("fuzz: DelimitedReader and DelimiterDecoderStream match a reference splitter, end typed, and stay within the cap", async () => {
  await fc.assert(
    fc.asyncProperty(
      delimiterArb.chain((c) =>
        fc.tuple(
          fc.constant(c),
          delimitedWireArb(c),
          sizesArb,
          readBufferSizeArb,
          fc.constantFrom<Ending>("eof", "reset"),
        )
      ),
      async ([c, wire, sizes, readBufferSize, ending]) => {
        const options = {
          delimiter: c.delimiter,
          stripCR: c.stripCR,
          maxFrameSize: c.cap,
        };
        const expected = referenceSplit(wire, c);
        if (
          ending === "reset" && !(expected.error instanceof FrameTooLargeError)
        ) {
          expected.error = new ConnectionResetError();
        }

        const source = new HostileReader(wire, sizes, ending);
        const reader = new DelimitedReader(source, {
          ...options,
          ...(readBufferSize === null ? {} : { readBufferSize }),
        });
        const byReader: Uint8Array[] = [];
        const read = await outcomeOf(byReader, async () => {
          for await (const frame of reader) {
            assert.ok(frame.buffer.byteLength <= c.cap);
            byReader.push(frame);
          }
        });
        assertTyped(read.error, ending, "DelimitedReader");
        assert.deepEqual(byReader, expected.frames);
        assert.deepEqual(
          describeError(read.error),
          describeError(expected.error),
        );
        const headroom = readBufferSize ?? DEFAULT_READ_BUFFER_SIZE;
        assert.ok(
          source.largestBacking <=
            c.cap + c.delimiter.byteLength + 1 + headroom,
          `DelimitedReader asked into ${source.largestBacking} bytes`,
        );

        if (ending === "reset") return;
        const byStream: Uint8Array[] = [];
        const streamed = await outcomeOf(byStream, async () => {
          const frames = streamOf(chunked(wire, sizes)).pipeThrough(
            new DelimiterDecoderStream(options),
          );
          for await (const frame of frames) {
            assert.ok(frame.buffer.byteLength <= c.cap);
            byStream.push(frame);
          }
        });
        assertTyped(streamed.error, ending, "DelimiterDecoderStream");
        assert.deepEqual(byStream, expected.frames);
        assert.deepEqual(
          describeError(streamed.error),
          describeError(expected.error),
        );
      },
    ),
    { numRuns: RUNS },
  );
});
