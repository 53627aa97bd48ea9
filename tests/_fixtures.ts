// Scripted readers and writers shared by the runtime-neutral tests.
import assert from "node:assert/strict";
import { type Reader, TcpFrameError, type Writer } from "tcpframe";

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A reader over `data` that hands out at most `sizes[i]` bytes on its i-th
 * read (cycling through `sizes`), then `null`. Counts its calls.
 */
export class ChunkedReader implements Reader {
  readonly #data: Uint8Array;
  readonly #sizes: readonly number[];
  #offset = 0;
  /** How many times `read` was called. */
  calls = 0;
  /** The largest `p.byteLength` offered to `read`. */
  largestOffered = 0;

  constructor(data: Uint8Array, sizes: readonly number[] = [Infinity]) {
    this.#data = data;
    this.#sizes = sizes.length === 0 ? [Infinity] : sizes;
  }

  /** Bytes not yet handed out. */
  get remaining(): number {
    return this.#data.byteLength - this.#offset;
  }

  read(p: Uint8Array): Promise<number | null> {
    this.largestOffered = Math.max(this.largestOffered, p.byteLength);
    const size = this.#sizes[this.calls++ % this.#sizes.length]!;
    if (this.#offset >= this.#data.byteLength) return Promise.resolve(null);
    const n = Math.min(p.byteLength, size, this.remaining);
    p.set(this.#data.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }
}

/** A reader that plays a fixed script of results. */
export function scriptedReader(
  script: ReadonlyArray<Uint8Array | null | 0 | Error>,
): Reader & { calls: number } {
  let step = 0;
  return {
    calls: 0,
    read(p: Uint8Array): Promise<number | null> {
      this.calls++;
      const item = step < script.length ? script[step++] : null;
      if (item === null || item === undefined) return Promise.resolve(null);
      if (item === 0) return Promise.resolve(0);
      if (item instanceof Error) return Promise.reject(item);
      if (item.byteLength > p.byteLength) {
        throw new Error("script chunk larger than the read buffer");
      }
      p.set(item);
      return Promise.resolve(item.byteLength);
    },
  };
}

/**
 * A writer that takes at most `sizes[i]` bytes on its i-th write (cycling),
 * records every byte and every call.
 */
export class ShortWriter implements Writer {
  readonly #sizes: readonly number[];
  readonly #chunks: Uint8Array[] = [];
  /** The length of each buffer passed to `write`. */
  readonly offered: number[] = [];

  constructor(sizes: readonly number[] = [Infinity]) {
    this.#sizes = sizes.length === 0 ? [Infinity] : sizes;
  }

  /** How many times `write` was called. */
  get calls(): number {
    return this.offered.length;
  }

  /** Every byte accepted so far, in order. */
  bytes(): Uint8Array {
    return concat(this.#chunks);
  }

  write(p: Uint8Array): Promise<number> {
    const size = this.#sizes[this.offered.length % this.#sizes.length]!;
    this.offered.push(p.byteLength);
    const n = Math.min(p.byteLength, size);
    this.#chunks.push(p.slice(0, n));
    return Promise.resolve(n);
  }
}

/** A reader that never answers until its signal, for abort tests. */
export function silentReader(): Reader & { pending: number } {
  return {
    pending: 0,
    read(): Promise<number | null> {
      this.pending++;
      return new Promise(() => {});
    },
  };
}

/**
 * A reader whose reads are answered by hand: `deliver(bytes)` completes the
 * read in flight, `end()` answers it with end of stream. For abort tests.
 */
export class ManualReader implements Reader {
  #target: Uint8Array | null = null;
  #resolve: ((n: number | null) => void) | null = null;
  /** How many reads were started. */
  reads = 0;

  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    this.#target = p;
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  /** True while a read waits for an answer. */
  get waiting(): boolean {
    return this.#resolve !== null;
  }

  /** Answers the read in flight with up to `bytes.length` bytes; returns how many. */
  deliver(bytes: Uint8Array): number {
    const target = this.#target!;
    const resolve = this.#resolve!;
    const n = Math.min(bytes.byteLength, target.byteLength);
    target.set(bytes.subarray(0, n));
    this.#target = null;
    this.#resolve = null;
    resolve(n);
    return n;
  }

  /** Answers the read in flight with end of stream. */
  end(): void {
    const resolve = this.#resolve!;
    this.#target = null;
    this.#resolve = null;
    resolve(null);
  }
}

/** Lets pending promise callbacks run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Every chunk of `stream` (Array.fromAsync is missing from Node 20). */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

/** A pull-based stream of `chunks` (ReadableStream.from came in Node 20.6). */
export function streamOf<T>(chunks: Iterable<T>): ReadableStream<T> {
  const iterator = chunks[Symbol.iterator]();
  return new ReadableStream<T>({
    pull(controller) {
      const next = iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

/**
 * Calls `write` until it throws (at most 200 times, 1 ms apart, so the
 * peer's RST can arrive); returns the error, or `undefined` if none came.
 */
export async function writeUntilFailure(
  write: () => Promise<unknown>,
): Promise<unknown> {
  for (let i = 0; i < 200; i++) {
    try {
      await write();
    } catch (error) {
      return error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return undefined;
}

/** Asserts that writing to a dead connection failed the typed way. */
export function assertResetOrBrokenPipe(error: unknown): void {
  assert.ok(error instanceof TcpFrameError, `got ${String(error)}`);
  assert.ok(
    error.code === "CONNECTION_RESET" || error.code === "BROKEN_PIPE",
    error.code,
  );
}

/**
 * A writer whose writes complete by hand: each `write(p)` waits until
 * `release()` (taking up to `max` bytes, all by default) or `fail(error)`.
 * Records the bytes accepted and the size of every call.
 */
export class ManualWriter implements Writer {
  readonly #chunks: Uint8Array[] = [];
  readonly #waiting: {
    p: Uint8Array;
    resolve(n: number): void;
    reject(e: unknown): void;
  }[] = [];
  /** The length of each buffer passed to `write`. */
  readonly offered: number[] = [];
  /** The buffers passed to `write`, as given. */
  readonly buffers: Uint8Array[] = [];

  /** Writes waiting for `release()`. */
  get pending(): number {
    return this.#waiting.length;
  }

  /** Every byte accepted so far, in order. */
  bytes(): Uint8Array {
    return concat(this.#chunks);
  }

  write(p: Uint8Array): Promise<number> {
    this.offered.push(p.byteLength);
    this.buffers.push(p);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ p, resolve, reject });
    });
  }

  /** Completes the oldest waiting write with up to `max` bytes. */
  release(max = Infinity): void {
    const write = this.#waiting.shift();
    if (write === undefined) throw new Error("no write is waiting");
    const n = Math.min(max, write.p.byteLength);
    this.#chunks.push(write.p.slice(0, n));
    write.resolve(n);
  }

  /** Releases every write, including those that arrive meanwhile. */
  async drain(): Promise<void> {
    for (let i = 0; i < 1_000_000; i++) {
      if (this.#waiting.length === 0) {
        await tick();
        if (this.#waiting.length === 0) return;
      }
      this.release();
    }
    throw new Error("ManualWriter.drain(): writes never stopped coming");
  }

  /** Fails the oldest waiting write. */
  fail(error: unknown): void {
    const write = this.#waiting.shift();
    if (write === undefined) throw new Error("no write is waiting");
    write.reject(error);
  }
}

/** Decodes every default-layout frame in `bytes`; throws on a partial tail. */
export function decodeFrames(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) throw new Error(`partial header at ${at}`);
    const length = view.getUint32(at);
    if (at + 4 + length > bytes.byteLength) {
      throw new Error(`partial payload at ${at}: ${length} bytes announced`);
    }
    frames.push(bytes.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return frames;
}

/**
 * Runs `body` with a timer holding the event loop open: Node does not keep
 * a process alive for `AbortSignal.timeout()` alone, so a test awaiting
 * only such a signal would end before it fires.
 */
export async function keepingAlive<T>(body: () => Promise<T>): Promise<T> {
  const alive = setInterval(() => {}, 1000);
  try {
    return await body();
  } finally {
    clearInterval(alive);
  }
}
