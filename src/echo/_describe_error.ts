// One-line descriptions of errors for the log: "<code>: <message>".

import { HostNotFoundError, normalizeError, TcpFrameError } from "../errors.ts";

/**
 * `CODE: message` for a tcpframe error (after mapping runtime errors), else
 * `Name: message`.
 */
export function describeError(error: unknown): string {
  const mapped = normalizeError(error);
  if (mapped instanceof TcpFrameError) {
    return `${mapped.code}: ${mapped.message}`;
  }
  if (mapped instanceof Error) return `${mapped.name}: ${mapped.message}`;
  return `Error: ${String(mapped)}`;
}

/** The message alone, after mapping runtime errors (for `[connect-fail]`). */
export function messageOf(error: unknown): string {
  const mapped = normalizeError(error);
  return mapped instanceof Error ? mapped.message : String(mapped);
}

/**
 * Why a host name did not resolve, for "cannot resolve <host>: <why>":
 * `host not found` (the error names the host again), else the message.
 */
export function lookupFailure(error: unknown): string {
  return normalizeError(error) instanceof HostNotFoundError
    ? "host not found"
    : messageOf(error);
}
