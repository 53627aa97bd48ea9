/**
 * Connecting like the source's `getaddrinfo()` loop: resolve the host, try
 * every address in turn.
 *
 * @module
 */

import type { Conn } from "../types.ts";
import { formatHostPort } from "./_address.ts";
import { lookupFailure, messageOf } from "./_describe_error.ts";
import type { EchoLog } from "./log.ts";
import type { EchoRuntime } from "./runtime.ts";

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** Resolves the host; see {@linkcode EchoRuntime.resolve}. */
  resolve: EchoRuntime["resolve"];
  /** Connects to one address; see {@linkcode EchoRuntime.connect}. */
  connect: EchoRuntime["connect"];
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
  /** The address it connected to, as `host:port` or `[v6]:port`. */
  address: string;
}

/**
 * Resolves `host` and connects to each address in turn until one accepts:
 * `[connect-fail] <error> to <addr>` for each failure, then
 * `[connected] <addr>`.
 *
 * @param host A name or an address.
 * @param port The port.
 * @param options How to resolve and connect, and the log.
 * @returns The first connection made.
 * @throws {Error} The host did not resolve, or no address accepted; the
 * message says which.
 */
export async function dial(
  host: string,
  port: number,
  options: DialOptions,
): Promise<Dialed> {
  const { log, signal } = options;
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
