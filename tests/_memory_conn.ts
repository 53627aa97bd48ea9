// In-memory connections with half-close, reset and an event log, and a
// listener whose connections come from dial(): servers tested without
// sockets, on Deno and on Node.
import type { Conn, Listener, NetAddr, UnixAddr } from "tcpframe";

export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** One direction of a connection: bytes, then FIN or RST. */
class Channel {
  readonly chunks: Uint8Array[] = [];
  fin = false;
  reset = false;
  #wake: (() => void) | null = null;

  notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

/** Options for {@linkcode memoryPair}. */
export interface PairOptions {
  /** Events of both ends, in order: "a write 12", "a fin", "b close". */
  events?: string[];
  /** The most bytes one `write` takes on the client end (short writes). */
  clientMaxWrite?: number;
  /** Addresses of the two ends. */
  clientAddr?: NetAddr | UnixAddr;
  serverAddr?: NetAddr | UnixAddr;
}

/** One end of an in-memory connection. */
export class MemoryConn implements Conn {
  readonly #name: string;
  readonly #in: Channel;
  readonly #out: Channel;
  readonly #events: string[];
  readonly #maxWrite: number;
  readonly localAddr: NetAddr | UnixAddr;
  readonly remoteAddr: NetAddr | UnixAddr;
  closed = false;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;
  /** A write waits until this resolves (a peer that does not read). */
  writeGate: Promise<void> = Promise.resolve();

  constructor(
    name: string,
    inbound: Channel,
    outbound: Channel,
    events: string[],
    maxWrite: number,
    local: NetAddr | UnixAddr,
    remote: NetAddr | UnixAddr,
  ) {
    this.#name = name;
    this.#in = inbound;
    this.#out = outbound;
    this.#events = events;
    this.#maxWrite = maxWrite;
    this.localAddr = local;
    this.remoteAddr = remote;
  }

  /** The port of a TCP end (the peer= part of log lines). */
  get localPort(): number {
    if (!("port" in this.localAddr)) throw new Error("not a TCP end");
    return this.localAddr.port;
  }

  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.closed) throw namedError("BadResource", "Bad resource ID");
      const channel = this.#in;
      if (channel.reset) {
        throw namedError("ConnectionReset", "Connection reset by peer");
      }
      const chunk = channel.chunks[0];
      if (chunk !== undefined) {
        const n = Math.min(p.byteLength, chunk.byteLength);
        p.set(chunk.subarray(0, n));
        if (n === chunk.byteLength) channel.chunks.shift();
        else channel.chunks[0] = chunk.subarray(n);
        return n;
      }
      if (channel.fin) {
        this.#events.push(`${this.#name} eof`);
        return null;
      }
      await channel.wait();
    }
  }

  async write(p: Uint8Array): Promise<number> {
    await this.writeGate;
    if (this.closed) throw namedError("BadResource", "Bad resource ID");
    if (this.#out.reset || this.#in.reset) {
      throw namedError("ConnectionReset", "Connection reset by peer");
    }
    if (this.#out.fin) throw namedError("BrokenPipe", "Broken pipe");
    const n = Math.min(p.byteLength, this.#maxWrite);
    this.#out.chunks.push(p.slice(0, n));
    this.#events.push(`${this.#name} write ${n}`);
    this.#out.notify();
    return n;
  }

  closeWrite(): Promise<void> {
    if (this.closed) {
      return Promise.reject(namedError("BadResource", "Bad resource ID"));
    }
    if (!this.#out.fin) {
      this.#out.fin = true;
      this.#events.push(`${this.#name} fin`);
      this.#out.notify();
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#events.push(`${this.#name} close`);
    this.#out.fin = true;
    this.#out.notify();
    this.#in.notify();
  }

  /** Aborts the connection: the peer's reads and writes fail with a reset. */
  reset(): void {
    this.#out.reset = true;
    this.#in.reset = true;
    this.#events.push(`${this.#name} reset`);
    this.#out.notify();
    this.#in.notify();
  }

  setNoDelay(noDelay = true): void {
    this.noDelay = noDelay;
  }

  setKeepAlive(keepAlive = true): void {
    this.keepAlive = keepAlive;
  }
}

let nextPort = 40000;

/** A connected pair: [client, server]. */
export function memoryPair(
  options: PairOptions = {},
): [MemoryConn, MemoryConn] {
  const events = options.events ?? [];
  const up = new Channel();
  const down = new Channel();
  const server = options.serverAddr ??
    { transport: "tcp", hostname: "10.0.0.1", port: 9000 };
  const client = options.clientAddr ??
    (server.transport === "unix"
      ? { transport: "unix", path: "" }
      : { transport: "tcp", hostname: "10.0.0.2", port: nextPort++ });
  return [
    new MemoryConn(
      "client",
      down,
      up,
      events,
      options.clientMaxWrite ?? Infinity,
      client,
      server,
    ),
    new MemoryConn("server", up, down, events, Infinity, server, client),
  ];
}

/** A listener whose connections come from `dial()`. */
export class MemoryListener implements Listener<MemoryConn> {
  readonly addr: NetAddr | UnixAddr;
  readonly #queue: MemoryConn[] = [];
  #waiter: ((conn: MemoryConn | null) => void) | null = null;
  #closed = false;
  /** Every server-side connection accepted or refused, in order. */
  readonly accepted: MemoryConn[] = [];

  constructor(
    addr: NetAddr | UnixAddr = {
      transport: "tcp",
      hostname: "10.0.0.1",
      port: 9000,
    },
  ) {
    this.addr = addr;
  }

  /** Connects a new client; returns the client's end. */
  dial(options: PairOptions = {}): MemoryConn {
    if (this.#closed) {
      throw namedError("ConnectionRefused", "Connection refused");
    }
    const [client, server] = memoryPair({ ...options, serverAddr: this.addr });
    this.accepted.push(server);
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null) waiter(server);
    else this.#queue.push(server);
    return client;
  }

  async accept(): Promise<MemoryConn> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return queued;
    if (this.#closed) {
      throw namedError("BadResource", "Listener has been closed");
    }
    const conn = await new Promise<MemoryConn | null>((resolve) =>
      this.#waiter = resolve
    );
    if (conn === null) {
      throw namedError("BadResource", "Listener has been closed");
    }
    return conn;
  }

  close(): void {
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(null);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<MemoryConn> {
    for (;;) yield await this.accept();
  }
}

/** Resolves once `predicate()` holds, checking after each macrotask. */
export async function until(
  predicate: () => boolean,
  what = "a condition",
): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`Gave up waiting for ${what}`);
}
