// The client's --timeout: one timer, cleared when the exchange ends, so that
// nothing keeps the process (or a test) waiting.

import { TimeoutError } from "../errors.ts";

/** An AbortSignal that aborts `ms` milliseconds from now (`0`: never). */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    if (ms > 0) {
      this.#timer = setTimeout(
        () =>
          this.#controller.abort(
            new TimeoutError(`Deadline of ${ms} ms passed (--timeout)`),
          ),
        ms,
      );
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
