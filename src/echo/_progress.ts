// The client's progress line on a terminal: shown only once a transfer has
// taken longer than a second, redrawn in place, erased at the end.

import type { TextOutput } from "./runtime.ts";

export interface ProgressOptions {
  /** How long before the line first appears. */
  delayMs?: number;
  /** How often it is redrawn. */
  intervalMs?: number;
}

export class ProgressLine {
  readonly #out: TextOutput;
  readonly #render: () => string;
  #shown = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(
    out: TextOutput,
    render: () => string,
    options: ProgressOptions = {},
  ) {
    this.#out = out;
    this.#render = render;
    const { delayMs = 1000, intervalMs = 250 } = options;
    this.#timer = setTimeout(() => {
      this.#draw();
      this.#interval = setInterval(() => this.#draw(), intervalMs);
    }, delayMs);
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#interval);
    if (this.#shown) this.#out.write("\r\x1b[K");
    this.#shown = false;
  }

  #draw(): void {
    this.#shown = true;
    this.#out.write(`\r${this.#render()}\x1b[K`);
  }
}
