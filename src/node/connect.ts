/**
 * {@linkcode connect}: open a TCP or Unix domain socket connection with
 * `node:net`, the way `Deno.connect` does.
 *
 * @module
 */

import { connect as netConnect, type Socket } from "node:net";
import {
  ConnectionRefusedError,
  HostNotFoundError,
  normalizeError,
} from "../errors.ts";
import type { NetAddr, SignalOptions, UnixAddr } from "../types.ts";
import { fromSocket, type NodeConn } from "./conn.ts";

/**
 * Options for {@linkcode connect}.
 *
 * @example Connect with a deadline, Nagle left on
 * ```ts
 * import { type ConnectOptions, connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const options: ConnectOptions = {
 *   hostname: "127.0.0.1",
 *   port: listener.addr.port,
 *   signal: AbortSignal.timeout(5000),
 *   noDelay: false,
 * };
 * const [conn, peer] = await Promise.all([connect(options), listener.accept()]);
 * assert.equal(conn.remoteAddr.port, listener.addr.port);
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export interface ConnectOptions extends SignalOptions {
  /**
   * The host to connect to: an IP address or a name to resolve.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to connect to, 1 to 65535. */
  port: number;
  /**
   * Turns Nagle's algorithm off, so small messages go out at once. Node
   * and Deno leave it on by default; tcpframe turns it off, since a
   * request/response protocol otherwise waits up to 40 ms per exchange.
   *
   * @default {true}
   */
  noDelay?: boolean;
}

/**
 * Options for {@linkcode connect} over a Unix domain socket: the shape of
 * `Deno.connect({ transport: "unix", path })`.
 *
 * @example Connect to a socket file
 * ```ts
 * import { connect, listen, type UnixConnectOptions } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "tcpframe-"));
 * const listener = await listen({ path: join(dir, "app.sock") });
 * const options: UnixConnectOptions = { transport: "unix", path: listener.addr.path };
 * const [conn, peer] = await Promise.all([connect(options), listener.accept()]);
 * assert.deepEqual(conn.remoteAddr, { transport: "unix", path: listener.addr.path });
 * conn.close();
 * peer.close();
 * listener.close();
 * rmSync(dir, { recursive: true });
 * ```
 */
export interface UnixConnectOptions extends SignalOptions {
  /**
   * The transport, as `Deno.connect` takes it; optional here, as `path`
   * says it already.
   *
   * @default {"unix"}
   */
  transport?: "unix";
  /** The socket file's path. */
  path: string;
}

/**
 * Opens a TCP connection, like `Deno.connect`, and returns it as a
 * {@linkcode NodeConn}. The socket is created with `allowHalfOpen: true`, so
 * `closeWrite()` and the peer's half-close work as on Deno.
 *
 * @param options Where to connect, and a signal to give up.
 * @returns The connection, once established.
 */
export function connect(options: ConnectOptions): Promise<NodeConn<NetAddr>>;
/**
 * Opens a Unix domain socket connection to `path`, like
 * `Deno.connect({ transport: "unix", path })`; its `remoteAddr` is the path.
 *
 * @param options The socket file's path, and a signal to give up.
 * @returns The connection, once established.
 */
export function connect(
  options: UnixConnectOptions,
): Promise<NodeConn<UnixAddr>>;
/**
 * Opens a TCP connection (`hostname` and `port`), or a Unix domain socket
 * connection (`path`), like `Deno.connect`, and returns it as a
 * {@linkcode NodeConn}. The socket is created with `allowHalfOpen: true`, so
 * `closeWrite()` and the peer's half-close work as on Deno.
 *
 * @param options Where to connect, and a signal to give up.
 * @returns The connection, once established.
 * @throws {ConnectionRefusedError} Nobody listens at the address (for a
 * path: the file is not a listening socket); Node's `ECONNREFUSED` error is
 * the `cause`.
 * @throws {HostNotFoundError} `hostname` did not resolve (`ENOTFOUND`,
 * `EAI_AGAIN`); Node's error is the `cause`.
 * @throws {TimeoutError} The OS gave up (`ETIMEDOUT`).
 * @throws {RangeError} `port` is not an integer from 1 to 65535.
 * @throws {TypeError} `path` is not a non-empty string.
 * @throws {unknown} `signal.reason` when the signal aborts first; the
 * half-open socket is destroyed. Other Node errors (such as `ENOENT` for a
 * missing socket file) are passed on unchanged.
 *
 * @example Connect with a deadline, send a request, read the reply
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const serving = (async () => {
 *   const peer = await listener.accept();
 *   await writeAll(peer, await readExact(peer, 2)); // echo two bytes
 *   peer.close();
 * })();
 *
 * const conn = await connect({
 *   port: listener.addr.port,
 *   signal: AbortSignal.timeout(5000),
 * });
 * await writeAll(conn, new Uint8Array([7, 9]));
 * assert.deepEqual(await readExact(conn, 2), new Uint8Array([7, 9]));
 * conn.close();
 * await serving;
 * listener.close();
 * ```
 */
export async function connect(
  options: ConnectOptions | UnixConnectOptions,
): Promise<NodeConn<NetAddr> | NodeConn<UnixAddr>> {
  if ("path" in options) return await _connectUnix(options);
  const { hostname = "127.0.0.1", port, signal, noDelay = true } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Cannot connect to port ${port}: expected an integer from 1 to 65535`,
    );
  }
  signal?.throwIfAborted();
  const socket = netConnect({ host: hostname, port, allowHalfOpen: true });
  await _connected(socket, `${hostname}:${port}`, signal);
  socket.setNoDelay(noDelay);
  return fromSocket<NetAddr>(socket);
}

async function _connectUnix(
  options: UnixConnectOptions,
): Promise<NodeConn<UnixAddr>> {
  const { path, signal } = options;
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot connect: path must be a non-empty string, got ${
        JSON.stringify(path)
      }`,
    );
  }
  signal?.throwIfAborted();
  const socket = netConnect({ path, allowHalfOpen: true });
  await _connected(socket, path, signal);
  return fromSocket<UnixAddr>(socket, {
    localAddr: { transport: "unix", path: "" },
    remoteAddr: { transport: "unix", path },
  });
}

/**
 * Waits for `socket` to connect; destroys it and throws the mapped error if
 * it fails or `signal` aborts first.
 */
async function _connected(
  socket: Socket,
  where: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        socket.off("connect", onConnect);
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onConnect = () => settle();
      const onError = (error: Error) => {
        const mapped = normalizeError(error);
        settle(
          mapped instanceof ConnectionRefusedError
            ? new ConnectionRefusedError(
              `Cannot connect to ${where}: connection refused`,
              { cause: error },
            )
            : mapped instanceof HostNotFoundError
            ? new HostNotFoundError(
              `Cannot connect to ${where}: host not found (${
                (error as { code?: string }).code
              })`,
              { cause: error },
            )
            : mapped,
        );
      };
      const onAbort = () => settle(signal?.reason);
      socket.once("connect", onConnect);
      socket.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  } catch (error) {
    socket.on("error", () => {}); // a late error of a dropped socket
    socket.destroy();
    throw error;
  }
}
