// The length-prefixed decoder, written once for FrameReader and
// FrameDecoderStream: a pure state machine (header, then payload) with no
// I/O and no promises. Bytes come in one of two ways:
//
// - read mode (FrameReader over a Reader): the caller reads into `space()`,
//   then announces the count with `commit(n)`. Small frames are buffered,
//   many per read; a large frame is read straight into its own buffer.
//   The read buffer is small (4 KiB) while reads come back short, as they
//   do on a quiet connection, and grows to its full size when a read fills
//   it or a frame needs it.
// - chunk mode (FrameReader over chunks, FrameDecoderStream): the caller
//   hands over whole chunks with `push()`. A frame inside one chunk is cut
//   out of it; a frame split across chunks is assembled once.
//
// `next()` takes the next complete frame out; `end()` says that the input
// ended, and throws if it ended inside a frame.

import type { HeaderInfo, Layout } from "./_layout.ts";
import { FrameTooLargeError, UnexpectedEofError } from "./errors.ts";
import { SMALL_READ_BUFFER } from "./_read_shell.ts";
import { Slab } from "./_slab.ts";

const EMPTY = new Uint8Array(0);

/** The decoder's state: what the next input byte belongs to. */
const enum State {
  /** A header (and perhaps its whole frame) at `#src[#pos..)`. */
  Header,
  /** The rest of a header begun in an earlier chunk (`#carry`). */
  Carry,
  /** The payload of `#frame`, filled piece by piece. */
  Payload,
  /** The payload of a frame over the cap, skipped. */
  Skip,
}

/** What the last `space()` handed out, for `commit()`. */
const enum Target {
  Buffer,
  Frame,
}

/** How the decoder hands out frames and treats frames over the cap. */
export interface LengthDecoderOptions {
  /** Frames are views into reused storage, valid until the next `next()` call after more input. */
  borrow: boolean;
  /**
   * Read mode: the read buffer's size. Frames over half of it are read into
   * a buffer of their own. `0`: chunk mode.
   */
  bufferSize: number;
  /** Skip frames over the cap, calling this with each one's size; `null`: fail. */
  onDiscard: ((size: number) => void) | null;
}

/**
 * The `onDiscard` of `LengthDecoderOptions` from the public options:
 * `null` unless `discardTooLongFrames` is on.
 *
 * @throws {TypeError} A wrong type, or `onDiscard` without
 * `discardTooLongFrames`.
 */
export function discardOf(
  options: { discardTooLongFrames?: boolean; onDiscard?: unknown } | undefined,
): ((size: number) => void) | null {
  const discard = options?.discardTooLongFrames ?? false;
  const onDiscard = options?.onDiscard;
  if (typeof discard !== "boolean") {
    throw new TypeError(
      `Cannot use discardTooLongFrames: expected a boolean, got ${typeof discard}`,
    );
  }
  if (onDiscard !== undefined && typeof onDiscard !== "function") {
    throw new TypeError(
      `Cannot use onDiscard: expected a function, got ${typeof onDiscard}`,
    );
  }
  if (!discard) {
    if (onDiscard !== undefined) {
      throw new TypeError(
        "Cannot use onDiscard without discardTooLongFrames: no frame is ever discarded",
      );
    }
    return null;
  }
  return (onDiscard as ((size: number) => void) | undefined) ?? (() => {});
}

/** The length-prefixed state machine; see the top of this file. */
export class LengthDecoder {
  readonly #layout: Layout;
  readonly #info: HeaderInfo = { headerLength: 0, payloadLength: 0 };
  readonly #borrow: boolean;
  readonly #onDiscard: ((size: number) => void) | null;
  readonly #slab = new Slab();
  #state = State.Header;

  /** Input not decoded yet: `#src[#pos..#end)`. In read mode `#src` is `#buf`. */
  #src: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  /** `#src` is a chunk nobody writes again: frames may be views of it. */
  #owned = false;

  /** Chunk mode: the bytes of a header that a chunk ended inside. */
  #carry: Uint8Array = EMPTY;
  #carried = 0;

  /** The frame being filled (`State.Payload`). */
  #frame: Uint8Array = EMPTY;
  #filled = 0;
  /** Bytes at the front of `#frame` that are kept header bytes. */
  #kept = 0;
  /**
   * Borrow mode: the reusable home of frames filled piece by piece, held
   * weakly between frames: the garbage collector takes it from a reader
   * that stopped receiving large frames.
   */
  #store: WeakRef<Uint8Array> | null = null;
  /** A frame in `#store` was handed out since the last `reclaim()`. */
  #lent = false;

  /** `State.Skip`: the skipped frame's payload length, and what is left of it. */
  #skipSize = 0;
  #skipLeft = 0;

  /** Read mode, else chunk mode. */
  readonly #reading: boolean;
  /** Read mode: the read buffer in use, `#small` or the full-size one. */
  #buf: Uint8Array = EMPTY;
  #small: Uint8Array = EMPTY;
  /**
   * The full-size buffer, held weakly: strongly only while it is `#buf`, so
   * that the garbage collector takes it from a reader that stays quiet.
   */
  #full: WeakRef<Uint8Array> | null = null;
  readonly #bufferSize: number;
  /** Frames longer than this are read into their own buffer. */
  readonly #large: number;
  #target = Target.Buffer;
  /** The size of the last `space()`, and whether the read filled it. */
  #room = 0;
  #filledRoom = false;
  /** The frame waiting in the buffer, when its header is known: its size. */
  #need = 0;
  /** The last frame was large: read the next header on its own. */
  #afterLarge = false;

  constructor(layout: Layout, options: LengthDecoderOptions) {
    this.#layout = layout;
    this.#borrow = options.borrow;
    this.#onDiscard = options.onDiscard;
    this.#reading = options.bufferSize > 0;
    // Room for the longest possible header, whatever the caller chose.
    const room = layout.offset + 16;
    this.#bufferSize = Math.max(options.bufferSize, room);
    this.#large = this.#bufferSize >>> 1;
    if (this.#reading) {
      this.#small = new Uint8Array(
        Math.min(this.#bufferSize, Math.max(SMALL_READ_BUFFER, room)),
      );
      this.#buf = this.#src = this.#small;
    }
  }

  /**
   * The next complete frame, or `undefined` when more input is needed.
   * Throws `FrameTooLargeError` or `InvalidFrameError` for a header that
   * must not be followed; the decoder is then out of sync.
   */
  next(): Uint8Array | undefined {
    if (this.#state !== State.Header) return this.#continue();
    const src = this.#src;
    const pos = this.#pos;
    const available = this.#end - pos;
    const layout = this.#layout;
    let headerLength: number;
    let payloadLength: number;
    if (layout.isDefault) {
      if (available < 4) return this.#incomplete();
      payloadLength = ((src[pos]! << 24) | (src[pos + 1]! << 16) |
        (src[pos + 2]! << 8) | src[pos + 3]!) >>> 0;
      headerLength = 4;
    } else {
      if (!layout.parse(src, pos, this.#end, this.#info, Infinity)) {
        return this.#incomplete();
      }
      headerLength = this.#info.headerLength;
      payloadLength = this.#info.payloadLength;
    }
    if (payloadLength > layout.maxFrameSize) {
      this.#pos = pos + headerLength;
      this.#tooLarge(payloadLength);
      return this.#continue();
    }
    const total = headerLength + payloadLength;
    if (total > available) return this.#incomplete(headerLength, payloadLength);
    const from = pos + layout.stripFor(headerLength);
    const to = pos + total;
    const frame = this.#borrow || this.#owned
      ? new Uint8Array(src.buffer, src.byteOffset + from, to - from)
      : this.#slab.copy(src, from, to, this.#end);
    this.#pos = to;
    if (to === this.#end) this.#drained();
    return frame;
  }

  /**
   * Borrow mode: the frames handed out so far are no longer in use (the
   * caller reads on), so the store may be filled again. Until then a frame
   * filled piece by piece goes into a new store: a batch of frames holds
   * only one frame of each store.
   */
  reclaim(): void {
    this.#lent = false;
  }

  /** Chunk mode: hands over the next chunk; call once `next()` returned `undefined`. */
  push(chunk: Uint8Array, owned: boolean): void {
    this.#src = chunk;
    this.#pos = 0;
    this.#end = chunk.byteLength;
    this.#owned = owned;
    if (!owned) this.#slab.forget(); // perhaps a reused array
  }

  /**
   * Read mode: where the next read writes; call once `next()` returned
   * `undefined`. It stays valid until `commit()`.
   */
  space(): Uint8Array {
    if (this.#state === State.Payload) {
      this.#target = Target.Frame;
      this.#room = this.#frame.byteLength - this.#filled;
      return this.#frame.subarray(this.#filled);
    }
    this.#target = Target.Buffer;
    const live = this.#end - this.#pos;
    if (this.#buf === this.#small) {
      // A read that filled the small buffer came in a burst, and a frame
      // over half of it does not fit: the full-size buffer takes over.
      if (
        this.#small.byteLength < this.#bufferSize &&
        (this.#filledRoom || this.#need > this.#small.byteLength >>> 1)
      ) {
        this.#useFullSize();
      }
    } else if (live === 0 && (!this.#filledRoom || this.#afterLarge)) {
      // The last read came back short (the source had nothing more), or
      // only a header is read next: this read may wait, in a small buffer.
      this.rest();
    }
    const buf = this.#buf;
    if (this.#pos > 0 && this.#end > buf.byteLength >>> 1) {
      buf.copyWithin(0, this.#pos, this.#end);
      this.#end -= this.#pos;
      this.#pos = 0;
      this.#slab.forget();
    }
    // After a large frame, read only the next header: when the next frame
    // is large too, its payload then goes straight into its own buffer,
    // instead of filling the read buffer first and being copied from it.
    const headerEnd = this.#pos + this.#layout.minHeader;
    if (this.#afterLarge && headerEnd > this.#end) {
      this.#room = -1; // filling it says nothing about what else is there
      return buf.subarray(this.#end, headerEnd);
    }
    this.#afterLarge = false;
    this.#room = buf.byteLength - this.#end;
    return buf.subarray(this.#end);
  }

  /** Read mode: `n` bytes were written at the start of `space()`. */
  commit(n: number): void {
    this.#filledRoom = n === this.#room;
    this.#need = 0;
    if (this.#target === Target.Frame) this.#filled += n;
    else this.#end += n;
  }

  /**
   * The caller waits for input with nothing partial decoded: storage that
   * only the next frames might need is held weakly until then.
   */
  rest(): void {
    if (this.#state !== State.Header || this.#end > this.#pos) return;
    if (this.#reading && this.#buf !== this.#small) {
      this.#buf = this.#src = this.#small;
      this.#pos = this.#end = 0;
    }
    this.#slab.rest();
  }

  /** Read mode: moves what is buffered into the full-size buffer. */
  #useFullSize(): void {
    let full = this.#full?.deref();
    if (full === undefined) {
      full = new Uint8Array(this.#bufferSize);
      this.#full = new WeakRef(full);
    }
    full.set(this.#buf.subarray(this.#pos, this.#end));
    this.#end -= this.#pos;
    this.#pos = 0;
    this.#buf = this.#src = full;
    this.#slab.forget();
  }

  /**
   * The input ended. Throws `UnexpectedEofError` when it ended inside a
   * frame; call it once `next()` returned `undefined`.
   */
  end(): void {
    switch (this.#state) {
      case State.Payload:
        throw new UnexpectedEofError({
          bytesRead: this.#filled - this.#kept,
          expected: this.#frame.byteLength - this.#kept,
          partial: this.#frame.slice(this.#kept, this.#filled),
          what: "frame payload",
        });
      case State.Skip:
        throw new UnexpectedEofError({
          bytesRead: this.#skipSize - this.#skipLeft,
          expected: this.#skipSize,
          partial: EMPTY, // skipped, not kept
          what: "frame payload",
        });
      case State.Carry:
        throw this.#truncatedHeader(this.#carry, 0, this.#carried);
    }
    const available = this.#end - this.#pos;
    if (available === 0) return;
    // Read mode: the start of a frame is still in the read buffer.
    const buf = this.#src;
    if (!this.#layout.parse(buf, this.#pos, this.#end, this.#info, Infinity)) {
      throw this.#truncatedHeader(buf, this.#pos, this.#end);
    }
    const { headerLength, payloadLength } = this.#info;
    throw new UnexpectedEofError({
      bytesRead: available - headerLength,
      expected: payloadLength,
      partial: buf.slice(this.#pos + headerLength, this.#end),
      what: "frame payload",
    });
  }

  /** Every byte of `#src` was decoded. */
  #drained(): void {
    if (this.#reading) {
      this.#pos = this.#end = 0;
      this.#slab.forget();
    } else {
      this.#src = EMPTY; // not kept alive by the decoder
      this.#pos = this.#end = 0;
    }
  }

  /**
   * The frame at `#pos` is not complete in `#src`. In chunk mode it moves
   * into a buffer of its own (`#carry` for a partial header); in read mode
   * it stays in the read buffer, unless it is large.
   */
  #incomplete(headerLength = 0, payloadLength = 0): Uint8Array | undefined {
    if (this.#reading) {
      const total = headerLength + payloadLength;
      if (headerLength > 0 && total > this.#large) {
        this.#begin(this.#src, this.#pos, headerLength, payloadLength);
        this.#fill();
      } else {
        this.#need = total;
      }
      return undefined;
    }
    if (headerLength === 0) {
      const rest = this.#end - this.#pos;
      if (rest > 0) {
        if (this.#carry.byteLength === 0) {
          this.#carry = new Uint8Array(this.#layout.offset + 16);
        }
        this.#carry.set(this.#src.subarray(this.#pos, this.#end));
        this.#carried = rest;
        this.#state = State.Carry;
      }
      this.#drained();
      return undefined;
    }
    this.#begin(this.#src, this.#pos, headerLength, payloadLength);
    return this.#fill();
  }

  /** `next()` in a state other than `State.Header`. */
  #continue(): Uint8Array | undefined {
    for (;;) {
      switch (this.#state) {
        case State.Header:
          return this.next();
        case State.Payload:
          return this.#fill();
        case State.Skip:
          if (!this.#skip()) return undefined;
          continue;
        case State.Carry:
          if (!this.#completeHeader()) return undefined;
          continue;
      }
    }
  }

  /**
   * Starts filling a frame whose header is at `source[at..)`: its kept
   * header bytes go into a new buffer (or the borrow store), and `#pos`
   * moves past the header.
   */
  #begin(
    source: Uint8Array,
    at: number,
    headerLength: number,
    payloadLength: number,
  ): void {
    const strip = this.#layout.stripFor(headerLength);
    const kept = headerLength - strip;
    const size = kept + payloadLength;
    let frame: Uint8Array;
    if (this.#borrow) {
      let store = this.#store?.deref();
      if (store === undefined || this.#lent || store.byteLength < size) {
        store = new Uint8Array(size);
        this.#store = new WeakRef(store);
        this.#lent = false;
      }
      frame = store.subarray(0, size);
    } else {
      frame = new Uint8Array(size);
    }
    frame.set(source.subarray(at + strip, at + headerLength));
    this.#frame = frame;
    this.#filled = kept;
    this.#kept = kept;
    this.#state = State.Payload;
    if (source === this.#src) this.#pos = at + headerLength;
  }

  /** Copies what `#src` holds of the frame being filled; returns it once complete. */
  #fill(): Uint8Array | undefined {
    const frame = this.#frame;
    const n = Math.min(frame.byteLength - this.#filled, this.#end - this.#pos);
    if (n > 0) {
      frame.set(this.#src.subarray(this.#pos, this.#pos + n), this.#filled);
      this.#filled += n;
      this.#pos += n;
    }
    if (this.#pos === this.#end) this.#drained();
    if (this.#filled < frame.byteLength) return undefined;
    this.#frame = EMPTY;
    this.#state = State.Header;
    if (this.#reading) this.#afterLarge = true;
    this.#lent = this.#borrow;
    return frame;
  }

  /**
   * A header announced a frame over the cap: fail, or start skipping its
   * payload (the caller steps over the header).
   */
  #tooLarge(payloadLength: number): void {
    if (this.#onDiscard === null) {
      throw new FrameTooLargeError(payloadLength, this.#layout.maxFrameSize);
    }
    this.#skipSize = this.#skipLeft = payloadLength;
    this.#state = State.Skip;
    this.#onDiscard(payloadLength);
  }

  /** Skips what `#src` holds of a frame over the cap; true once it is all skipped. */
  #skip(): boolean {
    const n = Math.min(this.#skipLeft, this.#end - this.#pos);
    this.#skipLeft -= n;
    this.#pos += n;
    if (this.#pos === this.#end) this.#drained();
    if (this.#skipLeft > 0) return false;
    this.#state = State.Header;
    return true;
  }

  /** Chunk mode: completes a header begun in an earlier chunk; false if more is needed. */
  #completeHeader(): boolean {
    const carry = this.#carry;
    const before = this.#carried;
    const take = Math.min(carry.byteLength - before, this.#end - this.#pos);
    carry.set(this.#src.subarray(this.#pos, this.#pos + take), before);
    const info = this.#info;
    if (!this.#layout.parse(carry, 0, before + take, info, Infinity)) {
      this.#carried = before + take;
      this.#drained();
      return false;
    }
    this.#pos += info.headerLength - before;
    this.#carried = 0;
    this.#state = State.Header;
    const { headerLength, payloadLength } = info;
    if (payloadLength > this.#layout.maxFrameSize) {
      this.#tooLarge(payloadLength);
    } else {
      this.#begin(carry, 0, headerLength, payloadLength);
    }
    return true;
  }

  #truncatedHeader(
    buf: Uint8Array,
    from: number,
    to: number,
  ): UnexpectedEofError {
    const available = to - from;
    return new UnexpectedEofError({
      bytesRead: available,
      expected: this.#layout.varint
        ? Math.max(this.#layout.minHeader, available + 1)
        : this.#layout.minHeader,
      partial: buf.slice(from, to),
      what: "frame header",
    });
  }
}
