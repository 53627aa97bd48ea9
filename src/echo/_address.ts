// Printing addresses the way the source's getnameinfo() lines do, with IPv6
// in brackets so the port stays readable: 127.0.0.1:9000, [::1]:9000; a
// Unix domain socket as the CLI takes it: unix:/tmp/echo.sock.

import type { NetAddr, UnixAddr } from "../types.ts";

/** `host:port`, or `[host]:port` for an IPv6 address. */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/** `unix:<path>`, or `unix:(unnamed)` for a socket without a path. */
export function formatUnixPath(path: string | null | undefined): string {
  return `unix:${path ? path : "(unnamed)"}`;
}

/**
 * A connection's address as `host:port`, `unix:<path>` (Deno reports an
 * unnamed socket's path as `null`, Node as `""`: both print as
 * `unix:(unnamed)`), or `(unknown)`.
 */
export function formatAddress(
  addr: NetAddr | UnixAddr | { transport: string } | undefined,
): string {
  if (addr === undefined) return "(unknown)";
  if ("hostname" in addr) return formatHostPort(addr.hostname, addr.port);
  if (addr.transport === "unix" && "path" in addr) {
    return formatUnixPath(addr.path);
  }
  return "(unknown)";
}
