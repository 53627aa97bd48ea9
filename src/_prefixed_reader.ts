// A Reader that hands out bytes already taken from a stream (read past a
// PROXY header, say) before it reads the stream again, so a FrameReader or
// any other reader built on top loses none of them.

import type { Reader } from "./types.ts";

/** Serves `prefix` first, then delegates every read to `reader`. */
export class PrefixedReader implements Reader {
  readonly #reader: Reader;
  #prefix: Uint8Array;

  constructor(prefix: Uint8Array, reader: Reader) {
    this.#prefix = prefix;
    this.#reader = reader;
  }

  read(p: Uint8Array): Promise<number | null> {
    const prefix = this.#prefix;
    if (prefix.byteLength === 0) return this.#reader.read(p);
    if (p.byteLength === 0) return Promise.resolve(0);
    const n = Math.min(p.byteLength, prefix.byteLength);
    p.set(prefix.subarray(0, n));
    this.#prefix = prefix.subarray(n);
    return Promise.resolve(n);
  }
}

/** `reader` itself when there is no prefix, else a {@linkcode PrefixedReader}. */
export function prefixedReader(prefix: Uint8Array, reader: Reader): Reader {
  return prefix.byteLength === 0 ? reader : new PrefixedReader(prefix, reader);
}
