// The lines a child process writes to one pipe, kept as they arrive, with
// bounded waits for lines that match.

/** Lines read from a stream, in order; `waitFor*` wake on each new chunk. */
export class LogLines {
  readonly lines: string[] = [];
  #partial = "";
  #ended = false;
  #waiters = new Set<() => void>();

  /** Reads `stream` to its end; the returned promise settles then. */
  async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (this.#partial + text).split("\n");
        this.#partial = parts.pop()!;
        this.lines.push(...parts);
        this.#wake();
      }
    } finally {
      if (this.#partial !== "") this.lines.push(this.#partial);
      this.#partial = "";
      this.#ended = true;
      this.#wake();
    }
  }

  /** Everything read so far. */
  get text(): string {
    return this.lines.join("\n");
  }

  /**
   * Resolves once `test` holds for the lines read so far; rejects with
   * `what` and the last lines after `timeoutMs` or once the stream ended
   * without it (a bound on a hang, not a timing assertion).
   */
  until(
    test: () => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test()) return finish(resolve);
        if (this.#ended) {
          finish(() => reject(this.#failure(`${what}: the stream ended`)));
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(this.#failure(`${what}: not within ${timeoutMs} ms`))
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves with the first line matching `pattern` (see `until`). */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    let found: string | undefined;
    await this.until(
      () =>
        (found = this.lines.find((line) => pattern.test(line))) !== undefined,
      `no line matching ${pattern}`,
      timeoutMs,
    );
    return found!;
  }

  /**
   * Waits (at most `timeoutMs`) for a line for each of `peers` (addresses
   * like `127.0.0.1:40000`) that matches `pattern`, whose first group is
   * the peer, among the lines from index `from` on. Resolves with the first
   * such line per peer found, and the peers still missing at the bound.
   */
  async waitForPeers(
    from: number,
    peers: Iterable<string>,
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<{ found: Map<string, string>; missing: string[] }> {
    const wanted = new Set(peers);
    const found = new Map<string, string>();
    let scanned = from;
    const scan = () => {
      for (; scanned < this.lines.length; scanned++) {
        const line = this.lines[scanned]!;
        const peer = pattern.exec(line)?.[1];
        if (peer !== undefined && wanted.has(peer) && !found.has(peer)) {
          found.set(peer, line);
        }
      }
      return found.size === wanted.size;
    };
    await this.until(scan, "every peer's line", timeoutMs).catch(() => {});
    return {
      found,
      missing: [...wanted].filter((peer) => !found.has(peer)),
    };
  }

  /**
   * Describes peers that have no matching line, with the last lines read.
   */
  missingMessage(missing: readonly string[], pattern: RegExp): string {
    return this.#failure(
      `${missing.length} peers have no line matching ${pattern} (first: ${
        missing.slice(0, 3).join(", ")
      })`,
    ).message;
  }

  #failure(message: string): Error {
    const tail = this.lines.slice(-20).join("\n");
    return new Error(`${message}; last lines:\n${tail}`);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
