/**
 * {@linkcode FrameWriter}: the owner of a connection's write side. Frames
 * from any number of tasks are queued, batched into few writes, and sent
 * whole, in call order, with backpressure.
 *
 * @module
 */

import { batchBytesOf, encodeInto, encoderOf, frameSize } from "./_encode.ts";
import type { Layout } from "./_layout.ts";
import { writeFully } from "./_write_fully.ts";
import { writeLockOf } from "./_write_lock.ts";
import {
  AbortedError,
  ConnectionClosedError,
  normalizeError,
} from "./errors.ts";
import type { FrameOptions } from "./frame_options.ts";
import type { SignalOptions, Writer } from "./types.ts";

/**
 * What the high-water mark charges for each queued frame on top of its
 * bytes on the wire, so that a flood of empty frames fills the queue too.
 *
 * @example Empty frames count against the high-water mark
 * ```ts
 * import { FRAME_COST, FrameWriter } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const stalled = { write: () => new Promise<number>(() => {}) };
 * const writer = new FrameWriter(stalled, { highWaterMark: 10 * (4 + FRAME_COST) });
 * for (let i = 0; i < 10; i++) await writer.write(new Uint8Array(0));
 * assert.equal(writer.desiredSize, 0); // full: the next write() waits
 * writer.abort();
 * ```
 */
export const FRAME_COST = 32;

/** The default of {@linkcode FrameWriterOptions.highWaterMark}. */
const DEFAULT_HIGH_WATER_MARK = 128 * 1024;

/**
 * A fresh batch buffer when nothing is in flight holds at least this much:
 * enough for the frames written in the same tick, without reserving a whole
 * batch for one small frame.
 */
const FIRST_BATCH_BYTES = 4096;

/**
 * Options for {@linkcode FrameWriter}: the frame layout and the queue's
 * bounds.
 *
 * @example A DNS-style layout with a small queue
 * ```ts
 * import { FrameWriter, type FrameWriterOptions } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const out: Uint8Array[] = [];
 * const sink = { write: (p: Uint8Array) => (out.push(p.slice()), Promise.resolve(p.length)) };
 * const options: FrameWriterOptions = {
 *   lengthFieldLength: 2,
 *   maxFrameSize: 65_535,
 *   highWaterMark: 16 * 1024,
 *   maxBatchBytes: 8 * 1024,
 * };
 * const writer = new FrameWriter(sink, options);
 * await writer.write(new Uint8Array([1, 2, 3]));
 * await writer.flush();
 * assert.deepEqual(out, [new Uint8Array([0, 3, 1, 2, 3])]);
 * ```
 */
export interface FrameWriterOptions extends FrameOptions {
  /**
   * How many bytes may wait in the queue before `write()` makes its caller
   * wait: every frame not yet written counts its bytes on the wire plus
   * {@linkcode FRAME_COST}. A `write()` is accepted at once while the queue
   * holds less than this.
   *
   * @default {131072}
   */
  highWaterMark?: number;
  /**
   * The most bytes gathered into one `write` of the underlying writer. A
   * frame larger than this is not copied: its header goes at the end of a
   * batch and its payload follows as it is.
   *
   * @default {65536}
   */
  maxBatchBytes?: number;
}

/**
 * A batch ready to be written: whole frames, and possibly a large frame's
 * payload right behind its header at the end of `data`. The two are written
 * back to back under one turn of the writer's lock, so no frame is cut.
 */
interface Segment {
  data: Uint8Array;
  tail: Uint8Array | undefined;
  /** The high-water-mark charge of the frames in it. */
  cost: number;
  /** How many frames it completes. */
  frames: number;
}

/** A `write()` waiting for room, or a `flush()` queued behind such writes. */
interface Waiter {
  payload: Uint8Array | undefined;
  size: number;
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A `flush()` waiting for the frames accepted before it. */
interface Flusher {
  target: number;
  resolve(): void;
  reject(reason: unknown): void;
}

type State = "open" | "closing" | "closed" | "errored";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The write side of a connection, owned: the twin of
 * {@linkcode FrameReader}. Any number of tasks may call
 * {@linkcode FrameWriter.prototype.write} at once; frames go out whole, in
 * call order, batched into as few writes as the connection allows (group
 * commit), with a bounded queue.
 *
 * - **No added latency.** When nothing is in flight, a frame goes out at
 *   once (in the same tick, with the frames written in that tick). Every
 *   frame queued while a write is in flight goes out in the next write, up
 *   to `maxBatchBytes`. No timers.
 * - **Backpressure.** `write()` resolves once the frame is accepted: at once
 *   while the queue is under `highWaterMark`, otherwise once it drained
 *   below it. So `for (...) await writer.write(frame)` both batches and
 *   never queues more than the high-water mark (plus one frame). The queue
 *   counts each frame's wire bytes plus {@linkcode FRAME_COST}, so no stream
 *   of frames, empty ones included, grows it past the mark. `desiredSize`
 *   and `ready` work as on a WHATWG `WritableStreamDefaultWriter`.
 * - **Aborts never cut a frame.** A `write()` whose signal aborts while it
 *   waits for room rejects with `signal.reason`, leaves the queue and is
 *   never sent. A `write()` that resolved is committed: it is sent whole
 *   unless the connection fails. {@linkcode FrameWriter.prototype.abort}
 *   drops the frames not yet handed to the writer; a batch already handed
 *   over is finished, so the wire stays in sync.
 * - **Sticky, typed errors.** When the underlying writer fails, every frame
 *   not yet written is dropped and every waiting and later call rejects
 *   with the same {@linkcode TcpFrameError}. `flush()` resolving means the
 *   frames were written.
 *
 * Memory: the queue holds at most `highWaterMark` plus one frame (up to
 * `maxFrameSize` and its header) plus two batch buffers of `maxBatchBytes`;
 * an idle writer holds no buffer. Frames up to `maxBatchBytes` are copied
 * at `write()`, so their payload may be reused at once; a larger payload is
 * held by reference until written: do not modify it before `flush()`.
 *
 * It shares the writer's turn-taking with {@linkcode writeFrame},
 * {@linkcode writeAll} and the other plain writes, so they can be mixed on
 * one connection without interleaving.
 *
 * @example Many tasks, one connection
 * ```ts
 * import { FrameReader, FrameWriter } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await listener.accept();
 *
 * const writer = new FrameWriter(client);
 * const text = new TextEncoder();
 * await Promise.all(
 *   ["a", "b", "c"].map(async (task) => {
 *     for (let i = 0; i < 3; i++) await writer.write(text.encode(`${task}${i}`));
 *   }),
 * );
 * await writer.close(); // flush, then half-close
 *
 * const got: string[] = [];
 * for await (const frame of new FrameReader(server)) got.push(new TextDecoder().decode(frame));
 * assert.equal(got.length, 9);
 * assert.deepEqual(got.filter((s) => s.startsWith("b")), ["b0", "b1", "b2"]);
 * client.close();
 * server.close();
 * listener.close();
 * ```
 */
export class FrameWriter {
  readonly #writer: Writer & { closeWrite?(): Promise<void> };
  readonly #layout: Layout;
  readonly #highWaterMark: number;
  readonly #batchBytes: number;
  #state: State = "open";
  #error: unknown;
  /** Charge of the frames accepted and not yet written. */
  #queued = 0;
  /** Frames accepted so far, and frames written so far. */
  #accepted = 0;
  #written = 0;
  /** Batches ready to write, oldest first. */
  #segments: Segment[] = [];
  /** The batch being filled, and what it holds. */
  #fill: Uint8Array | undefined;
  #fillUsed = 0;
  #fillCost = 0;
  #fillFrames = 0;
  /** A written batch's buffer, kept for the next batch while busy. */
  #spare: Uint8Array | undefined;
  /** The pump is scheduled or running. */
  #pumping = false;
  /** A batch is in the writer's hands. */
  #inFlight = false;
  readonly #waiters: Waiter[] = [];
  readonly #flushers: Flusher[] = [];
  /** `ready` while the queue is full. */
  #ready:
    | { promise: Promise<void>; resolve(): void; reject(e: unknown): void }
    | undefined;
  #closing: Promise<void> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  /** Waiting for the batch in flight to finish, after `abort()`. */
  #quiet: (() => void)[] = [];

  /**
   * Creates a writer that owns the write side of `writer`.
   *
   * @param writer Where frames go: a `Deno.Conn`, a Node adapter `Conn`, any
   * {@linkcode Writer}; `close()` calls its `closeWrite()` where it has one.
   * @param options The layout, the cap, the high-water mark and the batch
   * size.
   * @throws {TypeError} The layout is decode-only or invalid.
   * @throws {RangeError} An option is out of range.
   */
  constructor(
    writer: Writer & { closeWrite?(): Promise<void> },
    options: FrameWriterOptions = {},
  ) {
    if (
      typeof writer !== "object" || writer === null ||
      typeof writer.write !== "function"
    ) {
      throw new TypeError("Cannot create FrameWriter: expected a Writer");
    }
    this.#writer = writer;
    this.#layout = encoderOf(options);
    this.#batchBytes = batchBytesOf(options.maxBatchBytes);
    const mark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!Number.isSafeInteger(mark) || mark < 1) {
      throw new RangeError(
        `Cannot use highWaterMark ${mark}: expected a positive integer`,
      );
    }
    this.#highWaterMark = mark;
  }

  /**
   * How many more bytes the queue takes before `write()` waits:
   * `highWaterMark` minus what is queued (negative when over it), `0` once
   * closing, `null` once errored (as on a WHATWG writer).
   */
  get desiredSize(): number | null {
    if (this.#state === "errored") return null;
    if (this.#state !== "open") return 0;
    return this.#highWaterMark - this.#queued;
  }

  /**
   * Resolves when the queue has room (`desiredSize > 0`); rejects with the
   * writer's error once it failed or was aborted.
   */
  get ready(): Promise<void> {
    if (this.#state === "errored") return Promise.reject(this.#error);
    if (this.#state !== "open" || this.#hasRoom()) return RESOLVED;
    if (this.#ready === undefined) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#ready = { promise, resolve, reject };
    }
    return this.#ready.promise;
  }

  /**
   * The writer as a WHATWG `WritableStream` of payloads, for
   * `readable.pipeTo(writer.writable)`: each chunk is one frame, errors are
   * the same typed errors as `write()`'s (a runtime's own `conn.writable`
   * rejects with that runtime's errors), closing the stream is `close()`,
   * aborting it is `abort()`. The stream's own queue holds one chunk; the
   * writer's high-water mark bounds the rest. Each access returns the same
   * stream.
   *
   * @example Pipe a stream of payloads into a connection
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const out: number[] = [];
   * const conn = {
   *   write: (p: Uint8Array) => (out.push(...p), Promise.resolve(p.length)),
   *   closeWrite: () => Promise.resolve(),
   * };
   * const payloads = ReadableStream.from([new Uint8Array([1]), new Uint8Array([2, 3])]);
   * await payloads.pipeTo(new FrameWriter(conn).writable);
   * assert.deepEqual(out, [0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 3]);
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (payload) => this.write(payload),
      close: () => this.close(),
      abort: async (reason) => {
        await this.abort(reason);
      },
    });
    return this.#writable;
  }

  /**
   * How many frames were handed whole to the underlying writer so far
   * (each one's `write` resolved): what a peer can have received.
   *
   * @example Count what went out
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };
   * const writer = new FrameWriter(sink);
   * await writer.write(new Uint8Array(1));
   * await writer.write(new Uint8Array(2));
   * await writer.flush();
   * assert.equal(writer.framesWritten, 2);
   * ```
   */
  get framesWritten(): number {
    return this.#written;
  }

  /** Bytes charged to the queue: frames accepted and not yet written. */
  get bufferedAmount(): number {
    return this.#queued;
  }

  /**
   * Queues one frame. Resolves once the frame is accepted: at once while the
   * queue is under the high-water mark, otherwise once it drained below it
   * (frames are accepted in call order). An accepted frame is sent whole
   * unless the connection fails.
   *
   * @param payload The frame's payload; up to `maxBatchBytes` it is copied
   * at once, a larger one must not be modified until `flush()` resolved.
   * @param options A signal: an abort while the frame waits for room
   * rejects with `signal.reason`, and the frame is never sent.
   * @returns A promise that resolves once the frame is accepted.
   * @throws {RangeError} The payload is over `maxFrameSize` or does not fit
   * the length field; nothing is queued.
   * @throws {TypeError} The payload is not a `Uint8Array`.
   * @throws {ConnectionClosedError} `close()` was called.
   * @throws {TcpFrameError} The writer failed earlier (sticky), or the
   * reason given to `abort()`.
   *
   * @example Backpressure: a writer that never drains
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const stalled = { write: () => new Promise<number>(() => {}) };
   * const writer = new FrameWriter(stalled, { highWaterMark: 1024 });
   * await writer.write(new Uint8Array(1000)); // accepted: the queue was empty
   * await assert.rejects(
   *   writer.write(new Uint8Array(1000), { signal: AbortSignal.timeout(20) }),
   *   { name: "TimeoutError" }, // never accepted, so never sent
   * );
   * writer.abort();
   * ```
   */
  write(payload: Uint8Array, options?: SignalOptions): Promise<void> {
    if (this.#state !== "open") return Promise.reject(this.#refusal("write"));
    let size: number;
    try {
      size = frameSize(this.#layout, payload);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#queued < this.#highWaterMark) {
      this.#enqueue(payload, size);
      return RESOLVED;
    }
    return this.#wait(payload, size, signal);
  }

  /**
   * Resolves once every frame whose `write()` was called before this call is
   * written to the underlying writer (or rejects with the writer's error).
   *
   * @param options A signal: an abort rejects the flush with
   * `signal.reason`; the frames still go out.
   * @returns A promise that resolves once those frames are written.
   * @throws {TcpFrameError} The writer failed (sticky), or `abort()`'s reason.
   *
   * @example Flush before a reply is expected
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * let bytes = 0;
   * const sink = { write: (p: Uint8Array) => ((bytes += p.length), Promise.resolve(p.length)) };
   * const writer = new FrameWriter(sink);
   * await writer.write(new Uint8Array(10));
   * await writer.flush();
   * assert.equal(bytes, 14);
   * ```
   */
  flush(options?: SignalOptions): Promise<void> {
    if (this.#state === "errored") return Promise.reject(this.#error);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length > 0) return this.#wait(undefined, 0, signal);
    return this.#flushAccepted(signal);
  }

  /**
   * Flushes, then half-closes the connection (`closeWrite()`, where the
   * writer has it). Later `write()` calls reject with
   * {@linkcode ConnectionClosedError}; calling `close()` again returns the
   * same promise.
   *
   * @param options A signal for the flush; on abort the writer stays
   * closed for writes and the half-close is not sent.
   * @returns A promise that resolves once the FIN is queued.
   * @throws {TcpFrameError} The writer failed, or `abort()`'s reason.
   *
   * @example Close sends what is queued, then FIN
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const events: string[] = [];
   * const conn = {
   *   write: (p: Uint8Array) => (events.push(`write ${p.length}`), Promise.resolve(p.length)),
   *   closeWrite: () => (events.push("closeWrite"), Promise.resolve()),
   * };
   * const writer = new FrameWriter(conn);
   * await writer.write(new Uint8Array(2));
   * await writer.close();
   * assert.deepEqual(events, ["write 6", "closeWrite"]);
   * await assert.rejects(writer.write(new Uint8Array(1)), { code: "CONNECTION_CLOSED" });
   * ```
   */
  close(options?: SignalOptions): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === "errored") return Promise.reject(this.#error);
    const flushed = this.flush(options);
    this.#state = "closing";
    this.#closing = (async () => {
      await flushed;
      const writer = this.#writer;
      if (typeof writer.closeWrite === "function") {
        const lock = writeLockOf(writer);
        if (!lock.tryAcquire()) await lock.acquire(undefined);
        try {
          await writer.closeWrite();
        } catch (error) {
          throw this.#fail(normalizeError(error));
        } finally {
          lock.release();
        }
      }
      if (this.#state === "closing") this.#state = "closed";
    })();
    return this.#closing;
  }

  /**
   * Stops the writer: frames not yet handed to the underlying writer are
   * dropped, and every waiting and later call rejects with `reason`. A batch
   * already handed over is finished (no frame is cut); the promise resolves
   * once it is. The connection itself stays open: close it, or keep using
   * it with other writers.
   *
   * @param reason Why; the default is an {@linkcode AbortedError}.
   * @returns A promise that resolves once nothing is in flight.
   *
   * @example Drop what is queued behind a stalled write
   * ```ts
   * import { FrameWriter } from "@tcpframe/tcpframe";
   * import assert from "node:assert/strict";
   *
   * const stalled = { write: () => new Promise<number>(() => {}) };
   * const writer = new FrameWriter(stalled);
   * await writer.write(new Uint8Array(8));
   * writer.abort(new Error("shutting down"));
   * await assert.rejects(writer.flush(), { message: "shutting down" });
   * ```
   */
  abort(reason?: unknown): Promise<void> {
    if (this.#state !== "errored") {
      this.#fail(reason ?? new AbortedError("FrameWriter aborted"));
    }
    if (!this.#inFlight) return RESOLVED;
    return new Promise<void>((resolve) => this.#quiet.push(resolve));
  }

  /** Read through a method: the state changes across awaits. */
  #errored(): boolean {
    return this.#state === "errored";
  }

  #hasRoom(): boolean {
    return this.#state === "open" && this.#waiters.length === 0 &&
      this.#queued < this.#highWaterMark;
  }

  #refusal(what: string): unknown {
    if (this.#state === "errored") return this.#error;
    return new ConnectionClosedError(
      `Cannot ${what}: the FrameWriter was closed`,
    );
  }

  /** Queues a `write()` (payload) or a `flush()` (no payload) for room. */
  #wait(
    payload: Uint8Array | undefined,
    size: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        payload,
        size,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal.reason);
          this.#admit(); // a flush behind it may now be admitted
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Accepts waiting writes, in order, while the queue has room. */
  #admit(): void {
    const waiters = this.#waiters;
    while (waiters.length > 0) {
      const waiter = waiters[0]!;
      if (waiter.payload !== undefined && this.#queued >= this.#highWaterMark) {
        break;
      }
      waiters.shift();
      if (waiter.onAbort !== undefined) {
        waiter.signal!.removeEventListener("abort", waiter.onAbort);
      }
      if (waiter.payload === undefined) {
        this.#flushAccepted(waiter.signal).then(waiter.resolve, waiter.reject);
      } else {
        this.#enqueue(waiter.payload, waiter.size);
        waiter.resolve();
      }
    }
    if (this.#ready !== undefined && this.#hasRoom()) {
      this.#ready.resolve();
      this.#ready = undefined;
    }
  }

  #flushAccepted(signal: AbortSignal | undefined): Promise<void> {
    const target = this.#accepted;
    if (this.#written >= target) return RESOLVED;
    const flushed = new Promise<void>((resolve, reject) => {
      this.#flushers.push({ target, resolve, reject });
    });
    if (signal === undefined) return flushed;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      flushed.then(resolve, reject).finally(() =>
        signal.removeEventListener("abort", onAbort)
      );
    });
  }

  /** Adds an accepted frame to the batch being filled. */
  #enqueue(payload: Uint8Array, size: number): void {
    const cost = size + FRAME_COST;
    this.#queued += cost;
    this.#accepted++;
    if (size <= this.#batchBytes) {
      if (
        this.#fill === undefined ||
        this.#fillUsed + size > this.#fill.byteLength
      ) {
        this.#closeFill(undefined);
        this.#fill = this.#buffer(size);
      }
      this.#fillUsed += encodeInto(
        this.#layout,
        this.#fill,
        this.#fillUsed,
        payload,
      );
      this.#fillCost += cost;
      this.#fillFrames++;
    } else {
      // The header ends the current batch; the payload follows uncopied.
      const headerLength = size - payload.byteLength;
      if (
        this.#fill === undefined ||
        this.#fillUsed + headerLength > this.#fill.byteLength
      ) {
        this.#closeFill(undefined);
        this.#fill = new Uint8Array(headerLength);
      }
      this.#fillUsed += this.#layout.writeHeader(
        this.#fill,
        this.#fillUsed,
        payload.byteLength,
      );
      this.#fillCost += cost;
      this.#fillFrames++;
      this.#closeFill(payload);
    }
    if (!this.#pumping) {
      this.#pumping = true;
      queueMicrotask(() => this.#pump());
    }
  }

  /** A buffer for a new batch holding at least `size` bytes. */
  #buffer(size: number): Uint8Array {
    const spare = this.#spare;
    if (spare !== undefined && spare.byteLength >= size) {
      this.#spare = undefined;
      return spare;
    }
    // Behind a write in flight, more frames will follow: take a whole
    // batch. Otherwise the frames of this tick only.
    const want = this.#inFlight ? this.#batchBytes : FIRST_BATCH_BYTES;
    return new Uint8Array(Math.max(size, Math.min(want, this.#batchBytes)));
  }

  /** Moves the batch being filled to the segments, with a payload behind it. */
  #closeFill(tail: Uint8Array | undefined): void {
    if (this.#fill === undefined || this.#fillFrames === 0) return;
    this.#segments.push({
      data: this.#fill.subarray(0, this.#fillUsed),
      tail,
      cost: this.#fillCost,
      frames: this.#fillFrames,
    });
    this.#fill = undefined;
    this.#fillUsed = 0;
    this.#fillCost = 0;
    this.#fillFrames = 0;
  }

  /** Writes segments until none is left; one pump runs at a time. */
  async #pump(): Promise<void> {
    const writer = this.#writer;
    const lock = writeLockOf(writer);
    try {
      for (;;) {
        if (this.#segments.length === 0) this.#closeFill(undefined);
        const segment = this.#segments.shift();
        if (segment === undefined || this.#state === "errored") break;
        if (!lock.tryAcquire()) await lock.acquire(undefined);
        if (this.#errored()) {
          lock.release();
          break;
        }
        this.#inFlight = true;
        try {
          await writeFully(writer, segment.data);
          if (segment.tail !== undefined) {
            await writeFully(writer, segment.tail);
          }
        } finally {
          lock.release();
          this.#inFlight = false;
        }
        if (this.#errored()) break;
        this.#queued -= segment.cost;
        this.#written += segment.frames;
        if (segment.data.byteOffset === 0 && this.#spare === undefined) {
          this.#spare = new Uint8Array(segment.data.buffer);
        }
        const flushers = this.#flushers;
        while (flushers.length > 0 && flushers[0]!.target <= this.#written) {
          flushers.shift()!.resolve();
        }
        this.#admit();
      }
    } catch (error) {
      this.#fail(normalizeError(error));
    } finally {
      this.#pumping = false;
      this.#spare = undefined; // an idle writer holds no buffer
      for (const resolve of this.#quiet.splice(0)) resolve();
    }
  }

  /** Makes `error` sticky, drops the queue, rejects everyone waiting. */
  #fail(error: unknown): unknown {
    if (this.#state === "errored") return this.#error;
    this.#state = "errored";
    this.#error = error;
    this.#segments = [];
    this.#fill = undefined;
    this.#fillUsed = this.#fillCost = this.#fillFrames = 0;
    this.#queued = 0;
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.onAbort !== undefined) {
        waiter.signal!.removeEventListener("abort", waiter.onAbort);
      }
      waiter.reject(error);
    }
    for (const flusher of this.#flushers.splice(0)) flusher.reject(error);
    if (this.#ready !== undefined) {
      this.#ready.promise.catch(() => {});
      this.#ready.reject(error);
      this.#ready = undefined;
    }
    return error;
  }
}
