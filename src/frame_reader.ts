/**
 * A buffered reader of length-prefixed frames.
 *
 * @module
 */

import { isChunkSource } from "./_chunk_source.ts";
import { layoutOf } from "./_layout.ts";
import { discardOf, LengthDecoder } from "./_length_decoder.ts";
import { ReadShell, readSource } from "./_read_shell.ts";
import type { FrameOptions } from "./frame_options.ts";
import type { Reader, SignalOptions } from "./types.ts";

/**
 * Options for {@linkcode FrameReader}.
 *
 * @example Skip frames over the cap and read on
 * ```ts
 * import { encodeFrame, FrameReader, type FrameReaderOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([
 *   ...encodeFrame(new Uint8Array([1])),
 *   ...encodeFrame(new Uint8Array(100)), // over the cap of 10
 *   ...encodeFrame(new Uint8Array([2])),
 * ]);
 * const stream = new ReadableStream<Uint8Array>({
 *   start(controller) {
 *     controller.enqueue(wire);
 *     controller.close();
 *   },
 * });
 * const skipped: number[] = [];
 * const options: FrameReaderOptions = {
 *   maxFrameSize: 10,
 *   discardTooLongFrames: true,
 *   onDiscard: (size) => skipped.push(size),
 * };
 * const frames: number[] = [];
 * for await (const frame of new FrameReader(stream, options)) frames.push(frame[0]!);
 * assert.deepEqual(frames, [1, 2]);
 * assert.deepEqual(skipped, [100]);
 * ```
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
   * The buffer grows on demand: the reader starts with 4 KiB (or this size,
   * if smaller) and switches to the full size when a read fills the small
   * buffer or a frame does not fit it; once a read comes back short (the
   * peer had sent nothing more), the next read goes into 4 KiB again. So an
   * idle reader holds at most 4 KiB; the full-size buffer is then held only
   * weakly, reused if traffic resumes before the garbage collector takes it.
   *
   * A reader of chunks (a `ReadableStream`, a connection of
   * `tcpframe/node`) has no read buffer and ignores this option.
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
   * the CPU cost of receiving it) and for floods of small ones. The buffer
   * that large frames are read into is held weakly between frames, so a
   * reader that stops receiving them gives it back to the garbage collector.
   *
   * @default {false}
   */
  borrowFrames?: boolean;
  /**
   * Skip a frame whose length is over `maxFrameSize` instead of failing
   * (Netty's `discardingTooLongFrame`): its payload is read and dropped,
   * never buffered whole, `onDiscard` is told its length, and reading goes
   * on with the next frame. Without it such a frame fails the reader with
   * {@linkcode FrameTooLargeError}. A header that cannot describe a frame
   * ({@linkcode InvalidFrameError}) fails either way, and so does a stream
   * that ends inside a skipped frame ({@linkcode UnexpectedEofError}, with
   * an empty `partial`).
   *
   * @default {false}
   */
  discardTooLongFrames?: boolean;
  /**
   * With `discardTooLongFrames`, called with the announced payload length of
   * each frame skipped, as soon as its header is read. What it throws fails
   * the reader. Only valid with `discardTooLongFrames`.
   *
   * @default {undefined}
   */
  onDiscard?: ((size: number) => void) | undefined;
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
 * Reads length-prefixed frames from a {@linkcode Reader}, buffered, or from
 * a stream of chunks.
 *
 * - **Fast**: one `read` on the underlying reader serves every small frame
 *   it delivered; frames already buffered are handed out without waiting.
 * - **Chunks taken as they are**: over a `ReadableStream<Uint8Array>` (such
 *   as Deno's `conn.readable`) or a connection of `tcpframe/node`, frames
 *   are cut out of the chunks the source hands out, with no read buffer: a
 *   frame inside one chunk is a view of it, a frame split across chunks is
 *   copied once into its own buffer.
 * - **Bounded**: memory stays within `maxFrameSize` plus one read buffer; a
 *   hostile length gives {@linkcode FrameTooLargeError} before any
 *   allocation of that size. The read buffer grows on demand: an idle
 *   reader holds at most 4 KiB (see `readBufferSize`).
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
 * use `frame.byteOffset` and `frame.byteLength` with `frame.buffer`. A
 * frame cut out of a chunk is a view of that chunk, which nothing writes to
 * again: it is owned too, and keeps the chunk's whole buffer alive (64 KiB
 * per chunk of Deno's `conn.readable`; copy a small frame you keep for
 * long). With `borrowFrames: true` a frame is a view that is valid only
 * until the next read, and no buffer is allocated per frame.
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
 * `for await` loop early does not close the connection. A stream is locked
 * to the reader for good (Deno closes a connection whose `readable` was
 * read to its end).
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
 * @example Frames from a ReadableStream, such as Deno's conn.readable
 * ```ts
 * import { encodeFrame, FrameReader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const wire = new Uint8Array([
 *   ...encodeFrame(new Uint8Array([1, 2])),
 *   ...encodeFrame(new Uint8Array([3])),
 * ]);
 * // Chunks cut anywhere: a frame may span several of them.
 * const chunks = [wire.slice(0, 3), wire.slice(3, 7), wire.slice(7)];
 * const stream = new ReadableStream<Uint8Array>({
 *   pull(controller) {
 *     const chunk = chunks.shift();
 *     if (chunk === undefined) controller.close();
 *     else controller.enqueue(chunk);
 *   },
 * });
 * const frames: number[][] = [];
 * for await (const frame of new FrameReader(stream)) frames.push([...frame]);
 * assert.deepEqual(frames, [[1, 2], [3]]);
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
  readonly #shell: ReadShell;

  /**
   * Creates a frame reader.
   *
   * @param reader The byte stream: a {@linkcode Reader} such as a
   * `Deno.Conn` or a connection of `tcpframe/node`, or a
   * `ReadableStream<Uint8Array>` such as `conn.readable`, which it locks.
   * @param options The layout, the cap and the read buffer size.
   * @throws {TypeError} `reader` is neither a `Reader` nor a
   * `ReadableStream`, or the stream is locked.
   * @throws {TypeError | RangeError} An option is invalid.
   */
  constructor(
    reader: Reader | ReadableStream<Uint8Array>,
    options?: FrameReaderOptions,
  ) {
    const layout = layoutOf(options);
    const size = options?.readBufferSize ?? DEFAULT_READ_BUFFER_SIZE;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot use readBufferSize ${size}: expected a positive integer`,
      );
    }
    const source = readSource(reader, "FrameReader", true);
    const decoder = new LengthDecoder(layout, {
      borrow: options?.borrowFrames ?? false,
      bufferSize: isChunkSource(source) ? 0 : size,
      onDiscard: discardOf(options),
    });
    this.#shell = new ReadShell(source, decoder, "FrameReader");
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
    return this.#shell.read(options?.signal);
  }

  /**
   * Iterates over the frames until the stream ends cleanly; throws what
   * {@linkcode FrameReader.prototype.read} throws.
   *
   * @returns An async iterator of frames.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const shell = this.#shell;
    return {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        try {
          const frame = shell.ready(undefined);
          if (frame !== undefined) {
            return Promise.resolve({ done: false, value: frame });
          }
        } catch (error) {
          return Promise.reject(error);
        }
        return shell.wait(undefined).then((frame) =>
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
    const shell = this.#shell;
    try {
      const frame = shell.ready(signal);
      if (frame !== undefined) return Promise.resolve(shell.drain([frame]));
    } catch (error) {
      return Promise.reject(error);
    }
    return shell.wait(signal).then((frame) =>
      frame === null ? null : shell.drain([frame])
    );
  }
}
