/**
 * Connecting like the source's `getaddrinfo()` loop: resolve the host, try
 * every address in turn; or to a Unix domain socket path.
 *
 * @module
 */

import type { Conn } from "../types.ts";
import { formatHostPort, formatUnixPath } from "./_address.ts";
import { lookupFailure, messageOf } from "./_describe_error.ts";
import type { EchoLog } from "./log.ts";
import type { Endpoint } from "./options.ts";
import type { EchoRuntime } from "./runtime.ts";

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** Resolves the host; see {@linkcode EchoRuntime.resolve}. */
  resolve: EchoRuntime["resolve"];
  /** Connects to one address; see {@linkcode EchoRuntime.connect}. */
  connect: EchoRuntime["connect"];
  /** Connects to a socket path; see {@linkcode EchoRuntime.connectUnix}. */
  connectUnix: EchoRuntime["connectUnix"];
  /** Where `[connect-fail]` and `[connected]` lines go. */
  log: EchoLog;
  /**
   * Stops trying when it aborts.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** A connection made by {@linkcode dial}. */
export interface Dialed {
  /** The connection, with `TCP_NODELAY` set where it exists. */
  conn: Conn;
  /** The address it connected to: `host:port`, `[v6]:port`, `unix:<path>`. */
  address: string;
}

/**
 * Connects to the endpoint: a Unix socket path, or a host that is resolved
 * and whose addresses are tried in turn until one accepts:
 * `[connect-fail] <error> to <addr>` for each failure, then
 * `[connected] <addr>`.
 *
 * @param endpoint `{ host, port }` (a name or an address) or `{ path }`.
 * @param options How to resolve and connect, and the log.
 * @returns The first connection made.
 * @throws {Error} The host did not resolve, or no address accepted; the
 * message says which.
 */
export async function dial(
  endpoint: Endpoint,
  options: DialOptions,
): Promise<Dialed> {
  const { log, signal } = options;
  if ("path" in endpoint) {
    const shown = formatUnixPath(endpoint.path);
    let conn: Conn;
    try {
      conn = await options.connectUnix(endpoint.path, signal);
    } catch (error) {
      log.error(`[connect-fail] ${messageOf(error)} to ${shown}`);
      throw new Error(`Cannot connect to ${shown}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    log.info(`[connected] ${shown}`);
    return { conn, address: shown };
  }
  const { host, port } = endpoint;
  let addresses: string[];
  try {
    addresses = await options.resolve(host);
  } catch (error) {
    throw new Error(`Cannot resolve ${host}: ${lookupFailure(error)}`, {
      cause: error,
    });
  }
  for (const address of addresses) {
    const shown = formatHostPort(address, port);
    let conn: Conn;
    try {
      conn = await options.connect(address, port, signal);
    } catch (error) {
      log.error(`[connect-fail] ${messageOf(error)} to ${shown}`);
      if (signal?.aborted) break;
      continue;
    }
    try {
      // Frames are written whole, so Nagle's algorithm only adds delay.
      conn.setNoDelay?.(true);
    } catch {
      // An optimisation only.
    }
    log.info(`[connected] ${shown}`);
    return { conn, address: shown };
  }
  throw new Error(
    signal?.aborted
      ? `Cannot connect to ${host} port ${port}: ${messageOf(signal.reason)}`
      : `Cannot connect to ${host} port ${port}: ${
        addresses.length === 1
          ? "the address"
          : `all ${addresses.length} addresses`
      } failed`,
  );
}
