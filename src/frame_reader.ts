/**
 * A buffered reader of length-prefixed frames.
 *
 * @module
 */

import { abortable, isAbortReason } from "./_abort.ts";
import { type HeaderInfo, type Layout, layoutOf } from "./_layout.ts";
import {
  FrameTooLargeError,
  NoProgressError,
  normalizeError,
  UnexpectedEofError,
} from "./errors.ts";
import type { FrameOptions } from "./frame_options.ts";
import { Slab } from "./_slab.ts";
import { MAX_CONSECUTIVE_EMPTY_READS } from "./read_exact.ts";
import type { Reader, SignalOptions } from "./types.ts";

/**
 * Options for {@linkcode FrameReader}.
 *
 * @example Borrowed frames and a smaller buffer
 * ```ts
 * import { encodeFrame, FrameReader, type FrameReaderOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = encodeFrame(new Uint8Array([1, 2, 3]));
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * const options: FrameReaderOptions = { readBufferSize: 4096, borrowFrames: true };
 * const frames = new FrameReader(reader, options);
 * const frame = await frames.read();
 * assert.deepEqual(frame?.slice(), new Uint8Array([1, 2, 3])); // copy before reading on
 * ```
 */
export interface FrameReaderOptions extends FrameOptions {
  /**
   * The size of the read buffer: one `read` on the underlying reader fills
   * up to this many bytes, which can hold many small frames. A frame larger
   * than half of it is read straight into a buffer of its own.
   *
   * @default {65536}
   */
  readBufferSize?: number;
  /**
   * Hand out frames as views into the reader's own buffers instead of new
   * arrays. A borrowed frame is valid only until the next `read()` (or the
   * next step of a `for await` loop): process it, or copy what you keep,
   * before reading on. In exchange nothing is allocated per frame, which
   * matters for large frames (a fresh 1 MiB buffer per frame roughly doubles
   * the CPU cost of receiving it) and for floods of small ones.
   *
   * @default {false}
   */
  borrowFrames?: boolean;
}

/**
 * Options for {@linkcode FrameReader.prototype.read}.
 *
 * @example A per-read deadline
 * ```ts
 * import { FrameReader, type FrameReadOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const silent = { read: () => new Promise<number | null>(() => {}) };
 * const options: FrameReadOptions = { signal: AbortSignal.timeout(10) };
 * await assert.rejects(new FrameReader(silent).read(options), { name: "TimeoutError" });
 * ```
 */
export type FrameReadOptions = SignalOptions;

const DEFAULT_READ_BUFFER_SIZE = 64 * 1024;

/**
 * Reads length-prefixed frames from a {@linkcode Reader}, buffered.
 *
 * - **Fast**: one `read` on the underlying reader serves every small frame
 *   it delivered; frames already buffered are handed out without waiting.
 * - **Bounded**: memory stays within `maxFrameSize` plus one read buffer; a
 *   hostile length gives {@linkcode FrameTooLargeError} before any
 *   allocation of that size.
 * - **Large frames** (over half the read buffer) are read straight into
 *   their own exact-size buffer: no second copy.
 * - **Lossless cancellation**: when a `read({ signal })` is aborted, the
 *   underlying read in flight is kept, and the next `read()` picks it up, so
 *   not a byte is lost.
 *
 * Ownership: by default every frame returned belongs to the caller; later
 * reads never overwrite it. Small frames (under 4 KiB) are views into a
 * shared 8 KiB slab that holds only bytes of this reader's stream (frames
 * before and after it, and their headers; as Node's `Buffer` pool does):
 * use `frame.byteOffset` and `frame.byteLength` with `frame.buffer`. With
 * `borrowFrames: true` a frame is a view that is valid only until the next
 * read, and no buffer is allocated per frame.
 *
 * One read at a time: a `read()` while another is pending rejects with
 * `TypeError`.
 *
 * After an error from the peer or the network (`FrameTooLargeError`,
 * `InvalidFrameError`, `UnexpectedEofError`, a reset), every later `read()`
 * rejects with the same error: the stream is out of sync, close it. An abort
 * is not such an error.
 *
 * The `FrameReader` does not own the underlying reader: leaving a
 * `for await` loop early does not close the connection.
 *
 * @example Iterate over the frames of a connection
 * ```ts
 * import { encodeFrame, FrameReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const text = new TextEncoder();
 * const wire = new Uint8Array([
 *   ...encodeFrame(text.encode("one")),
 *   ...encodeFrame(text.encode("two")),
 * ]);
 * let sent = false;
 * const conn = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.length);
 *   },
 * };
 * const frames: string[] = [];
 * for await (const frame of new FrameReader(conn)) {
 *   frames.push(new TextDecoder().decode(frame));
 * }
 * assert.deepEqual(frames, ["one", "two"]);
 * ```
 *
 * @example A deadline per frame that loses nothing
 * ```ts
 * import { encodeFrame, FrameReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let deliver: (n: number) => void = () => {};
 * let target: Uint8Array = new Uint8Array(0);
 * const slowPeer = {
 *   read(p: Uint8Array) {
 *     target = p;
 *     return new Promise<number>((resolve) => (deliver = resolve));
 *   },
 * };
 * const frames = new FrameReader(slowPeer);
 * await assert.rejects(
 *   frames.read({ signal: AbortSignal.timeout(10) }),
 *   { name: "TimeoutError" },
 * );
 * const next = frames.read(); // resumes the read still in flight
 * const frame = encodeFrame(new Uint8Array([1, 2, 3]));
 * target.set(frame);
 * deliver(frame.length);
 * assert.deepEqual(await next, new Uint8Array([1, 2, 3]));
 * ```
 */
export class FrameReader implements AsyncIterable<Uint8Array> {
  readonly #reader: Reader;
  readonly #layout: Layout;
  readonly #buf: Uint8Array;
  readonly #info: HeaderInfo = { headerLength: 0, payloadLength: 0 };
  readonly #borrow: boolean;
  /** Borrow mode: the reusable home of large frames. */
  #largeStore: Uint8Array = new Uint8Array(0);
  readonly #slab = new Slab();
  #busy = false;
  #start = 0;
  #end = 0;
  /** A large frame being filled straight from the reader, or null. */
  #frame: Uint8Array | null = null;
  #filled = 0;
  /** Bytes of the large frame that belong to its kept header. */
  #kept = 0;
  /** The last frame was large: read the next header on its own. */
  #afterLarge = false;
  #pending: Promise<number | null> | null = null;
  #pendingIntoFrame = false;
  /** The size of the buffer handed to the read in flight. */
  #pendingRoom = 0;
  #eof = false;
  #error: unknown = undefined;
  #emptyReads = 0;

  /**
   * Creates a frame reader.
   *
   * @param reader The byte stream, e.g. a `Deno.Conn`.
   * @param options The layout, the cap and the read buffer size.
   * @throws {TypeError | RangeError} An option is invalid.
   */
  constructor(reader: Reader, options?: FrameReaderOptions) {
    this.#reader = reader;
    this.#layout = layoutOf(options);
    const size = options?.readBufferSize ?? DEFAULT_READ_BUFFER_SIZE;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot use readBufferSize ${size}: expected a positive integer`,
      );
    }
    this.#borrow = options?.borrowFrames ?? false;
    // Room for the longest possible header, whatever the caller chose.
    this.#buf = new Uint8Array(Math.max(size, this.#layout.offset + 16));
  }

  /**
   * Reads the next frame.
   *
   * @param options A signal to cancel the wait; nothing is lost when it
   * aborts.
   * @returns The next frame, or `null` once the stream has ended cleanly at a
   * frame boundary.
   * @throws {FrameTooLargeError} The announced length is over
   * `maxFrameSize`.
   * @throws {InvalidFrameError} The header cannot describe a frame.
   * @throws {UnexpectedEofError} The stream ended inside a header or a
   * payload (the message says which).
   * @throws {ConnectionResetError | NoProgressError} The reader failed.
   * @throws {TypeError} Another `read()` is still pending.
   * @throws {unknown} `signal.reason` when the signal aborts.
   */
  read(options?: FrameReadOptions): Promise<Uint8Array | null> {
    const signal = options?.signal;
    try {
      const frame = this.#ready(signal);
      if (frame !== undefined) return Promise.resolve(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(signal);
  }

  /**
   * Iterates over the frames until the stream ends cleanly; throws what
   * {@linkcode FrameReader.prototype.read} throws.
   *
   * @returns An async iterator of frames.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        try {
          const frame = this.#ready(undefined);
          if (frame !== undefined) {
            return Promise.resolve({ done: false, value: frame });
          }
        } catch (error) {
          return Promise.reject(error);
        }
        return this.#readSlow(undefined).then((frame) =>
          frame === null
            ? { done: true, value: undefined }
            : { done: false, value: frame }
        );
      },
    };
  }

  /**
   * Reads the next frame and every further frame already complete in the
   * buffer: one promise per batch instead of one per frame. Use it for floods
   * of small frames, where the `for await` protocol itself (a promise per
   * frame, about 110 ns on Node 20) is the largest cost.
   *
   * With `borrowFrames`, every frame of a batch stays valid until the next
   * read. When a bad header follows some complete frames, those frames are
   * returned first and the next call throws the error.
   *
   * @param options A signal to cancel the wait for the first frame; nothing
   * is lost when it aborts.
   * @returns One or more frames in order, or `null` once the stream has ended
   * cleanly at a frame boundary.
   * @throws {FrameTooLargeError | InvalidFrameError | UnexpectedEofError}
   * As {@linkcode FrameReader.prototype.read}, for the first frame.
   * @throws {ConnectionResetError | NoProgressError} The reader failed.
   * @throws {TypeError} Another read is still pending.
   * @throws {unknown} `signal.reason` when the signal aborts.
   *
   * @example Process frames a batch at a time
   * ```ts
   * import { encodeFrame, FrameReader } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const wire = new Uint8Array([
   *   ...encodeFrame(new Uint8Array([1])),
   *   ...encodeFrame(new Uint8Array([2])),
   *   ...encodeFrame(new Uint8Array([3])),
   * ]);
   * let sent = false;
   * const conn = {
   *   read(p: Uint8Array) {
   *     if (sent) return Promise.resolve(null);
   *     sent = true;
   *     p.set(wire);
   *     return Promise.resolve(wire.length);
   *   },
   * };
   * const frames = new FrameReader(conn);
   * let sum = 0;
   * for (let batch; (batch = await frames.readBatch()) !== null;) {
   *   assert.equal(batch.length, 3); // all three arrived in one read
   *   for (const frame of batch) sum += frame[0]!;
   * }
   * assert.equal(sum, 6);
   * ```
   */
  readBatch(options?: FrameReadOptions): Promise<Uint8Array[] | null> {
    const signal = options?.signal;
    try {
      const frame = this.#ready(signal);
      if (frame !== undefined) return Promise.resolve(this.#drain([frame]));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(signal).then((frame) =>
      frame === null ? null : this.#drain([frame])
    );
  }

  /**
   * The checks every read starts with, and its fast path: the next frame if
   * it is already complete in the buffer, `undefined` if the read must wait.
   * Throws for a concurrent read, an aborted signal or a bad header.
   */
  #ready(signal: AbortSignal | undefined): Uint8Array | undefined {
    if (this.#busy) throw concurrentRead();
    if (signal?.aborted) throw signal.reason;
    if (this.#pending !== null || this.#frame !== null) return undefined;
    return this.#takeBuffered();
  }

  /** Appends every frame already complete in the buffer to `batch`. */
  #drain(batch: Uint8Array[]): Uint8Array[] {
    while (this.#error === undefined) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#takeBuffered();
      } catch {
        break; // remembered by #fail: the next read throws it
      }
      if (frame === undefined) break;
      batch.push(frame);
    }
    return batch;
  }

  /**
   * Returns the next frame if it is already complete in the buffer;
   * `undefined` if more bytes are needed. Throws (and remembers) a bad
   * header.
   */
  #takeBuffered(): Uint8Array | undefined {
    if (this.#error !== undefined) throw this.#error;
    const buf = this.#buf;
    const start = this.#start;
    const available = this.#end - start;
    let headerLength: number;
    let payloadLength: number;
    const layout = this.#layout;
    if (layout.isDefault) {
      if (available < 4) return undefined;
      payloadLength = ((buf[start]! << 24) | (buf[start + 1]! << 16) |
        (buf[start + 2]! << 8) | buf[start + 3]!) >>> 0;
      if (payloadLength > layout.maxFrameSize) {
        throw this.#fail(
          new FrameTooLargeError(payloadLength, layout.maxFrameSize),
        );
      }
      headerLength = 4;
    } else {
      try {
        if (!layout.parse(buf, start, this.#end, this.#info)) return undefined;
      } catch (error) {
        throw this.#fail(error);
      }
      headerLength = this.#info.headerLength;
      payloadLength = this.#info.payloadLength;
    }
    const total = headerLength + payloadLength;
    if (total > available) return undefined;
    const from = start + layout.stripFor(headerLength);
    const frame = this.#borrow
      ? new Uint8Array(buf.buffer, from, start + total - from)
      : this.#slab.copy(buf, from, start + total, this.#end);
    if (total === available) {
      this.#start = this.#end = 0;
      this.#slab.forget();
    } else {
      this.#start = start + total;
    }
    return frame;
  }

  async #readSlow(signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    if (this.#error !== undefined) throw this.#error;
    this.#busy = true;
    try {
      return await this.#readLoop(signal);
    } finally {
      this.#busy = false;
    }
  }

  async #readLoop(signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#pending !== null) {
        // A read left in flight by an aborted call: it comes first.
        await this.#fill(signal);
      }
      const large = this.#frame;
      if (large !== null) {
        if (this.#filled === large.byteLength) {
          this.#frame = null;
          this.#afterLarge = true;
          return large;
        }
        if (this.#eof) {
          throw this.#fail(
            new UnexpectedEofError({
              bytesRead: this.#filled - this.#kept,
              expected: large.byteLength - this.#kept,
              partial: large.slice(this.#kept, this.#filled),
              what: "frame payload",
            }),
          );
        }
        this.#startRead(large.subarray(this.#filled), true);
        continue;
      }
      const frame = this.#takeBuffered();
      if (frame !== undefined) return frame;
      const available = this.#end - this.#start;
      const headerKnown = this.#layout.parse(
        this.#buf,
        this.#start,
        this.#end,
        this.#info,
      );
      if (this.#eof) {
        if (available === 0) return null;
        throw this.#fail(this.#truncated(headerKnown, available));
      }
      if (headerKnown) {
        const { headerLength, payloadLength } = this.#info;
        if (headerLength + payloadLength > this.#buf.byteLength >>> 1) {
          this.#beginLarge(headerLength, payloadLength);
          continue;
        }
      }
      if (this.#start > 0 && this.#end > this.#buf.byteLength >>> 1) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
        this.#slab.forget();
      }
      // After a large frame, read only the next header: when the next frame
      // is large too, its payload then goes straight into its own buffer,
      // instead of filling the read buffer first and being copied from it.
      const headerEnd = this.#start + this.#layout.minHeader;
      if (this.#afterLarge && headerEnd > this.#end) {
        this.#startRead(this.#buf.subarray(this.#end, headerEnd), false);
      } else {
        this.#afterLarge = false;
        this.#startRead(this.#buf.subarray(this.#end), false);
      }
    }
  }

  /** Moves what is buffered of a large frame into its own buffer. */
  #beginLarge(headerLength: number, payloadLength: number): void {
    const strip = this.#layout.stripFor(headerLength);
    const kept = headerLength - strip;
    const size = kept + payloadLength;
    let large: Uint8Array;
    if (this.#borrow) {
      if (this.#largeStore.byteLength < size) {
        this.#largeStore = new Uint8Array(size);
      }
      large = this.#largeStore.subarray(0, size);
    } else {
      large = new Uint8Array(size);
    }
    const from = this.#start + strip;
    large.set(this.#buf.subarray(from, this.#end));
    this.#filled = this.#end - from;
    this.#kept = kept;
    this.#frame = large;
    this.#start = this.#end = 0;
    this.#slab.forget();
  }

  #truncated(headerKnown: boolean, available: number): UnexpectedEofError {
    const from = this.#start;
    if (!headerKnown) {
      return new UnexpectedEofError({
        bytesRead: available,
        expected: this.#layout.varint
          ? Math.max(this.#layout.minHeader, available + 1)
          : this.#layout.minHeader,
        partial: this.#buf.slice(from, this.#end),
        what: "frame header",
      });
    }
    const { headerLength, payloadLength } = this.#info;
    return new UnexpectedEofError({
      bytesRead: available - headerLength,
      expected: payloadLength,
      partial: this.#buf.slice(from + headerLength, this.#end),
      what: "frame payload",
    });
  }

  /** Starts a read into `target` and marks it as the read in flight. */
  #startRead(target: Uint8Array, intoFrame: boolean): void {
    try {
      this.#pending = this.#reader.read(target);
    } catch (error) {
      this.#pending = Promise.reject(error);
    }
    this.#pendingIntoFrame = intoFrame;
    this.#pendingRoom = target.byteLength;
  }

  /** Waits for the read in flight and applies its result. */
  async #fill(signal: AbortSignal | undefined): Promise<void> {
    let n: number | null;
    try {
      n = await abortable(this.#pending!, signal);
    } catch (error) {
      if (isAbortReason(error, signal)) throw error; // the read stays in flight
      this.#pending = null;
      throw this.#fail(normalizeError(error));
    }
    this.#pending = null;
    if (n === null) {
      this.#eof = true;
      return;
    }
    const room = this.#pendingRoom;
    if (!Number.isInteger(n) || n < 0 || n > room) {
      throw this.#fail(
        new RangeError(
          `Cannot read frame: reader returned ${n} for a ${room}-byte buffer`,
        ),
      );
    }
    if (n === 0) {
      if (++this.#emptyReads >= MAX_CONSECUTIVE_EMPTY_READS) {
        throw this.#fail(new NoProgressError(this.#emptyReads));
      }
      return;
    }
    this.#emptyReads = 0;
    if (this.#pendingIntoFrame) this.#filled += n;
    else this.#end += n;
  }

  #fail(error: unknown): unknown {
    this.#error = error;
    return error;
  }
}

function concurrentRead(): TypeError {
  return new TypeError(
    "Cannot read: another read() on this FrameReader is still pending",
  );
}
