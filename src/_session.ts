// One connection of a server made by serve(): the PROXY header when asked
// for, the handler, then the close (flush, half-close, the peer's FIN), with
// the deadlines the server's heartbeat checks, and every error reported once.

import { FrameClock } from "./_frame_clock.ts";
import { type AnyAddr, SessionConn } from "./_session_conn.ts";
import { AbortedError, normalizeError, TimeoutError } from "./errors.ts";
import { FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
import { FrameWriter, type FrameWriterOptions } from "./frame_writer.ts";
import {
  type ProxyHeader,
  type ProxyVersions,
  readProxyHeader,
} from "./proxy_protocol.ts";
import type { FrameSession, ServeHandler } from "./serve.ts";
import type { Conn, Reader } from "./types.ts";

/**
 * The minimum receive rate is judged only once a frame has waited this
 * long: a rate over less than a second says little.
 */
export const RATE_WINDOW_MS = 1000;

/** What every session of one server shares. */
export interface SessionSettings {
  readonly handler: ServeHandler;
  readonly frameOptions: FrameReaderOptions & FrameWriterOptions;
  /** Milliseconds; 0 for none. */
  readonly idleTimeout: number;
  readonly frameTimeout: number;
  readonly proxyHeaderTimeout: number;
  readonly closeTimeout: number;
  /** Bytes per second; 0 for none. */
  readonly minReceiveRate: number;
  readonly proxyProtocol: ProxyVersions | undefined;
  readonly maxProxyHeaderBytes: number;
  readonly noDelay: boolean;
  readonly keepAlive: boolean | undefined;
  /** Where a session's error goes, with its peer. */
  report(error: unknown, remoteAddr: AnyAddr): void;
}

/**
 * `proxy`: reading the PROXY header; `handler`: the handler runs;
 * `closing`: flushing and half-closing after it returned; `linger`: waiting
 * for the peer's FIN; `closed`.
 */
type Phase = "proxy" | "handler" | "closing" | "linger" | "closed";

/** One served connection; {@linkcode ServerSession.run} serves it. */
export class ServerSession {
  readonly #conn: Conn;
  readonly #settings: SessionSettings;
  readonly #controller = new AbortController();
  readonly #io: SessionConn;
  readonly #aborted: Promise<never>;
  #rejectAborted!: (reason: unknown) => void;
  #phase: Phase;
  #phaseStart: number;
  #remoteAddr: AnyAddr;
  #clock: FrameClock | undefined;
  #writer: FrameWriter | undefined;
  #reported = false;
  /** The idle clock: the byte count last seen, and when it last changed. */
  #seenMoved = 0;
  #lastProgress: number;

  constructor(conn: Conn, settings: SessionSettings, now: number) {
    this.#conn = conn;
    this.#settings = settings;
    this.#io = new SessionConn(conn, this.#controller.signal);
    this.#remoteAddr = this.#io.remoteAddr;
    this.#phase = settings.proxyProtocol === undefined ? "handler" : "proxy";
    this.#phaseStart = now;
    this.#lastProgress = now;
    this.#aborted = new Promise<never>((_, reject) => {
      this.#rejectAborted = reject;
    });
    this.#aborted.catch(() => {});
  }

  /** Serves the connection until it is closed; never rejects. */
  async run(): Promise<void> {
    let clean = false;
    try {
      await this.#serve();
      clean = true;
    } catch (error) {
      if (this.#phase !== "linger") this.#report(normalizeError(error));
    } finally {
      this.#phase = "closed";
      if (!clean) void this.#writer?.abort(this.#controller.signal.reason);
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
      if (!this.#controller.signal.aborted) {
        this.#controller.abort(new AbortedError("Session closed"));
      }
    }
  }

  /**
   * Stops the session at once: its signal aborts with `reason`, queued
   * writes are dropped, the connection is closed, and `reason` is reported
   * (unless the session was only waiting for the peer's FIN).
   */
  abort(reason: unknown): void {
    if (this.#phase === "closed" || this.#controller.signal.aborted) return;
    if (this.#phase !== "linger") this.#report(reason);
    this.#controller.abort(reason);
    void this.#writer?.abort(reason);
    this.#rejectAborted(reason);
  }

  /** The heartbeat: aborts the session if one of its deadlines passed. */
  check(now: number): void {
    const settings = this.#settings;
    const phase = this.#phase;
    if (phase === "closed") return;
    if (settings.idleTimeout > 0) {
      const moved = this.#io.written + (this.#clock?.bytesRead ?? 0);
      if (moved !== this.#seenMoved) {
        this.#seenMoved = moved;
        this.#lastProgress = now;
      } else if (now - this.#lastProgress >= settings.idleTimeout) {
        return this.abort(
          new TimeoutError(
            `Connection idle for ${settings.idleTimeout} ms: no bytes moved`,
          ),
        );
      }
    }
    const inPhase = now - this.#phaseStart;
    if (phase === "proxy") {
      const limit = settings.proxyHeaderTimeout;
      if (limit > 0 && inPhase >= limit) {
        this.abort(
          new TimeoutError(`PROXY header not received within ${limit} ms`),
        );
      }
    } else if (phase === "linger") {
      const limit = settings.closeTimeout;
      if (limit > 0 && inPhase >= limit) {
        this.abort(
          new TimeoutError(`Peer did not close within ${limit} ms`),
        );
      }
    } else if (phase === "handler" && this.#clock !== undefined) {
      this.#checkFrame(now, this.#clock);
    }
  }

  #checkFrame(now: number, clock: FrameClock): void {
    const waited = clock.waited(now);
    if (waited === 0) return;
    const { frameTimeout, minReceiveRate } = this.#settings;
    const bytes = clock.frameBytes;
    if (frameTimeout > 0 && waited >= frameTimeout) {
      this.abort(
        new TimeoutError(
          `Frame not complete ${frameTimeout} ms after its first byte: ${bytes} bytes arrived`,
        ),
      );
    } else if (minReceiveRate > 0 && waited >= RATE_WINDOW_MS) {
      const rate = bytes * 1000 / waited;
      if (rate < minReceiveRate) {
        this.abort(
          new TimeoutError(
            `Frame arriving at ${
              Math.floor(rate)
            } B/s, under the minimum of ${minReceiveRate} B/s: ${bytes} bytes in ${
              Math.round(waited)
            } ms`,
          ),
        );
      }
    }
  }

  async #serve(): Promise<void> {
    const settings = this.#settings;
    const signal = this.#controller.signal;
    this.#configure();
    let source: Reader = this.#io;
    let proxyHeader: ProxyHeader | undefined;
    if (settings.proxyProtocol !== undefined) {
      const result = await this.#race(readProxyHeader(this.#io, {
        signal,
        versions: settings.proxyProtocol,
        maxHeaderBytes: settings.maxProxyHeaderBytes,
      }));
      proxyHeader = result.header;
      source = result.reader;
      if (proxyHeader.source !== undefined) {
        this.#remoteAddr = proxyHeader.source;
      }
    }
    const clock = new FrameClock(source, settings.frameOptions, signal);
    const reader = new FrameReader(clock, settings.frameOptions);
    const writer = new FrameWriter(this.#io, settings.frameOptions);
    this.#clock = clock;
    this.#writer = writer;
    const session: FrameSession = {
      reader,
      writer,
      conn: this.#io,
      remoteAddr: this.#remoteAddr,
      proxyHeader,
      signal,
    };
    this.#enter("handler");
    const handler = settings.handler;
    await this.#race(new Promise<void>((resolve) => resolve(handler(session))));
    if (this.#io.closed) return; // the handler closed it: no close to finish
    this.#enter("closing");
    await this.#race(writer.close());
    if (clock.ended) return;
    // Our FIN is out; wait for the peer's, so that closing does not reset
    // a connection whose last replies the peer may not have read yet.
    this.#enter("linger");
    await this.#race(_drain(reader));
  }

  /** TCP_NODELAY and keepalive, before any I/O (Deno refuses them after). */
  #configure(): void {
    const { noDelay, keepAlive } = this.#settings;
    try {
      this.#conn.setNoDelay?.(noDelay);
    } catch {
      // Not every connection has it; an optimisation only.
    }
    if (keepAlive !== undefined) {
      try {
        this.#conn.setKeepAlive?.(keepAlive);
      } catch {
        // Not every connection has it.
      }
    }
  }

  #enter(phase: Phase): void {
    this.#phase = phase;
    this.#phaseStart = performance.now();
  }

  /** Settles like `promise`, or rejects as soon as the session is aborted. */
  #race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#aborted]);
  }

  #report(error: unknown): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#settings.report(error, this.#remoteAddr);
  }
}

/** Reads and drops frames until the peer's FIN. */
async function _drain(reader: FrameReader): Promise<void> {
  while (await reader.readBatch() !== null) {
    // Dropped: the handler has returned.
  }
}
