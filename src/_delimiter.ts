// The shared core of delimiter framing: option checks, an incremental
// delimiter scanner and a bounded frame buffer. Used by DelimitedReader,
// DelimiterDecoderStream and writeDelimited; not part of the public API.

import { SMALL_READ_BUFFER } from "./_read_shell.ts";
import { FrameTooLargeError, UnexpectedEofError } from "./errors.ts";

/** The default cap on one delimited frame: 1 MiB, as for length prefixes. */
export const DEFAULT_MAX_FRAME_SIZE = 1_048_576;

/** The default initial buffer size and read size: 64 KiB. */
export const DEFAULT_READ_BUFFER_SIZE = 65_536;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Test-only counters, so tests can prove linear time by counting work
 * instead of timing it. `bytesExamined` counts bytes looked at by a
 * {@linkcode DelimiterScanner}; `bytesMoved` counts bytes a
 * {@linkcode DelimiterDecoder} copied while compacting or growing its buffer.
 */
export const scanStats = { bytesExamined: 0, bytesMoved: 0 };

/** Delimiter framing options after validation. */
export interface ResolvedDelimiterOptions {
  delimiter: Uint8Array;
  maxFrameSize: number;
  stripCR: boolean;
}

/**
 * Turns a delimiter option into bytes the caller can no longer modify.
 *
 * @throws {TypeError} Not a string or a Uint8Array, or empty.
 */
export function normalizeDelimiter(
  delimiter: Uint8Array | string | undefined,
): Uint8Array {
  if (delimiter === undefined) return new Uint8Array([LF]);
  let bytes: Uint8Array;
  if (typeof delimiter === "string") {
    bytes = new TextEncoder().encode(delimiter);
  } else if (delimiter instanceof Uint8Array) {
    bytes = delimiter.slice();
  } else {
    throw new TypeError(
      `Cannot use delimiter: expected a string or a Uint8Array, got ${typeof delimiter}`,
    );
  }
  if (bytes.byteLength === 0) {
    throw new TypeError("Cannot use delimiter: it must not be empty");
  }
  return bytes;
}

/** Checks that `value` is a safe integer of at least `min`. */
export function checkSize(name: string, value: number, min: number): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot use ${name}: expected a number, got ${typeof value}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot use ${name} ${value}: it must be a safe integer of at least ${min}`,
    );
  }
  return value;
}

/**
 * Validates the options shared by the reader and the decoder stream.
 *
 * @throws {TypeError} A wrong type, an empty delimiter, or `stripCR` with a
 * delimiter other than `"\n"`.
 * @throws {RangeError} A negative or fractional `maxFrameSize`.
 */
export function resolveDelimiterOptions(options: {
  delimiter?: Uint8Array | string;
  maxFrameSize?: number;
  stripCR?: boolean;
}): ResolvedDelimiterOptions {
  const delimiter = normalizeDelimiter(options.delimiter);
  const maxFrameSize = checkSize(
    "maxFrameSize",
    options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
    0,
  );
  const stripCR = options.stripCR ?? false;
  if (typeof stripCR !== "boolean") {
    throw new TypeError(
      `Cannot use stripCR: expected a boolean, got ${typeof stripCR}`,
    );
  }
  if (stripCR && !(delimiter.byteLength === 1 && delimiter[0] === LF)) {
    throw new TypeError(
      `Cannot use stripCR with the delimiter [${delimiter.join(", ")}]: ` +
        `it only applies to the "\\n" delimiter`,
    );
  }
  return { delimiter, maxFrameSize, stripCR };
}

/**
 * Finds a delimiter in a byte stream that arrives piece by piece, looking at
 * every byte exactly once (Knuth-Morris-Pratt, with `indexOf` skipping ahead
 * to the delimiter's first byte). The match state carries over between
 * calls, so a delimiter split across reads is found without rescanning.
 */
export class DelimiterScanner {
  readonly delimiter: Uint8Array;
  // #fallback[q]: length of the longest proper prefix of delimiter[0..q]
  // that is also a suffix of it (the KMP failure function).
  readonly #fallback: Int32Array;
  #matched = 0;

  constructor(delimiter: Uint8Array) {
    this.delimiter = delimiter;
    const fallback = new Int32Array(delimiter.byteLength);
    for (let q = 1, k = 0; q < delimiter.byteLength; q++) {
      while (k > 0 && delimiter[q] !== delimiter[k]) k = fallback[k - 1]!;
      if (delimiter[q] === delimiter[k]) k++;
      fallback[q] = k;
    }
    this.#fallback = fallback;
  }

  /** How many delimiter bytes the bytes scanned so far end with. */
  get matched(): number {
    return this.#matched;
  }

  /**
   * Scans `bytes[from..to)`, continuing the match state of the bytes
   * scanned before (which must be the ones just before `from`).
   *
   * @returns The index just past the first complete delimiter, or -1.
   */
  scan(bytes: Uint8Array, from: number, to: number): number {
    const d = this.delimiter;
    const last = d.byteLength;
    const first = d[0]!;
    let m = this.#matched;
    let i = from;
    while (i < to) {
      if (m === 0) {
        const k = bytes.subarray(i, to).indexOf(first);
        if (k === -1) {
          scanStats.bytesExamined += to - i;
          i = to;
          break;
        }
        scanStats.bytesExamined += k + 1;
        i += k + 1;
        m = 1;
      } else {
        const b = bytes[i++]!;
        scanStats.bytesExamined++;
        while (m > 0 && b !== d[m]) m = this.#fallback[m - 1]!;
        if (b === d[m]) m++;
      }
      if (m === last) {
        this.#matched = 0;
        return i;
      }
    }
    this.#matched = m;
    return -1;
  }
}

/**
 * Splits bytes into delimited frames with bounded memory. Bytes are written
 * into {@linkcode space}, announced with {@linkcode commit}, and frames are
 * taken out with {@linkcode next}.
 *
 * The buffer grows on demand, from 4 KiB (or `headroom`, if smaller) up to
 * the largest frame the cap allows (plus the delimiter) plus `headroom`,
 * never more. Once empty after a write that did not fill its space (the
 * source had nothing more), it is 4 KiB again: an idle decoder holds no
 * more, and the larger buffer is held weakly, for reuse. Each byte is
 * scanned once; compaction moves a partial frame only when that frees at
 * least as much room as it copies, or once per frame at full size, so
 * copying is linear too.
 */
export class DelimiterDecoder {
  readonly #scanner: DelimiterScanner;
  readonly #maxFrameSize: number;
  readonly #stripCR: boolean;
  // The most bytes a frame plus its delimiter can span; a window this long
  // without a delimiter means the frame is over the cap.
  readonly #window: number;
  readonly #headroom: number;
  readonly #maxCapacity: number;
  #buffer: Uint8Array;
  readonly #small: Uint8Array;
  /** The last larger buffer while the small one is in use, held weakly. */
  #spare: WeakRef<Uint8Array> | null = null;
  /** The size of the last `space()`, and whether its write filled less. */
  #lastSpace = 0;
  #short = false;
  #start = 0; // where the current frame begins
  #end = 0; // where the buffered bytes end
  #scanned = 0; // bytes after #start already scanned

  constructor(options: ResolvedDelimiterOptions, headroom: number) {
    this.#scanner = new DelimiterScanner(options.delimiter);
    this.#maxFrameSize = options.maxFrameSize;
    this.#stripCR = options.stripCR;
    this.#window = options.maxFrameSize + options.delimiter.byteLength +
      (options.stripCR ? 1 : 0);
    this.#headroom = headroom;
    this.#maxCapacity = this.#window + headroom;
    this.#small = new Uint8Array(Math.min(headroom, SMALL_READ_BUFFER));
    this.#buffer = this.#small;
  }

  /**
   * A non-empty region to write new bytes into. It stays valid (nothing
   * else touches it) until {@linkcode commit} is called.
   */
  space(): Uint8Array {
    const live = this.#end - this.#start;
    if (this.#buffer === this.#small) {
      // A write that filled the small buffer came in a burst.
      if (
        this.#lastSpace > 0 && !this.#short &&
        this.#small.byteLength < this.#headroom
      ) {
        this.#move(Math.min(live + this.#headroom, this.#maxCapacity));
      }
    } else if (live === 0 && this.#short) {
      this.#spare = new WeakRef(this.#buffer);
      this.#buffer = this.#small;
      this.#start = this.#end = 0;
    }
    const capacity = this.#buffer.byteLength;
    // Compacting is cheap when it moves no more bytes than were consumed
    // since the last time: do it rather than offer a small tail.
    const cheap = this.#start > 0 && this.#start >= live;
    const free = capacity - this.#end;
    if (free >= this.#headroom || (free > 0 && !cheap)) {
      this.#lastSpace = free;
      return this.#buffer.subarray(this.#end);
    }
    if (cheap || capacity >= this.#maxCapacity) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      scanStats.bytesMoved += live;
    } else {
      this.#move(
        Math.min(
          Math.max(capacity * 2, live + this.#headroom),
          this.#maxCapacity,
        ),
      );
    }
    this.#start = 0;
    this.#end = live;
    if (live === this.#buffer.byteLength) {
      throw new Error("DelimiterDecoder.space() needs next() after commit()");
    }
    this.#lastSpace = this.#buffer.byteLength - this.#end;
    return this.#buffer.subarray(this.#end);
  }

  /** Moves the buffered bytes into a buffer of at least `size` bytes. */
  #move(size: number): void {
    const spare = this.#spare?.deref();
    const grown = spare !== undefined && spare.byteLength >= size
      ? spare
      : new Uint8Array(size);
    this.#spare = null;
    grown.set(this.#buffer.subarray(this.#start, this.#end));
    scanStats.bytesMoved += this.#end - this.#start;
    this.#buffer = grown;
    this.#end -= this.#start;
    this.#start = 0;
  }

  /** Announces that `n` bytes were written at the start of `space()`. */
  commit(n: number): void {
    this.#short = n < this.#lastSpace;
    this.#end += n;
  }

  /**
   * Takes the next complete frame out: a fresh copy, without the delimiter
   * (and without a `"\r"` before it when `stripCR` is on).
   *
   * @returns The frame, or `undefined` when more bytes are needed.
   * @throws {FrameTooLargeError} The frame is longer than `maxFrameSize`.
   */
  next(): Uint8Array | undefined {
    const start = this.#start;
    const to = Math.min(this.#end, start + this.#window);
    const found = this.#scanner.scan(this.#buffer, start + this.#scanned, to);
    if (found === -1) {
      this.#scanned = to - start;
      if (this.#scanned >= this.#window) {
        // No delimiter ends within the window: the frame has more than
        // maxFrameSize bytes, and reading the rest would only waste memory.
        throw new FrameTooLargeError(
          this.#maxFrameSize + 1,
          this.#maxFrameSize,
        );
      }
      return undefined;
    }
    let frameEnd = found - this.#scanner.delimiter.byteLength;
    if (
      this.#stripCR && frameEnd > start && this.#buffer[frameEnd - 1] === CR
    ) {
      frameEnd--;
    }
    if (frameEnd - start > this.#maxFrameSize) {
      throw new FrameTooLargeError(frameEnd - start, this.#maxFrameSize);
    }
    const frame = this.#buffer.slice(start, frameEnd);
    this.#scanned = 0;
    if (found === this.#end) {
      this.#start = this.#end = 0;
    } else {
      this.#start = found;
    }
    return frame;
  }

  /**
   * Checks that the stream ended exactly after a delimiter. Call it once
   * {@linkcode next} returned `undefined` at end of stream.
   *
   * @throws {UnexpectedEofError} Bytes after the last delimiter.
   */
  end(): void {
    const trailing = this.#end - this.#start;
    if (trailing === 0) return;
    throw new UnexpectedEofError({
      what: "delimited frame",
      bytesRead: trailing,
      // The least the frame still needed: the rest of its delimiter.
      expected: trailing + this.#scanner.delimiter.byteLength -
        this.#scanner.matched,
      partial: this.#buffer.slice(this.#start, this.#end),
    });
  }
}
