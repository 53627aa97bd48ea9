// Owned copies of small frames without one ArrayBuffer each.
//
// `Uint8Array.prototype.slice` allocates a new ArrayBuffer per call, which
// costs about three times more than the copy itself for a 64-byte frame.
// Small frames are instead copied into a slab and handed out as views, the
// way Node's Buffer pool works. A slab is never written again once handed
// out, so every view stays valid. Each reader has its own slab, so a frame's
// `.buffer` can only hold bytes of the same stream, never another peer's.

const SLAB_SIZE = 8 * 1024;
/** Frames up to this size share a slab; larger ones get their own buffer. */
const SLAB_MAX = SLAB_SIZE >>> 1;

/** A per-reader allocator of owned frame copies. */
export class Slab {
  #slab: Uint8Array | null = null;
  #used = 0;

  /** An owned copy of `src[from..to)`. */
  copy(src: Uint8Array, from: number, to: number): Uint8Array {
    const n = to - from;
    if (n > SLAB_MAX) return src.slice(from, to);
    if (this.#slab === null || this.#used + n > SLAB_SIZE) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#used = 0;
    }
    const slab = this.#slab!;
    const at = this.#used;
    slab.set(src.subarray(from, to), at);
    this.#used = (at + n + 7) & ~7; // keep views 8-byte aligned
    return slab.subarray(at, at + n);
  }
}
