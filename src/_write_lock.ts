// One FIFO lock per writer object, so that concurrent writeAll(),
// writeFrame(), writeFrames(), writeDelimited() and FrameWriter batches on
// the same connection never interleave their bytes (Go's net.Conn
// guarantee), and an aborted call never cuts what it started.

import { abortable } from "./_abort.ts";

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  onLater: (() => void) | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A FIFO mutex. `release()` hands the lock straight to the oldest waiter,
 * so a caller arriving in between queues behind it: call order is wire
 * order.
 *
 * A holder or waiter may pass `onLater`: it is called whenever a new waiter
 * queues behind it, so a FrameWriter can close its batch there and send the
 * frames accepted afterwards only after that waiter's bytes.
 */
export class WriteLock {
  #held = false;
  #holderOnLater: (() => void) | undefined;
  readonly #waiters: Waiter[] = [];

  /** Takes the lock if it is free, synchronously. */
  tryAcquire(onLater?: () => void): boolean {
    if (this.#held) return false;
    this.#held = true;
    this.#holderOnLater = onLater;
    return true;
  }

  /**
   * Waits for the lock. Rejects with `signal.reason` (and leaves the queue)
   * if the signal aborts first.
   */
  acquire(
    signal: AbortSignal | undefined,
    onLater?: () => void,
  ): Promise<void> {
    if (this.tryAcquire(onLater)) return RESOLVED;
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#holderOnLater?.();
    for (const waiter of this.#waiters) waiter.onLater?.();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: undefined,
        onLater,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Hands the lock to the oldest waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#held = false;
      this.#holderOnLater = undefined;
      return;
    }
    if (next.onAbort !== undefined) {
      next.signal!.removeEventListener("abort", next.onAbort);
    }
    this.#holderOnLater = next.onLater;
    next.resolve();
  }
}

const locks = new WeakMap<object, WriteLock>();

/** The lock of `writer`, shared by every tcpframe API writing to it. */
export function writeLockOf(writer: object): WriteLock {
  let lock = locks.get(writer);
  if (lock === undefined) {
    lock = new WriteLock();
    locks.set(writer, lock);
  }
  return lock;
}

/**
 * Runs `work` while holding `writer`'s lock, after every call that came
 * before it on the same writer.
 *
 * - A signal that aborts while the call waits for its turn rejects with
 *   `signal.reason`; `work` never starts, so nothing was written.
 * - Once `work` started, it runs to its end (it may itself stop early at a
 *   frame boundary when it sees the signal aborted). An abort then rejects
 *   the returned promise at once with `signal.reason`, while `work` finishes
 *   in the background, still holding the lock: later calls queue behind it,
 *   and the wire stays in sync.
 */
export function withWriteLock(
  writer: object,
  signal: AbortSignal | undefined,
  work: () => Promise<void>,
): Promise<void> {
  const lock = writeLockOf(writer);
  if (lock.tryAcquire()) return start(lock, signal, work);
  return lock.acquire(signal).then(() => start(lock, signal, work));
}

function start(
  lock: WriteLock,
  signal: AbortSignal | undefined,
  work: () => Promise<void>,
): Promise<void> {
  if (signal === undefined) return run(lock, work);
  if (signal.aborted) {
    lock.release();
    return Promise.reject(signal.reason);
  }
  return abortable(run(lock, work), signal);
}

async function run(lock: WriteLock, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } finally {
    lock.release();
  }
}
