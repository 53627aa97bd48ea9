/**
 * The error model of tcpframe.
 *
 * A caller's mistake (a wrong argument) is a plain `TypeError` or
 * `RangeError`. A condition caused by the peer or the network, which callers
 * are expected to catch, is a subclass of {@linkcode TcpFrameError} with a
 * stable `code` string: switch on `code`, not on the message.
 *
 * The same classes are used on every runtime: {@linkcode normalizeError} turns
 * Deno's `Deno.errors.*` and Node's `ECONNRESET`/`EPIPE`-style errors into
 * them, keeping the original as `cause`.
 *
 * @module
 */

/**
 * Every stable error code tcpframe uses.
 *
 * @example Switch on the code
 * ```ts
 * import { type ErrorCode, normalizeError, TcpFrameError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * function describe(error: unknown): ErrorCode | "OTHER" {
 *   const mapped = normalizeError(error);
 *   return mapped instanceof TcpFrameError ? mapped.code : "OTHER";
 * }
 * assert.equal(describe(Object.assign(new Error(), { code: "EPIPE" })), "BROKEN_PIPE");
 * assert.equal(describe(new Error("bug")), "OTHER");
 * ```
 */
export type ErrorCode =
  | "UNEXPECTED_EOF"
  | "WRITE_ZERO"
  | "NO_PROGRESS"
  | "FRAME_TOO_LARGE"
  | "INVALID_FRAME"
  | "INVALID_PROXY_HEADER"
  | "CONNECTION_RESET"
  | "CONNECTION_REFUSED"
  | "HOST_NOT_FOUND"
  | "CONNECTION_CLOSED"
  | "BROKEN_PIPE"
  | "TIMEOUT"
  | "ABORTED"
  | "CONNECTION_REJECTED";

/**
 * The base class of every error tcpframe raises for a condition of the peer
 * or the network.
 *
 * @example Catch any tcpframe error and switch on its code
 * ```ts
 * import { readExact, TcpFrameError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const empty = { read: () => Promise.resolve(null) };
 * try {
 *   await readExact(empty, 4);
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert.ok(error instanceof TcpFrameError);
 *   assert.equal(error.code, "UNEXPECTED_EOF");
 * }
 * ```
 */
export class TcpFrameError extends Error {
  /** The stable code: the thing to switch on. */
  readonly code: ErrorCode;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message A sentence-case description with the numbers.
   * @param options The underlying cause, if any.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TcpFrameError";
    this.code = code;
  }
}

/**
 * What {@linkcode UnexpectedEofError} is made from.
 *
 * @example Build the error a custom decoder would throw
 * ```ts
 * import { UnexpectedEofError, type UnexpectedEofErrorInit } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const init: UnexpectedEofErrorInit = { bytesRead: 1, expected: 4, what: "record header" };
 * assert.equal(
 *   new UnexpectedEofError(init).message,
 *   "Cannot read record header: stream ended after 1 of 4 bytes",
 * );
 * ```
 */
export interface UnexpectedEofErrorInit {
  /** How many bytes arrived before the stream ended. */
  bytesRead: number;
  /** How many bytes were needed. */
  expected: number;
  /**
   * The bytes that did arrive (`bytesRead` of them).
   *
   * @default {new Uint8Array(0)}
   */
  partial?: Uint8Array;
  /**
   * What was being read, for the message, e.g. `"frame header"`.
   *
   * @default {undefined}
   */
  what?: string;
}

/**
 * The stream ended before the bytes that were needed arrived.
 *
 * `bytesRead === 0` means the peer closed cleanly before this read began;
 * anything else means a message was cut short.
 *
 * @example A truncated stream
 * ```ts
 * import { readExact, UnexpectedEofError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set([1, 2, 3]);
 *     return Promise.resolve(3);
 *   },
 * };
 * await assert.rejects(readExact(reader, 9), (error) => {
 *   assert.ok(error instanceof UnexpectedEofError);
 *   assert.equal(error.bytesRead, 3);
 *   assert.equal(error.expected, 9);
 *   assert.deepEqual(error.partial, new Uint8Array([1, 2, 3]));
 *   assert.equal(error.message, "Cannot read 9 bytes: stream ended after 3");
 *   return true;
 * });
 * ```
 */
export class UnexpectedEofError extends TcpFrameError {
  /** How many bytes arrived before the stream ended. */
  readonly bytesRead: number;
  /** How many bytes were needed. */
  readonly expected: number;
  /** The bytes that did arrive. */
  readonly partial: Uint8Array;

  /**
   * Creates an error.
   *
   * @param init The counts, the partial bytes and what was being read.
   */
  constructor(init: UnexpectedEofErrorInit) {
    const { bytesRead, expected, what } = init;
    super(
      "UNEXPECTED_EOF",
      what === undefined
        ? `Cannot read ${expected} bytes: stream ended after ${bytesRead}`
        : `Cannot read ${what}: stream ended after ${bytesRead} of ${expected} bytes`,
    );
    this.name = "UnexpectedEofError";
    this.bytesRead = bytesRead;
    this.expected = expected;
    this.partial = init.partial ?? new Uint8Array(0);
  }
}

/**
 * A writer accepted no bytes of a non-empty buffer. Looping again would spin
 * forever, so {@linkcode writeAll} stops with this error.
 *
 * @example A writer that stops accepting bytes
 * ```ts
 * import { writeAll, WriteZeroError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const stuck = { write: () => Promise.resolve(0) };
 * await assert.rejects(writeAll(stuck, new Uint8Array(8)), WriteZeroError);
 * ```
 */
export class WriteZeroError extends TcpFrameError {
  /** How many bytes had been written before the writer stalled. */
  readonly bytesWritten: number;
  /** How many bytes were to be written in all. */
  readonly expected: number;

  /**
   * Creates an error.
   *
   * @param bytesWritten Bytes written before the writer returned 0.
   * @param expected Bytes to be written in all.
   */
  constructor(bytesWritten: number, expected: number) {
    super(
      "WRITE_ZERO",
      `Cannot write ${expected} bytes: writer accepted 0 bytes after ${bytesWritten}`,
    );
    this.name = "WriteZeroError";
    this.bytesWritten = bytesWritten;
    this.expected = expected;
  }
}

/**
 * A reader kept resolving to 0 for a non-empty buffer, which its contract
 * forbids. Reading stops after a bounded number of such reads instead of
 * spinning.
 *
 * @example A reader that keeps returning 0
 * ```ts
 * import { NoProgressError, readExact } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const stuck = { read: () => Promise.resolve(0) };
 * await assert.rejects(readExact(stuck, 1), NoProgressError);
 * ```
 */
export class NoProgressError extends TcpFrameError {
  /** How many consecutive reads returned 0. */
  readonly attempts: number;

  /**
   * Creates an error.
   *
   * @param attempts The number of consecutive zero-byte reads.
   */
  constructor(attempts: number) {
    super(
      "NO_PROGRESS",
      `Cannot read: reader returned 0 bytes ${attempts} times in a row`,
    );
    this.name = "NoProgressError";
    this.attempts = attempts;
  }
}

/**
 * A frame's length is over the configured maximum. When the peer sent it,
 * this is thrown before any memory of that size is reserved, and the stream
 * is out of sync: close the connection.
 *
 * @example The size and the limit
 * ```ts
 * import { FrameTooLargeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const error = new FrameTooLargeError(5_000_000, 1_048_576);
 * assert.equal(error.code, "FRAME_TOO_LARGE");
 * assert.equal(error.size, 5_000_000);
 * ```
 */
export class FrameTooLargeError extends TcpFrameError {
  /** The frame length that was announced or found. */
  readonly size: number;
  /** The configured maximum. */
  readonly limit: number;

  /**
   * Creates an error.
   *
   * @param size The frame length announced by the peer.
   * @param limit The configured maximum.
   */
  constructor(size: number, limit: number) {
    super(
      "FRAME_TOO_LARGE",
      `Cannot read frame: length ${size} exceeds the limit of ${limit} bytes`,
    );
    this.name = "FrameTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The peer sent a frame header that cannot describe a frame: a length that
 * becomes negative after `lengthAdjustment`, an 8-byte length beyond 2^53,
 * or a varint that does not end. The stream is out of sync: close it.
 *
 * @example Catch it like any peer error
 * ```ts
 * import { InvalidFrameError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const error = new InvalidFrameError("Cannot read frame: length -3 is negative");
 * assert.equal(error.code, "INVALID_FRAME");
 * ```
 */
export class InvalidFrameError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What is wrong with the header, with the numbers.
   */
  constructor(message: string) {
    super("INVALID_FRAME", message);
    this.name = "InvalidFrameError";
  }
}

/**
 * The peer's PROXY protocol header (HAProxy's, version 1 or 2) breaks the
 * specification: a wrong signature or version, a bad address, a line without
 * CRLF in its first 107 bytes, a v2 length over the limit (refused before
 * anything of that size is read). A peer that must send the header and does
 * not is refused: close the connection.
 *
 * @example What readProxyHeader() throws for bytes that are not a header
 * ```ts
 * import { ProxyHeaderError, readProxyHeader } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const http = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
 * let sent = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(http);
 *     return Promise.resolve(http.byteLength);
 *   },
 * };
 * await assert.rejects(readProxyHeader(reader), (error) => {
 *   assert.ok(error instanceof ProxyHeaderError);
 *   assert.equal(error.code, "INVALID_PROXY_HEADER");
 *   return true;
 * });
 * ```
 */
export class ProxyHeaderError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What is wrong with the header, with the numbers.
   */
  constructor(message: string) {
    super("INVALID_PROXY_HEADER", message);
    this.name = "ProxyHeaderError";
  }
}

/**
 * The peer reset the connection (TCP RST): Deno's
 * `Deno.errors.ConnectionReset`, Node's `ECONNRESET`. Also a TLS stream
 * that ended without the peer's `close_notify` (Deno's
 * `Deno.errors.UnexpectedEof`): such an end may be a cut, not the real end.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { ConnectionResetError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
 * assert.ok(mapped instanceof ConnectionResetError);
 * assert.equal(mapped.code, "CONNECTION_RESET");
 * ```
 */
export class ConnectionResetError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What failed.
   * @param options The runtime's original error as `cause`.
   */
  constructor(message = "Connection reset by peer", options?: ErrorOptions) {
    super("CONNECTION_RESET", message, options);
    this.name = "ConnectionResetError";
  }
}

/**
 * Writing to a connection that is closed for writing: the peer closed or
 * reset it, or this side half-closed it with `closeWrite()` (the operating
 * system does not say which). Deno's `Deno.errors.BrokenPipe`, Node's
 * `EPIPE`. Never a process-killing signal.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { BrokenPipeError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
 * assert.ok(mapped instanceof BrokenPipeError);
 * assert.equal(mapped.code, "BROKEN_PIPE");
 * ```
 */
export class BrokenPipeError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What failed.
   * @param options The runtime's original error as `cause`.
   */
  constructor(
    message = "Broken pipe: the connection is closed for writing",
    options?: ErrorOptions,
  ) {
    super("BROKEN_PIPE", message, options);
    this.name = "BrokenPipeError";
  }
}

/**
 * No one listens at the address: Deno's `Deno.errors.ConnectionRefused`,
 * Node's `ECONNREFUSED`.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { ConnectionRefusedError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
 * assert.ok(mapped instanceof ConnectionRefusedError);
 * assert.equal(mapped.code, "CONNECTION_REFUSED");
 * ```
 */
export class ConnectionRefusedError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What failed.
   * @param options The runtime's original error as `cause`.
   */
  constructor(message = "Connection refused", options?: ErrorOptions) {
    super("CONNECTION_REFUSED", message, options);
    this.name = "ConnectionRefusedError";
  }
}

/**
 * The host name did not resolve to an address: Node's `ENOTFOUND` (and the
 * other `getaddrinfo()` failures, `EAI_AGAIN` included: a name server that
 * does not answer), Deno's "failed to lookup address information" error.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { HostNotFoundError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const nodeError = Object.assign(
 *   new Error("getaddrinfo ENOTFOUND no-such-host.invalid"),
 *   { code: "ENOTFOUND", hostname: "no-such-host.invalid" },
 * );
 * const mapped = normalizeError(nodeError);
 * assert.ok(mapped instanceof HostNotFoundError);
 * assert.equal(mapped.code, "HOST_NOT_FOUND");
 * assert.equal(mapped.message, "Host not found: no-such-host.invalid (ENOTFOUND)");
 * ```
 */
export class HostNotFoundError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What failed to resolve, and why.
   * @param options The runtime's original error as `cause`.
   */
  constructor(message = "Host not found", options?: ErrorOptions) {
    super("HOST_NOT_FOUND", message, options);
    this.name = "HostNotFoundError";
  }
}

/**
 * The connection was closed on this side while an operation was pending or
 * after it: Deno's `Interrupted`/`BadResource`, Node's destroyed streams.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { ConnectionClosedError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(Object.assign(new Error("Bad resource ID"), { name: "BadResource" }));
 * assert.ok(mapped instanceof ConnectionClosedError);
 * assert.equal(mapped.code, "CONNECTION_CLOSED");
 * ```
 */
export class ConnectionClosedError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What failed.
   * @param options The runtime's original error as `cause`.
   */
  constructor(message = "Connection closed", options?: ErrorOptions) {
    super("CONNECTION_CLOSED", message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * A deadline passed: an `AbortSignal.timeout()` fired, an idle timeout
 * elapsed, or the OS reported `ETIMEDOUT`.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { TimeoutError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(new DOMException("Signal timed out.", "TimeoutError"));
 * assert.ok(mapped instanceof TimeoutError);
 * assert.equal(mapped.code, "TIMEOUT");
 * ```
 */
export class TimeoutError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What timed out, with the duration.
   * @param options The original error as `cause`.
   */
  constructor(message = "Operation timed out", options?: ErrorOptions) {
    super("TIMEOUT", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * An operation was cancelled through its `AbortSignal`.
 *
 * @example The runtime's error maps to this class
 * ```ts
 * import { AbortedError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const mapped = normalizeError(new DOMException("The operation was aborted.", "AbortError"));
 * assert.ok(mapped instanceof AbortedError);
 * assert.equal(mapped.code, "ABORTED");
 * ```
 */
export class AbortedError extends TcpFrameError {
  /**
   * Creates an error.
   *
   * @param message What was aborted.
   * @param options The signal's reason as `cause`.
   */
  constructor(message = "Operation aborted", options?: ErrorOptions) {
    super("ABORTED", message, options);
    this.name = "AbortedError";
  }
}

/**
 * Why {@linkcode serve} turned a connection away: `"max-connections"` (it
 * already served `maxConnections`) or `"shutting-down"` (it arrived while the
 * server stopped).
 *
 * @example Log refusals by reason
 * ```ts
 * import type { RejectionReason } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const label = (reason: RejectionReason) =>
 *   reason === "max-connections" ? "busy" : "stopping";
 * assert.equal(label("max-connections"), "busy");
 * ```
 */
export type RejectionReason = "max-connections" | "shutting-down";

/**
 * A server turned a connection away and closed it at once, without reading
 * from it: {@linkcode serve} reports it to `onError` with the peer's address.
 *
 * @example Tell a refusal from a failed session in `onError`
 * ```ts
 * import { ConnectionRejectedError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionRejectedError(
 *   "max-connections",
 *   "Rejected: 1024 connections open (maxConnections)",
 * );
 * assert.equal(error.code, "CONNECTION_REJECTED");
 * assert.equal(error.reason, "max-connections");
 * ```
 */
export class ConnectionRejectedError extends TcpFrameError {
  /** Why the connection was turned away. */
  readonly reason: RejectionReason;

  /**
   * Creates an error.
   *
   * @param reason Why the connection was turned away.
   * @param message What happened, with the numbers.
   */
  constructor(reason: RejectionReason, message: string) {
    super("CONNECTION_REJECTED", message);
    this.name = "ConnectionRejectedError";
    this.reason = reason;
  }
}

const BY_NAME: Record<string, (cause: Error) => TcpFrameError> = {
  ConnectionReset: (c) => new ConnectionResetError(undefined, { cause: c }),
  ConnectionAborted: (c) => new ConnectionResetError(undefined, { cause: c }),
  UnexpectedEof: (c) =>
    new ConnectionResetError(
      "Connection closed abruptly: the peer ended the stream without a clean shutdown (TLS close_notify)",
      { cause: c },
    ),
  BrokenPipe: (c) => new BrokenPipeError(undefined, { cause: c }),
  ConnectionRefused: (c) => new ConnectionRefusedError(undefined, { cause: c }),
  Interrupted: (c) => new ConnectionClosedError(undefined, { cause: c }),
  BadResource: (c) => new ConnectionClosedError(undefined, { cause: c }),
  TimedOut: (c) => new TimeoutError(undefined, { cause: c }),
  TimeoutError: (c) => new TimeoutError(undefined, { cause: c }),
  AbortError: (c) => new AbortedError(undefined, { cause: c }),
};

/** Node's code (or Deno's message) and the host name, when known. */
function hostNotFound(cause: Error): HostNotFoundError {
  const { code, hostname } = cause as { code?: unknown; hostname?: unknown };
  const why = typeof code === "string" ? code : cause.message;
  return new HostNotFoundError(
    typeof hostname === "string"
      ? `Host not found: ${hostname} (${why})`
      : `Host not found (${why})`,
    { cause },
  );
}

/** The start of Deno's message for a failed `getaddrinfo()`. */
const DENO_LOOKUP_FAILED = "failed to lookup address information";

const BY_CODE: Record<string, (cause: Error) => TcpFrameError> = {
  ECONNRESET: BY_NAME.ConnectionReset!,
  ECONNABORTED: BY_NAME.ConnectionAborted!,
  EPIPE: BY_NAME.BrokenPipe!,
  ECONNREFUSED: BY_NAME.ConnectionRefused!,
  ETIMEDOUT: BY_NAME.TimedOut!,
  ERR_STREAM_DESTROYED: BY_NAME.BadResource!,
  ERR_SOCKET_CLOSED: BY_NAME.BadResource!,
  ERR_STREAM_WRITE_AFTER_END: BY_NAME.BadResource!,
  ERR_STREAM_PREMATURE_CLOSE: BY_NAME.ConnectionReset!,
  ENOTFOUND: hostNotFound,
  EAI_AGAIN: hostNotFound,
  EAI_FAIL: hostNotFound,
  EAI_NONAME: hostNotFound,
  EAI_NODATA: hostNotFound,
};

/**
 * Maps a runtime's error to the matching tcpframe class, keeping the
 * original as `cause`; returns anything it does not recognise unchanged.
 *
 * It looks only at the error's `name` (Deno's `Deno.errors.*` classes and
 * `DOMException`) and `code` (Node's system errors), so it works without
 * importing any runtime. Every tcpframe function that talks to a reader or a
 * writer already applies it; call it yourself on errors from your own socket
 * code.
 *
 * | runtime error                                  | becomes                 |
 * | ---------------------------------------------- | ----------------------- |
 * | `ConnectionReset`, `ECONNRESET`, `ECONNABORTED` | `ConnectionResetError`  |
 * | `UnexpectedEof` (Deno, TLS without close_notify) | `ConnectionResetError` |
 * | `BrokenPipe`, `EPIPE`                          | `BrokenPipeError`       |
 * | `ConnectionRefused`, `ECONNREFUSED`            | `ConnectionRefusedError`|
 * | `ENOTFOUND`, `EAI_AGAIN`, Deno's failed lookup  | `HostNotFoundError`    |
 * | `Interrupted`, `BadResource`, destroyed stream | `ConnectionClosedError` |
 * | `TimedOut`, `ETIMEDOUT`, DOMException `TimeoutError` | `TimeoutError`    |
 * | DOMException `AbortError`                      | `AbortedError`          |
 *
 * @param error Anything thrown.
 * @returns A {@linkcode TcpFrameError}, or `error` itself when unrecognised.
 *
 * @example Deno's and Node's resets become one class
 * ```ts
 * import { ConnectionResetError, normalizeError } from "@tcpframe/tcpframe";
 * import assert from "node:assert/strict";
 *
 * const nodeError = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
 * const mapped = normalizeError(nodeError);
 * assert.ok(mapped instanceof ConnectionResetError);
 * assert.equal(mapped.code, "CONNECTION_RESET");
 * assert.equal(mapped.cause, nodeError);
 *
 * const other = new Error("something else");
 * assert.equal(normalizeError(other), other);
 * ```
 */
export function normalizeError(error: unknown): unknown {
  if (error instanceof TcpFrameError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const byCode = typeof code === "string" ? BY_CODE[code] : undefined;
  const make = byCode ?? BY_NAME[error.name] ??
    (error.message.startsWith(DENO_LOOKUP_FAILED) ? hostNotFound : undefined);
  return make === undefined ? error : make(error);
}
