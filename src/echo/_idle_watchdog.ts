// One timer per connection that fires when no bytes moved for `ms`: cheaper
// than a new AbortSignal.timeout() per read (a busy connection would pile up
// thousands of live 30 s timers), and it measures what "idle" means (no
// progress at all, even inside a frame or while a write waits on the peer).

/** Calls `onIdle` once when `touch()` was not called for `ms` milliseconds. */
export class IdleWatchdog {
  readonly #ms: number;
  readonly #onIdle: () => void;
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `ms` of 0 never fires. */
  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    if (ms > 0) this.#arm(ms);
  }

  /** Records progress. */
  touch(): void {
    this.#last = performance.now();
  }

  /** Stops the timer for good. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#check(), delay);
  }

  #check(): void {
    const idle = performance.now() - this.#last;
    if (idle >= this.#ms) {
      this.#timer = undefined;
      this.#onIdle();
    } else {
      this.#arm(this.#ms - idle);
    }
  }
}
