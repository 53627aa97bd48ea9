// A bounded hand-off of frames from a producer (a FrameReader loop, stdin)
// to one writer that sends everything queued in one writeFrames() call: the
// frames that arrive while a write is in flight go out together.

import { abortable } from "../_abort.ts";

/** A queue of frames with a byte bound (one frame may exceed it alone). */
export class FrameQueue {
  readonly #limit: number;
  #frames: Uint8Array[] = [];
  #bytes = 0;
  #ended = false;
  #wakeTaker: (() => void) | null = null;
  #wakePusher: (() => void) | null = null;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  /** Queues a frame; waits while the queue holds `limitBytes` or more. */
  async push(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    this.#frames.push(frame);
    this.#bytes += frame.byteLength;
    this.#wake("taker");
    while (this.#bytes >= this.#limit && this.#frames.length > 0) {
      await abortable(
        new Promise<void>((resolve) => (this.#wakePusher = resolve)),
        signal,
      );
    }
  }

  /** No more frames will be pushed. */
  end(): void {
    this.#ended = true;
    this.#wake("taker");
  }

  /**
   * Takes every queued frame, waiting for at least one; `null` once the
   * queue has ended and is empty.
   */
  async take(signal?: AbortSignal): Promise<Uint8Array[] | null> {
    while (this.#frames.length === 0) {
      if (this.#ended) return null;
      await abortable(
        new Promise<void>((resolve) => (this.#wakeTaker = resolve)),
        signal,
      );
    }
    const batch = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    this.#wake("pusher");
    return batch;
  }

  #wake(who: "taker" | "pusher"): void {
    const wake = who === "taker" ? this.#wakeTaker : this.#wakePusher;
    if (who === "taker") this.#wakeTaker = null;
    else this.#wakePusher = null;
    wake?.();
  }
}
