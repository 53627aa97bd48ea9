// Owned copies of small frames without one ArrayBuffer each.
//
// `Uint8Array.prototype.slice` allocates a new ArrayBuffer per call, which
// costs about three times more than the copy itself for a 64-byte frame.
// Small frames are instead copied into a slab and handed out as views, the
// way Node's Buffer pool works. A slab is never written again once handed
// out, so every view stays valid. Each reader has its own slab, so a frame's
// `.buffer` can only hold bytes of the same stream, never another peer's.
//
// Copies are made in bulk: the first frame taken from a run of buffered
// bytes copies that frame and the bytes after it (up to the slab's room), so
// the frames that follow are views into bytes already copied. One `set` per
// slab instead of one per frame, plus one view per frame: measured on a
// stream of 64 B frames, that halves the cost of an owned frame. A new slab
// is no larger than the bytes buffered (at most 8 KiB), so a single small
// frame gets a buffer of its own size, and a slab dropped by an idle reader
// wastes nothing.

const SLAB_SIZE = 8 * 1024;
/** Frames up to this size share a slab; larger ones get their own buffer. */
const SLAB_MAX = SLAB_SIZE >>> 1;

/** A per-reader allocator of owned frame copies. */
export class Slab {
  #buffer: ArrayBuffer | null = null;
  #bytes: Uint8Array = new Uint8Array(0);
  #used = 0;
  /** `#source[#sourceStart..#sourceEnd)` is in the slab at `index + #delta`. */
  #source: Uint8Array | null = null;
  #sourceStart = 0;
  #sourceEnd = 0;
  #delta = 0;

  /**
   * An owned copy of `src[from..to)`. `src[to..limit)` are the bytes the
   * caller asks for next (later frames of the same stream): they may be
   * copied along, until {@linkcode Slab.prototype.forget} says that `src`
   * changed.
   */
  copy(src: Uint8Array, from: number, to: number, limit: number): Uint8Array {
    const n = to - from;
    if (n > SLAB_MAX) return src.slice(from, to);
    if (
      src !== this.#source || from < this.#sourceStart || to > this.#sourceEnd
    ) {
      this.#mirror(src, from, to, limit);
    }
    return new Uint8Array(this.#buffer!, from + this.#delta, n);
  }

  /** The bytes of the last source move or change: copy afresh. */
  forget(): void {
    this.#source = null;
  }

  /** The reader goes idle: it lets go of the slab (its frames keep it). */
  rest(): void {
    this.#buffer = null;
    this.#source = null;
  }

  #mirror(src: Uint8Array, from: number, to: number, limit: number): void {
    let used = this.#used;
    if (this.#buffer === null || used + (to - from) > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(Math.min(SLAB_SIZE, limit - from));
      this.#bytes = new Uint8Array(this.#buffer);
      used = 0;
    }
    const end = Math.min(limit, from + this.#buffer.byteLength - used);
    this.#bytes.set(src.subarray(from, end), used);
    this.#source = src;
    this.#sourceStart = from;
    this.#sourceEnd = end;
    this.#delta = used - from;
    this.#used = used + (end - from);
  }
}
