/**
 * The echo client's exchange over one connection: send every frame
 * (pipelined, coalesced), half-close, read the echoes to the end, verify.
 *
 * @module
 */

import { abortable } from "../_abort.ts";
import { FrameReader } from "../frame_reader.ts";
import { FrameWriter } from "../frame_writer.ts";
import type { Conn } from "../types.ts";
import { describeError } from "./_describe_error.ts";
import { fnv1a, generatePayload, hex32 } from "./_payloads.ts";
import { type EchoLog, SILENT_LOG } from "./log.ts";
import { DEFAULT_MAX_FRAME } from "./options.ts";

/** What an {@linkcode EchoExchange} sends. */
export type EchoPayloads =
  | {
    /** Text messages, one frame each; echoes are logged as `[echoed]`. */
    kind: "messages";
    /** The messages. */
    messages: readonly string[];
  }
  | {
    /**
     * Lines as they arrive (standard input), one frame each, sent while
     * earlier echoes come back; echoes are logged as `[echoed]`.
     */
    kind: "lines";
    /** The lines. */
    lines: AsyncIterable<string>;
  }
  | {
    /** Generated payloads, verified by checksum, not logged. */
    kind: "generated";
    /** Bytes per payload. */
    size: number;
    /** How many payloads. */
    count: number;
  };

/** Options for {@linkcode EchoExchange}. */
export interface EchoExchangeOptions {
  /**
   * The largest frame sent or accepted back.
   *
   * @default {1048576}
   */
  maxFrame?: number;
  /**
   * Ends the exchange when it aborts (a deadline); the result then says
   * whether sending was still going on.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Where `[echoed] <message>` lines go.
   *
   * @default {SILENT_LOG}
   */
  log?: EchoLog;
}

/**
 * How an exchange ended: `"ok"` (every echo came back intact and the server
 * closed), `"send-failed"` (exit code 2) or `"receive-failed"` (exit code 3:
 * a read failed, or fewer, more or different echoes came back than were
 * sent).
 */
export type EchoOutcome = "ok" | "send-failed" | "receive-failed";

/** The result of {@linkcode EchoExchange.prototype.run}. */
export interface EchoExchangeResult {
  /** How it ended. */
  outcome: EchoOutcome;
  /** What went wrong, in one line; empty when `outcome` is `"ok"`. */
  message: string;
  /** Frames written in full. */
  framesSent: number;
  /** Payload bytes written in full. */
  bytesSent: number;
  /** Echoes received and verified. */
  framesEchoed: number;
  /** Payload bytes of the verified echoes. */
  bytesEchoed: number;
}

type State = "new" | "running" | "done";

/**
 * One client exchange over a connection.
 *
 * Sending and receiving run at once: frames go out in as few writes as
 * possible (a {@linkcode FrameWriter}), then the client half-closes (`closeWrite()`,
 * "I will send nothing more") and reads echoes until the server's FIN.
 * Every echo is checked against what was sent, in order. A server that
 * closes early (the source document's `echo.cpp` echoes only the first frame)
 * gives `"receive-failed"` with the counts, never a hang.
 *
 * The exchange does not close the connection.
 *
 * @example Against an in-memory server that echoes only the first frame
 * ```ts
 * import { encodeFrame } from "@tcpframe/tcpframe";
 * import { EchoExchange } from "./exchange.ts";
 * import assert from "node:assert/strict";
 *
 * // It answers the first frame of the first write, then ends the stream.
 * let deliver = (_frame: Uint8Array) => {};
 * const firstEcho = new Promise<Uint8Array>((resolve) => (deliver = resolve));
 * let reads = 0;
 * const conn = {
 *   write(p: Uint8Array) {
 *     deliver(encodeFrame(p.slice(4, 4 + p[3]!)));
 *     return Promise.resolve(p.byteLength);
 *   },
 *   async read(p: Uint8Array) {
 *     if (reads++ > 0) return null;
 *     const frame = await firstEcho;
 *     p.set(frame);
 *     return frame.byteLength;
 *   },
 *   closeWrite: () => Promise.resolve(),
 *   close() {},
 * };
 * const exchange = new EchoExchange(conn, {
 *   kind: "messages",
 *   messages: ["one", "two"],
 * });
 * const result = await exchange.run();
 * assert.equal(result.outcome, "receive-failed");
 * assert.equal(result.framesEchoed, 1);
 * assert.equal(
 *   result.message,
 *   "Server closed the connection after echoing 1 of 2 frames",
 * );
 * ```
 */
export class EchoExchange {
  readonly #conn: Conn;
  readonly #payloads: EchoPayloads;
  readonly #maxFrame: number;
  readonly #log: EchoLog;
  readonly #outer: AbortSignal | undefined;
  readonly #controller = new AbortController();
  /** What each frame sent but not yet echoed must come back as. */
  readonly #expected: Array<Uint8Array | number> = [];
  #expectedHead = 0;
  #state: State = "new";
  #sendDone = false;
  #sendError: unknown = undefined;
  #receiveError: unknown = undefined;
  #framesSent = 0;
  #bytesSent = 0;
  #framesEchoed = 0;
  #bytesEchoed = 0;

  /**
   * Prepares an exchange; nothing happens until `run()`.
   *
   * @param conn The connection, connected and not yet used.
   * @param payloads What to send.
   * @param options The frame cap, a deadline and the log.
   */
  constructor(
    conn: Conn,
    payloads: EchoPayloads,
    options: EchoExchangeOptions = {},
  ) {
    this.#conn = conn;
    this.#payloads = payloads;
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#log = options.log ?? SILENT_LOG;
    this.#outer = options.signal;
  }

  /** Frames written so far. */
  get framesSent(): number {
    return this.#framesSent;
  }

  /** Payload bytes written so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Echoes verified so far. */
  get framesEchoed(): number {
    return this.#framesEchoed;
  }

  /** Payload bytes echoed so far. */
  get bytesEchoed(): number {
    return this.#bytesEchoed;
  }

  /** How many frames will be sent, when known in advance. */
  get total(): number | undefined {
    const payloads = this.#payloads;
    if (payloads.kind === "messages") return payloads.messages.length;
    if (payloads.kind === "generated") return payloads.count;
    return undefined;
  }

  /**
   * Runs the exchange to its end. Never rejects for what the peer or the
   * network does; those end up in the result.
   *
   * @returns How it went.
   * @throws {Error} `run()` was called twice.
   */
  async run(): Promise<EchoExchangeResult> {
    if (this.#state !== "new") {
      throw new Error("Cannot run an exchange twice");
    }
    this.#state = "running";
    const signal = this.#controller.signal;
    const outer = this.#outer;
    const onOuterAbort = () => this.#controller.abort(outer!.reason);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    try {
      await Promise.all([
        this.#send(signal).catch((error) => {
          if (!_isReason(error, signal)) {
            this.#sendError = error;
            this.#controller.abort(error);
          }
        }),
        this.#receive(signal).catch((error) => {
          if (!_isReason(error, signal)) {
            this.#receiveError = error;
            this.#controller.abort(error);
          }
        }),
      ]);
    } finally {
      outer?.removeEventListener("abort", onOuterAbort);
      this.#state = "done";
    }
    return this.#result(signal);
  }

  #result(signal: AbortSignal): EchoExchangeResult {
    const counts = {
      framesSent: this.#framesSent,
      bytesSent: this.#bytesSent,
      framesEchoed: this.#framesEchoed,
      bytesEchoed: this.#bytesEchoed,
    };
    const sent = this.total ?? this.#expected.length;
    if (this.#sendError !== undefined) {
      return {
        outcome: "send-failed",
        message: `${
          describeError(this.#sendError)
        } (after sending ${this.#framesSent} of ${sent} frames)`,
        ...counts,
      };
    }
    if (this.#receiveError !== undefined) {
      const error = this.#receiveError;
      return {
        outcome: "receive-failed",
        message: error instanceof _EchoMismatch
          ? error.message
          : `${
            describeError(error)
          } (after ${this.#framesEchoed} of ${sent} echoes)`,
        ...counts,
      };
    }
    if (signal.aborted) {
      // The deadline: blame the side that was not done.
      return {
        outcome: this.#sendDone ? "receive-failed" : "send-failed",
        message: `${describeError(signal.reason)} (${
          this.#sendDone
            ? `after ${this.#framesEchoed} of ${sent} echoes`
            : `after sending ${this.#framesSent} of ${sent} frames`
        })`,
        ...counts,
      };
    }
    return { outcome: "ok", message: "", ...counts };
  }

  async #send(signal: AbortSignal): Promise<void> {
    // Frames that arrive while a write is in flight go out together in the
    // next one; the queue is bounded, so a slow server slows the sender.
    const writer = new FrameWriter(this.#conn, {
      maxFrameSize: this.#maxFrame,
    });
    const sizes: number[] = []; // payload bytes up to each frame, for counts
    const queue = (payload: Uint8Array) => {
      sizes.push((sizes.at(-1) ?? 0) + payload.byteLength);
      return writer.write(payload, { signal });
    };
    const count = () => {
      this.#framesSent = writer.framesWritten;
      this.#bytesSent = sizes[this.#framesSent - 1] ?? 0;
    };
    const progress = setInterval(count, 250);
    try {
      await this.#queueAll(queue, signal);
      await writer.flush({ signal });
    } catch (error) {
      void writer.abort(error);
      throw error;
    } finally {
      clearInterval(progress);
      count();
    }
    this.#sendDone = true;
    try {
      await writer.close();
    } catch {
      // Every frame is out; if the connection broke meanwhile, the reader
      // finds out and says what happened.
    }
  }

  /** Queues every payload, each recorded as expected before it is sent. */
  async #queueAll(
    queue: (payload: Uint8Array) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const payloads = this.#payloads;
    const expected = this.#expected;
    const encoder = new TextEncoder();
    if (payloads.kind === "messages") {
      // Queued in one tick: they go out in one write.
      const batch = payloads.messages.map((m) => encoder.encode(m));
      expected.push(...batch);
      await Promise.all(batch.map(queue));
      return;
    }
    if (payloads.kind === "generated") {
      for (let i = 0; i < payloads.count; i++) {
        const payload = generatePayload(i, payloads.size);
        expected.push(fnv1a(payload));
        await queue(payload);
      }
      return;
    }
    const lines = payloads.lines[Symbol.asyncIterator]();
    for (;;) {
      // Waiting for stdin stops at the deadline too.
      const line = await abortable(lines.next(), signal);
      if (line.done === true) return;
      const payload = encoder.encode(line.value);
      expected.push(payload);
      await queue(payload);
    }
  }

  async #receive(signal: AbortSignal): Promise<void> {
    const frames = new FrameReader(this.#conn, {
      maxFrameSize: this.#maxFrame,
    });
    const decoder = new TextDecoder();
    const logEchoes = this.#payloads.kind !== "generated";
    for (;;) {
      const echo = await frames.read({ signal });
      if (echo === null) break;
      const index = this.#framesEchoed + 1;
      const want = this.#expected[this.#expectedHead];
      if (want === undefined) {
        throw new _EchoMismatch(
          `Server sent echo ${index}, but only ${this.#expected.length} frames were sent`,
        );
      }
      _verify(echo, want, index, decoder);
      this.#expected[this.#expectedHead++] = 0; // let the payload go
      this.#framesEchoed++;
      this.#bytesEchoed += echo.byteLength;
      if (logEchoes) this.#log.info(`[echoed] ${decoder.decode(echo)}`);
    }
    const sent = this.total ?? this.#expected.length;
    if (!this.#sendDone || this.#framesEchoed < sent) {
      throw new _EchoMismatch(
        `Server closed the connection after echoing ${this.#framesEchoed} of ${sent} frames`,
      );
    }
  }
}

/** Fewer, more or different echoes than sent. */
class _EchoMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EchoMismatch";
  }
}

function _isReason(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && error === signal.reason;
}

function _verify(
  echo: Uint8Array,
  want: Uint8Array | number,
  index: number,
  decoder: InstanceType<typeof TextDecoder>, // @types/node: a value, not a type
): void {
  if (typeof want === "number") {
    const got = fnv1a(echo);
    if (got !== want) {
      throw new _EchoMismatch(
        `Echo ${index} differs from frame ${index} sent: FNV-1a ${
          hex32(got)
        } over ${echo.byteLength} bytes, expected ${hex32(want)}`,
      );
    }
    return;
  }
  if (
    echo.byteLength !== want.byteLength ||
    echo.some((byte, i) => byte !== want[i])
  ) {
    throw new _EchoMismatch(
      `Echo ${index} differs from frame ${index} sent: got ${
        _preview(decoder.decode(echo))
      } (${echo.byteLength} bytes), expected ${
        _preview(decoder.decode(want))
      } (${want.byteLength} bytes)`,
    );
  }
}

function _preview(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "..." : text);
}
