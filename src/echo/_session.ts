// One connection of the echo server: read frames, echo them as they arrive,
// and close properly once the peer half-closes.

import { TimeoutError } from "../errors.ts";
import { FrameReader } from "../frame_reader.ts";
import type { Conn } from "../types.ts";
import { FrameWriter } from "../frame_writer.ts";
import { formatAddress } from "./_address.ts";
import { describeError } from "./_describe_error.ts";
import { IdleWatchdog } from "./_idle_watchdog.ts";
import { CountingConn } from "./counting_conn.ts";
import type { EchoLog } from "./log.ts";

/**
 * Echoes queued beyond this many bytes (each frame's wire bytes plus
 * FRAME_COST) make the reader wait for the writer: a peer that sends but
 * does not read cannot grow the server's memory past it.
 */
export const ECHO_HIGH_WATER_MARK = 256 * 1024;

export interface SessionOptions {
  maxFrame: number;
  idleTimeoutMs: number;
  log: EchoLog;
}

type State = "open" | "closing" | "closed";

/**
 * Serves one connection:
 * - frames read are queued on a {@linkcode FrameWriter}, which sends
 *   everything queued while a write is in flight in the next write;
 * - at the peer's FIN (end of stream at a frame boundary) the writer sends
 *   the echoes still queued, then half-closes (our FIN) and the connection
 *   is closed: the 4-way close;
 * - any error (reset, oversize length, truncated frame, idle timeout,
 *   `abort()`) is logged and closes this connection only.
 */
export class EchoSession {
  readonly peer: string;
  readonly #conn: CountingConn;
  readonly #options: SessionOptions;
  readonly #controller = new AbortController();
  readonly #watchdog: IdleWatchdog;
  #state: State = "open";
  #frames = 0;
  #bytes = 0;

  constructor(conn: Conn, options: SessionOptions) {
    this.peer = formatAddress(conn.remoteAddr);
    this.#options = options;
    this.#watchdog = new IdleWatchdog(
      options.idleTimeoutMs,
      () =>
        this.abort(
          new TimeoutError(
            `Connection idle for ${options.idleTimeoutMs} ms: no bytes moved`,
          ),
        ),
    );
    this.#conn = new CountingConn(conn, () => this.#watchdog.touch());
  }

  /**
   * Stops serving: pending reads and writes reject with `reason`. A session
   * already closing (its echoes and FIN are out) finishes as it is.
   */
  abort(reason: Error): void {
    if (this.#state === "open") this.#controller.abort(reason);
  }

  /** Serves until the 4-way close or an error; never rejects. */
  async run(): Promise<void> {
    const { log } = this.#options;
    let ok = false;
    try {
      await this.#pump();
      this.#state = "closing";
      await this.#conn.closeWrite();
      ok = true;
    } catch (error) {
      log.error(`[error] peer=${this.peer} ${describeError(error)}`);
    } finally {
      this.#watchdog.stop();
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
      this.#state = "closed";
    }
    if (ok) {
      log.info(
        `[done] peer=${this.peer} echoed ${this.#bytes} bytes in ${this.#frames} frames`,
      );
    }
  }

  /**
   * Echoes every frame until the peer's FIN: frames read while an echo is
   * being written go out together in the next write, and a full queue
   * makes the reader wait, so a peer that sends but never reads holds at
   * most the writer's high-water mark.
   */
  async #pump(): Promise<void> {
    const signal = this.#controller.signal;
    const maxFrameSize = this.#options.maxFrame;
    const frames = new FrameReader(this.#conn, { maxFrameSize });
    const echoes = new FrameWriter(this.#conn, {
      maxFrameSize,
      highWaterMark: ECHO_HIGH_WATER_MARK,
    });
    try {
      for (;;) {
        const frame = await frames.read({ signal });
        if (frame === null) break; // the peer's FIN, at a frame boundary
        await echoes.write(frame, { signal });
        this.#frames++;
        this.#bytes += frame.byteLength;
      }
      await echoes.flush({ signal });
    } catch (error) {
      void echoes.abort(error);
      throw error;
    }
  }
}
