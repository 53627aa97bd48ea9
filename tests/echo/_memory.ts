// A scripted EchoRuntime over in-memory connections: the echo server and
// client tested without sockets.
import type { NetAddr } from "tcpframe";
import type { EchoRuntime, TextOutput } from "../../src/echo/runtime.ts";
import {
  type MemoryConn,
  MemoryListener,
  namedError,
} from "../_memory_conn.ts";

export {
  type MemoryConn,
  MemoryListener,
  memoryPair,
  type PairOptions,
  until,
} from "../_memory_conn.ts";

/** Collects text written to it. */
export class TextSink implements TextOutput {
  text = "";
  write(text: string): void {
    this.text += text;
  }
  get lines(): string[] {
    return this.text.split("\n").filter((line) => line !== "");
  }
}

/** A log that keeps its lines. */
export function memoryLog(): {
  info(line: string): void;
  error(line: string): void;
  lines: string[];
} {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => void lines.push(line),
    error: (line) => void lines.push(line),
  };
}

/** An EchoRuntime over in-memory listeners; every address is "10.0.0.1". */
export class MemoryRuntime implements EchoRuntime {
  readonly command = "echo";
  readonly stdout = new TextSink();
  readonly stderr = new TextSink();
  readonly listeners = new Map<number, MemoryListener>();
  /** Unix listeners by path. */
  readonly unixListeners = new Map<string, MemoryListener>();
  /** Host name to addresses; a name not here fails to resolve. */
  hosts: Record<string, string[]> = { "10.0.0.1": ["10.0.0.1"] };
  stdin: string[] = [];
  terminal = false;
  #shutdown: (() => void) | null = null;

  /** Addresses where `listen()` fails. */
  unbindable = new Set<string>();
  /** Called with the client's end of every connection made. */
  onDial: ((client: MemoryConn) => void) | null = null;

  /** The options of every `listen()` call, in order. */
  readonly listenOptions: ({ reusePort?: boolean } | undefined)[] = [];

  listen(
    hostname: string,
    port: number,
    options?: { reusePort?: boolean },
  ): Promise<MemoryListener> {
    this.listenOptions.push(options);
    if (this.unbindable.has(hostname)) {
      return Promise.reject(
        namedError("AddrNotAvailable", "Cannot assign requested address"),
      );
    }
    const addr: NetAddr = { transport: "tcp", hostname, port: port || 9000 };
    const listener = new MemoryListener(addr);
    this.listeners.set(addr.port, listener);
    return Promise.resolve(listener);
  }

  listenUnix(path: string): Promise<MemoryListener> {
    if (this.unixListeners.has(path)) {
      return Promise.reject(
        namedError("AddrInUse", "Address already in use (os error 98)"),
      );
    }
    const listener = new MemoryListener({ transport: "unix", path });
    this.unixListeners.set(path, listener);
    return Promise.resolve(listener);
  }

  connectUnix(path: string): Promise<MemoryConn> {
    const listener = this.unixListeners.get(path);
    if (listener === undefined || listener.closed) {
      return Promise.reject(
        namedError("NotFound", "No such file or directory (os error 2)"),
      );
    }
    const client = listener.dial();
    this.onDial?.(client);
    return Promise.resolve(client);
  }

  connect(hostname: string, port: number): Promise<MemoryConn> {
    const listener = this.listeners.get(port);
    if (
      listener === undefined || listener.closed ||
      !("hostname" in listener.addr) || listener.addr.hostname !== hostname
    ) {
      return Promise.reject(
        namedError("ConnectionRefused", "Connection refused (os error 111)"),
      );
    }
    const client = listener.dial();
    this.onDial?.(client);
    return Promise.resolve(client);
  }

  resolve(hostname: string): Promise<string[]> {
    const found = this.hosts[hostname];
    return found === undefined
      ? Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: "ENOTFOUND",
        }),
      )
      : Promise.resolve(found);
  }

  onShutdown(handler: () => void): () => void {
    this.#shutdown = handler;
    return () => {
      this.#shutdown = null;
    };
  }

  /** Plays SIGINT. */
  signal(): void {
    this.#shutdown?.();
  }

  async *stdinLines(): AsyncIterable<string> {
    for (const line of this.stdin) {
      await Promise.resolve();
      yield line;
    }
  }

  isTerminal(): boolean {
    return this.terminal;
  }

  now(): number {
    return performance.now();
  }
}
