// The I/O half of the buffered readers, written once for FrameReader and
// DelimitedReader (the decoding is their decoder's):
//
// - one read in flight at a time; a call aborted by its signal leaves it in
//   flight, and the next call picks up its result, so no byte is lost;
// - the reader's answers checked (a count within the buffer it was given,
//   a bounded number of zero-byte reads);
// - after an error other than an abort, every later call throws it (the
//   stream is out of sync);
// - a second call while one is pending is refused;
// - a frame that is already decodable is returned without waiting.

import { abortable, isAbortReason } from "./_abort.ts";
import {
  type ChunkSource,
  isChunkSource,
  isReadableStream,
  streamSource,
  takeChunk,
} from "./_chunk_source.ts";
import { NoProgressError, normalizeError } from "./errors.ts";
import type { Reader } from "./types.ts";

/**
 * How many reads in a row may return 0 bytes before reading gives up with
 * {@linkcode NoProgressError} (Go's `io` uses the same bound).
 *
 * @example The bound on zero-byte reads
 * ```ts
 * import { MAX_CONSECUTIVE_EMPTY_READS, NoProgressError, readExact } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const stuck = { read: () => (calls++, Promise.resolve(0)) };
 * await assert.rejects(readExact(stuck, 1), NoProgressError);
 * assert.equal(calls, MAX_CONSECUTIVE_EMPTY_READS);
 * ```
 */
export const MAX_CONSECUTIVE_EMPTY_READS = 100;

/**
 * The size of the read buffer of a reader whose reads come back short (a
 * quiet connection), and so of an idle reader's buffer; a read that fills
 * it switches the reader to its full-size buffer.
 */
export const SMALL_READ_BUFFER = 4096;

/**
 * Checks what a reader resolved to for a buffer of `room` bytes: a count
 * from 0 to `room`, or `null`.
 *
 * @throws {RangeError} Anything else: the reader broke its contract.
 */
export function checkCount(n: unknown, room: number): number | null {
  if (n === null) return null;
  if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= room) {
    return n;
  }
  throw new RangeError(
    `Cannot read: reader returned ${n} for a ${room}-byte buffer`,
  );
}

/**
 * Counts a zero-byte read: the new number of them in a row.
 *
 * @throws {NoProgressError} That makes {@linkcode MAX_CONSECUTIVE_EMPTY_READS}.
 */
export function countEmptyRead(emptyReads: number): number {
  if (++emptyReads >= MAX_CONSECUTIVE_EMPTY_READS) {
    throw new NoProgressError(emptyReads);
  }
  return emptyReads;
}

/** What the shell drives: a decoder fed by reads, or by chunks. */
export interface ShellDecoder {
  /** The next complete frame, or `undefined` when more input is needed. */
  next(): Uint8Array | undefined;
  /** Where the next read writes (read mode). */
  space(): Uint8Array;
  /** `n` bytes were written at the start of `space()` (read mode). */
  commit(n: number): void;
  /** The next chunk, which nobody writes again (chunk mode). */
  push?(chunk: Uint8Array, owned: true): void;
  /** Earlier frames are no longer in use: a new read began. */
  reclaim?(): void;
  /** The next chunk has to be waited for (chunk mode). */
  rest?(): void;
  /** The input ended; throws if it ended inside a frame. */
  end(): void;
}

/**
 * What a reader was given, checked: a `Reader`, or, where `chunks` is true,
 * also a connection that hands out its chunks or a `ReadableStream` (locked
 * at once).
 *
 * @throws {TypeError} None of those, or a locked stream.
 */
export function readSource(
  input: unknown,
  name: string,
  chunks: boolean,
): Reader | ChunkSource {
  if (chunks && isChunkSource(input)) return input;
  if (typeof (input as Partial<Reader>)?.read === "function") {
    return input as Reader;
  }
  if (chunks && isReadableStream(input)) return streamSource(input);
  throw new TypeError(
    `Cannot create ${name}: expected a Reader${
      chunks ? " or a ReadableStream" : ""
    }, got ${input === null ? "null" : typeof input}`,
  );
}

/** Reads frames from a {@linkcode Reader} or a chunk source through a decoder. */
export class ReadShell {
  readonly #name: string;
  readonly #decoder: ShellDecoder;
  readonly #reader: Reader | null = null;
  readonly #chunks: ChunkSource | null = null;
  /** The read in flight: a count (read mode) or a chunk (chunk mode). */
  #pending: Promise<unknown> | null = null;
  /** The size of the buffer handed to the read in flight. */
  #room = 0;
  #eof = false;
  #error: { reason: unknown } | undefined;
  #busy = false;
  #emptyReads = 0;

  /**
   * @param source Where the bytes come from: a chunk source is read by
   * chunks when the decoder takes them (`push`), otherwise through `read`.
   * @param decoder What turns the bytes into frames.
   * @param name The reader's class name, for messages.
   */
  constructor(
    source: Reader | ChunkSource,
    decoder: ShellDecoder,
    name: string,
  ) {
    this.#name = name;
    this.#decoder = decoder;
    if (decoder.push !== undefined && isChunkSource(source)) {
      this.#chunks = source;
    } else {
      this.#reader = source as Reader;
    }
  }

  /**
   * The checks every read starts with, and its fast path: the next frame if
   * it can be decoded without waiting, `undefined` if the read must wait.
   * Throws for a concurrent read, an aborted signal, a sticky error or a
   * bad frame.
   */
  ready(signal: AbortSignal | undefined): Uint8Array | undefined {
    if (this.#busy) {
      throw new TypeError(
        `Cannot read: another read() on this ${this.#name} is still pending`,
      );
    }
    if (signal?.aborted) throw signal.reason;
    if (this.#error !== undefined) throw this.#error.reason;
    if (this.#pending !== null) return undefined;
    this.#decoder.reclaim?.();
    return this.#take();
  }

  /** Appends every frame that can be decoded without waiting to `batch`. */
  drain(batch: Uint8Array[]): Uint8Array[] {
    while (this.#error === undefined && this.#pending === null) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#take();
      } catch {
        break; // sticky: the next read throws it
      }
      if (frame === undefined) break;
      batch.push(frame);
    }
    return batch;
  }

  /** A read that could not be served at once: waits for input. */
  async wait(signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    this.#busy = true;
    try {
      for (;;) {
        if (this.#pending === null) {
          const frame = this.#decoder.next();
          if (frame !== undefined) return frame;
          if (this.#eof) {
            this.#decoder.end();
            return null;
          }
          this.#start();
          if (this.#pending === null) continue; // a chunk was there
        }
        await this.#settle(signal);
      }
    } catch (error) {
      if (!isAbortReason(error, signal)) this.#error = { reason: error };
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  /** `ready()` and `wait()` in one: the next frame, or `null` at the end. */
  read(signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    try {
      const frame = this.ready(signal);
      if (frame !== undefined) return Promise.resolve(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.wait(signal);
  }

  /**
   * Decodes the next frame from what is there, taking chunks the source
   * already holds; records a decoding error as sticky.
   */
  #take(): Uint8Array | undefined {
    try {
      let frame = this.#decoder.next();
      const chunks = this.#chunks;
      while (frame === undefined && chunks !== null && !this.#eof) {
        const chunk = chunks[takeChunk](false);
        if (chunk === undefined) break;
        this.#accept(chunk as Uint8Array | null);
        frame = this.#decoder.next();
      }
      return frame;
    } catch (error) {
      this.#error = { reason: error };
      throw error;
    }
  }

  /** Starts a read, or takes a chunk that is already there. */
  #start(): void {
    const chunks = this.#chunks;
    if (chunks !== null) {
      let chunk: Uint8Array | null | undefined | Promise<Uint8Array | null>;
      try {
        chunk = chunks[takeChunk](true);
      } catch (error) {
        throw normalizeError(error);
      }
      if (chunk instanceof Promise) {
        this.#pending = chunk;
        this.#decoder.rest?.(); // the read waits
      } else {
        this.#accept(chunk ?? null);
      }
      return;
    }
    const target = this.#decoder.space();
    try {
      this.#pending = this.#reader!.read(target);
    } catch (error) {
      this.#pending = Promise.reject(error);
    }
    this.#room = target.byteLength;
  }

  /** Waits for the read in flight and applies its result. */
  async #settle(signal: AbortSignal | undefined): Promise<void> {
    let result: unknown;
    try {
      result = await abortable(this.#pending!, signal);
    } catch (error) {
      if (isAbortReason(error, signal)) throw error; // the read stays in flight
      this.#pending = null;
      throw normalizeError(error);
    }
    this.#pending = null;
    if (this.#chunks !== null) {
      this.#accept(result as Uint8Array | null);
      return;
    }
    const n = checkCount(result, this.#room);
    if (n === null) {
      this.#eof = true;
    } else if (n === 0) {
      this.#emptyReads = countEmptyRead(this.#emptyReads);
    } else {
      this.#emptyReads = 0;
      this.#decoder.commit(n);
    }
  }

  /** Hands a chunk (or the end) to the decoder. */
  #accept(chunk: Uint8Array | null): void {
    if (chunk === null) {
      this.#eof = true;
    } else if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot read: expected Uint8Array chunks, got ${typeof chunk}`,
      );
    } else if (chunk.byteLength === 0) {
      this.#emptyReads = countEmptyRead(this.#emptyReads);
    } else {
      this.#emptyReads = 0;
      this.#decoder.push!(chunk, true);
    }
  }
}
