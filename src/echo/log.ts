/**
 * The echo server's and client's logging sink.
 *
 * @module
 */

import type { TextOutput } from "./runtime.ts";

/**
 * Where the echo server and client write their log lines, one line per call
 * without the newline. `info` lines are the normal story (`[listen-ok]`,
 * `[accept]`, `[done]`, `[connected]`, `[echoed]`); `error` lines are what
 * went wrong (`[error]`, `[connect-fail]`, `[bind-fail]`, `[reject]`).
 */
export interface EchoLog {
  /**
   * Logs a normal event.
   *
   * @param line The line, without a newline.
   */
  info(line: string): void;
  /**
   * Logs a failure.
   *
   * @param line The line, without a newline.
   */
  error(line: string): void;
}

/**
 * A log that writes `info` lines to `stdout` and `error` lines to `stderr`,
 * as the source document's `echo.cpp` does.
 *
 * @param stdout Where `info` lines go.
 * @param stderr Where `error` lines go.
 * @returns The log.
 */
export function logTo(stdout: TextOutput, stderr: TextOutput): EchoLog {
  return {
    info: (line) => stdout.write(line + "\n"),
    error: (line) => stderr.write(line + "\n"),
  };
}

/** A log that drops every line. */
export const SILENT_LOG: EchoLog = { info() {}, error() {} };
