// The connection a served session writes through: it counts the bytes
// written (with the bytes the session's FrameClock counts as read, the
// server's idle clock), and once the session is aborted it turns the errors
// of the socket the server closed into the abort's reason, so the handler
// sees why (a TimeoutError, say) rather than "connection closed". Reads go
// straight through: the FrameClock above them does the same for reads.

import type { Conn, NetAddr, UnixAddr } from "./types.ts";

/** An address as a `Conn` may report it. */
export type AnyAddr = NetAddr | UnixAddr | { transport: string };

const UNKNOWN_ADDR: AnyAddr = { transport: "unknown" };

/** A {@linkcode Conn} that counts the bytes written through it. */
export class SessionConn implements Conn {
  /** Bytes written so far. */
  written = 0;
  /** Whether `close()` was called (by the handler, or the server). */
  closed = false;
  readonly #inner: Conn;
  readonly #signal: AbortSignal;

  constructor(inner: Conn, signal: AbortSignal) {
    this.#inner = inner;
    this.#signal = signal;
  }

  get localAddr(): AnyAddr {
    return this.#inner.localAddr ?? UNKNOWN_ADDR;
  }

  get remoteAddr(): AnyAddr {
    return this.#inner.remoteAddr ?? UNKNOWN_ADDR;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#inner.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#inner.write(p).then(this.#wrote, this.#fail);
  }

  closeWrite(): Promise<void> {
    return this.#inner.closeWrite().catch(this.#fail);
  }

  close(): void {
    this.closed = true;
    this.#inner.close();
  }

  setNoDelay(noDelay?: boolean): void {
    this.#inner.setNoDelay?.(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    this.#inner.setKeepAlive?.(keepAlive);
  }

  // Bound once: no closure per call.
  readonly #wrote = (n: number): number => {
    this.written += n;
    return n;
  };

  readonly #fail = (error: unknown): never => {
    throw this.#signal.aborted ? this.#signal.reason : error;
  };
}
