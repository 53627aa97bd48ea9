// Where the frames are in the bytes a served session reads. The server's
// frame deadline and minimum receive rate need to know whether a frame is
// incomplete, how many of its bytes arrived, and how long the server has
// waited for them; this reader sits below the session's FrameReader, follows
// the frame headers as the bytes pass (with the same layout) and keeps no
// payload. Time counts only while a read is pending: a handler busy with an
// earlier frame does not make the peer late. It also counts the bytes read
// (the idle clock), and once the session is aborted turns the errors of the
// socket the server closed into the abort's reason.

import { type HeaderInfo, type Layout, layoutOf } from "./_layout.ts";
import type { FrameOptions } from "./frame_options.ts";
import type { Reader } from "./types.ts";

const NO_BYTES = new Uint8Array(0);

/** A {@linkcode Reader} that tracks the frame boundaries of what it reads. */
export class FrameClock implements Reader {
  /** Bytes read so far. */
  bytesRead = 0;
  readonly #inner: Reader;
  readonly #signal: AbortSignal;
  /** The buffer of the read in flight. */
  #target: Uint8Array = NO_BYTES;
  readonly #layout: Layout;
  /** The start of a header not yet complete. */
  readonly #head: Uint8Array;
  #headLength = 0;
  readonly #info: HeaderInfo = { headerLength: 0, payloadLength: 0 };
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  #inFrame = false;
  #frameBytes = 0;
  /** Milliseconds reads of the current frame waited, the pending one aside. */
  #waited = 0;
  /** When the pending read started, if it waits for the current frame. */
  #readStart = -1;
  /** A header the reader above will refuse: nothing more to follow. */
  #lost = false;
  #ended = false;

  constructor(inner: Reader, options: FrameOptions, signal: AbortSignal) {
    this.#inner = inner;
    this.#signal = signal;
    this.#layout = layoutOf(options);
    this.#head = new Uint8Array(this.#layout.offset + 16);
  }

  /** Whether the peer's end of stream was read. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes of the incomplete frame received so far; 0 between frames. */
  get frameBytes(): number {
    return this.#inFrame ? this.#frameBytes : 0;
  }

  /**
   * Milliseconds spent waiting for the bytes of the incomplete frame, up to
   * `now`; 0 between frames.
   */
  waited(now: number): number {
    if (!this.#inFrame) return 0;
    return this.#waited + (this.#readStart >= 0 ? now - this.#readStart : 0);
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#inFrame) this.#readStart = performance.now();
    this.#target = p;
    return this.#inner.read(p).then(this.#arrived, this.#failed);
  }

  // Bound once: no closure per read.
  readonly #arrived = (n: number | null): number | null => {
    this.#settle();
    const p = this.#target;
    this.#target = NO_BYTES;
    if (n === null) this.#ended = true;
    else if (n > 0) {
      this.bytesRead += n;
      if (!this.#lost) this.#scan(p, n);
    }
    return n;
  };

  readonly #failed = (error: unknown): never => {
    this.#settle();
    this.#target = NO_BYTES;
    throw this.#signal.aborted ? this.#signal.reason : error;
  };

  #settle(): void {
    if (this.#readStart >= 0) {
      this.#waited += performance.now() - this.#readStart;
      this.#readStart = -1;
    }
  }

  /** Follows the frames through `p[0..n)`. */
  #scan(p: Uint8Array, n: number): void {
    const layout = this.#layout;
    let i = 0;
    while (i < n) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, n - i);
        this.#remaining -= take;
        this.#frameBytes += take;
        i += take;
        if (this.#remaining === 0) this.#inFrame = false;
        continue;
      }
      if (!this.#inFrame) {
        this.#inFrame = true;
        this.#frameBytes = 0;
        this.#waited = 0;
      }
      let headerLength: number;
      let payloadLength: number;
      if (layout.isDefault && this.#headLength === 0 && n - i >= 4) {
        payloadLength = ((p[i]! << 24) | (p[i + 1]! << 16) |
          (p[i + 2]! << 8) | p[i + 3]!) >>> 0;
        headerLength = 4;
        if (payloadLength > layout.maxFrameSize) return this.#lose();
      } else {
        const head = this.#head;
        const take = Math.min(head.byteLength - this.#headLength, n - i);
        head.set(p.subarray(i, i + take), this.#headLength);
        let known: boolean;
        try {
          known = layout.parse(head, 0, this.#headLength + take, this.#info);
        } catch {
          return this.#lose();
        }
        if (!known) {
          if (take === 0) return this.#lose();
          this.#headLength += take;
          this.#frameBytes += take;
          i += take;
          continue;
        }
        headerLength = this.#info.headerLength;
        payloadLength = this.#info.payloadLength;
      }
      const used = headerLength - this.#headLength;
      this.#headLength = 0;
      this.#frameBytes += used;
      i += used;
      this.#remaining = payloadLength;
      if (payloadLength === 0) this.#inFrame = false;
    }
  }

  /** Stops following: the reader above fails on the same header. */
  #lose(): void {
    this.#lost = true;
    this.#inFrame = false;
  }
}
