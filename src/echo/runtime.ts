/**
 * What the echo CLI needs from a runtime, and nothing more.
 *
 * The echo server and client in `src/echo/` are runtime-neutral: they never
 * touch `Deno` or `node:*`. A binding (`src/deno/echo.ts`, later a Node one)
 * builds one {@linkcode EchoRuntime} and hands it to `runCli()`.
 *
 * @module
 */

import type { Conn, Listener } from "../types.ts";

/**
 * A sink of text, written in order.
 *
 * @example Collect what the CLI writes to standard error
 * ```ts
 * import { denoEchoRuntime, runCli } from "@tcpframe/tcpframe/echo";
 * import assert from "node:assert/strict";
 *
 * let errors = "";
 * const stderr = { write: (text: string) => void (errors += text) };
 * const code = await runCli(["client"], { ...denoEchoRuntime(), stderr });
 * assert.equal(code, 2);
 * assert.equal(errors.split("\n")[0], "error: client: missing <port>");
 * ```
 */
export interface TextOutput {
  /**
   * Writes `text` as is (no newline is added). Must not throw: a closed
   * output (a pipe whose reader went away) is ignored.
   *
   * @param text The text to write.
   */
  write(text: string): void;
}

/**
 * Everything runtime-specific the echo CLI uses. Spread a binding's runtime
 * and replace parts of it to embed or test the CLI.
 *
 * @example Deno's runtime with standard output captured
 * ```ts
 * import {
 *   denoEchoRuntime,
 *   type EchoRuntime,
 *   runCli,
 * } from "@tcpframe/tcpframe/echo";
 * import assert from "node:assert/strict";
 *
 * let printed = "";
 * const runtime: EchoRuntime = {
 *   ...denoEchoRuntime(),
 *   stdout: { write: (text) => void (printed += text) },
 * };
 * assert.equal(await runCli(["--help"], runtime), 0);
 * assert.match(printed, /^Usage:\n/);
 * ```
 */
export interface EchoRuntime {
  /**
   * How users start the CLI, for the usage text, e.g.
   * `deno run -N jsr:@tcpframe/tcpframe/echo`.
   */
  readonly command: string;
  /**
   * Listens for TCP connections on one address.
   *
   * @param hostname A numeric IP address (already resolved).
   * @param port The port; `0` lets the OS pick one.
   * @param options `reusePort: true` shares the port with other processes
   * that set it too (`SO_REUSEPORT`: Linux spreads the connections); a
   * runtime without it rejects.
   * @returns The listener; its `addr` has the real port.
   */
  listen(
    hostname: string,
    port: number,
    options?: { reusePort?: boolean },
  ): Promise<Listener>;
  /**
   * Connects to one address.
   *
   * @param hostname A numeric IP address (already resolved).
   * @param port The port.
   * @param signal Cancels the attempt.
   * @returns The connection.
   */
  connect(
    hostname: string,
    port: number,
    signal: AbortSignal | undefined,
  ): Promise<Conn>;
  /**
   * Listens on a Unix domain socket.
   *
   * @param path The socket file to create; it must not exist.
   * @returns The listener; closing it removes the file.
   */
  listenUnix(path: string): Promise<Listener>;
  /**
   * Connects to a Unix domain socket.
   *
   * @param path The socket file.
   * @param signal Cancels the attempt.
   * @returns The connection.
   */
  connectUnix(path: string, signal: AbortSignal | undefined): Promise<Conn>;
  /**
   * Resolves a host name the way `getaddrinfo()` does (including
   * `/etc/hosts`): every address, in the order the system prefers. A
   * numeric address resolves to itself.
   *
   * @param hostname The name or address.
   * @returns The numeric addresses, at least one.
   */
  resolve(hostname: string): Promise<string[]>;
  /**
   * Calls `handler` on every SIGINT or SIGTERM (or what the platform has
   * instead) until the returned function is called.
   *
   * @param handler What to do on a shutdown signal.
   * @returns A function that removes the handler.
   */
  onShutdown(handler: () => void): () => void;
  /** Standard output: log lines and echoes. */
  readonly stdout: TextOutput;
  /** Standard error: errors, usage and the progress line. */
  readonly stderr: TextOutput;
  /**
   * The lines of standard input, without their line endings.
   *
   * @returns The lines, as they arrive.
   */
  stdinLines(): AsyncIterable<string>;
  /**
   * Whether standard error is a terminal (the progress line is only shown
   * there).
   *
   * @returns `true` for a terminal.
   */
  isTerminal(): boolean;
  /**
   * A monotonic clock in milliseconds, for rates and the progress line.
   *
   * @returns The time now.
   */
  now(): number;
}
