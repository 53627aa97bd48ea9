// The connection a served session reads and writes through: it counts the
// bytes moved either way (the server's idle clock reads the count), and once
// the session is aborted it turns the errors of the socket the server closed
// into the abort's reason, so the handler sees why (a TimeoutError, say)
// rather than "connection closed".

import type { Conn, NetAddr, UnixAddr } from "./types.ts";

/** An address as a `Conn` may report it. */
export type AnyAddr = NetAddr | UnixAddr | { transport: string };

const UNKNOWN_ADDR: AnyAddr = { transport: "unknown" };

/** A {@linkcode Conn} that counts the bytes moved through it. */
export class SessionConn implements Conn {
  /** Bytes read plus bytes written so far. */
  moved = 0;
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
    return this.#inner.read(p).then((n) => {
      if (n !== null) this.moved += n;
      return n;
    }, (error) => this.#fail(error));
  }

  write(p: Uint8Array): Promise<number> {
    return this.#inner.write(p).then((n) => {
      this.moved += n;
      return n;
    }, (error) => this.#fail(error));
  }

  closeWrite(): Promise<void> {
    return this.#inner.closeWrite().catch((error) => this.#fail(error));
  }

  close(): void {
    this.#inner.close();
  }

  setNoDelay(noDelay?: boolean): void {
    this.#inner.setNoDelay?.(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    this.#inner.setKeepAlive?.(keepAlive);
  }

  #fail(error: unknown): never {
    throw this.#signal.aborted ? this.#signal.reason : error;
  }
}
